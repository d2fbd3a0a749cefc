"""Curves: training and validation loss (and accuracy) against epochs, from the run's events; the
stages of a staged run (layer-wise pretraining) are marked where they begin."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from workbench.training.events import Event, Probe
from workbench.ui.insight.base import InsightPanel, StageMarks, fit_canvas, outside_legend, set_title, styled_plot

STACK_RATIO = 1.4  # a panel narrower than this (width / height) stacks its two plots
LIVE_REDRAW_MS = 250  # live curves repaint a few times a second: each repaint takes CPU from training

SERIES = (("loss", "train_loss", "batch", "per step", (150, 150, 150)),
          ("loss", "train_loss", "epoch", "train (epoch)", (31, 119, 180)),
          ("loss", "val_loss", "epoch", "validation", (214, 39, 40)),
          ("accuracy", "train_accuracy", "epoch", "train", (31, 119, 180)),
          ("accuracy", "val_accuracy", "epoch", "validation", (214, 39, 40)))


class CurvesPanel(InsightPanel):
    kind = ""  # drawn from metrics events: needs no probe
    title = "Curves"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.events: list[Event] = []  # start, batch and epoch events
        self._stale = False
        self._refresh_timer = QTimer(self, singleShot=True, interval=LIVE_REDRAW_MS, timeout=self._live_refresh)
        self.plots = {"loss": styled_plot(self.canvas.addPlot(row=0, col=0), "Loss", "epoch", "loss"),
                      "accuracy": styled_plot(self.canvas.addPlot(row=0, col=1), "Accuracy", "epoch", "accuracy")}
        self.stage_marks = StageMarks(list(self.plots.values()))
        self.lines = []
        for plot_name, key, event, label, colour in SERIES:
            plot = self.plots[plot_name]
            symbol = "o" if event == "epoch" else None
            line = plot.plot([], [], pen=pg.mkPen(colour, width=2 if event == "epoch" else 1), symbol=symbol,
                             symbolSize=5, symbolBrush=colour, symbolPen=None, name=label)
            self.lines.append((line, key, event))
        # one legend, under the loss: the accuracy's curves have the same colours
        self.legend = outside_legend(self.canvas, self.plots["loss"], row=1, col=0)
        self._side_by_side = True
        self.refresh()

    def set_metrics(self, events: Sequence[Event]) -> None:
        """A whole run's events (a saved run's metrics.jsonl)."""
        self.events = [e for e in events if e["event"] in ("start", "batch", "epoch")]
        self.refresh()

    def add_event(self, event: Event) -> None:
        self.add_events([event])

    def add_events(self, events: Sequence[Event]) -> None:
        """Live events, drawn once. A "start" of a fresh run (no steps done) begins new curves; one that goes on
        from step N (after a stop, or a resumed run) drops what was recorded beyond N, which the run
        does again."""
        kept = [e for e in events if e["event"] in ("start", "batch", "epoch")]
        for event in kept:
            if event["event"] == "start":
                step = event["global_step"]
                self.events = [e for e in self.events if e["event"] != "start" and e.get("global_step", 0) <= step] \
                    if step else []
            self.events.append(event)
        if kept and not self._refresh_timer.isActive():
            self._refresh_timer.start()  # live events arrive up to 10 times a second: draw a few

    def clear(self) -> None:
        self.events = []
        self.refresh()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        """Loss and accuracy side by side, or one above the other in a narrow column."""
        super().resizeEvent(event)
        side_by_side = self.width() >= STACK_RATIO * self.height()
        if side_by_side == self._side_by_side:
            return
        self._side_by_side = side_by_side
        layout = self.canvas.ci
        items = (self.plots["loss"], self.legend, self.plots["accuracy"])
        for item in items:
            layout.removeItem(item)
        places = ((0, 0), (1, 0), (0, 1)) if side_by_side else ((0, 0), (1, 0), (2, 0))
        for item, (row, col) in zip(items, places):
            layout.addItem(item, row=row, col=col)
        QTimer.singleShot(0, self.canvas, lambda: fit_canvas(self.canvas))

    def update_probe(self, result: Probe) -> None:
        """Curves come from metrics, not probes."""

    def _live_refresh(self) -> None:
        """A hidden panel (a dock behind a tab) draws when it is shown, not while training."""
        self._stale = not self.isVisible()
        if not self._stale:
            self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._stale:
            self._live_refresh()

    def refresh(self) -> None:
        per_epoch = next((e["steps_per_epoch"] for e in reversed(self.events) if e["event"] == "start"), None)
        for line, key, event in self.lines:
            # SERIES names the keys: read generically
            rows: list[Mapping[str, Any]] = [e for e in self.events if e["event"] == event and e.get(key) is not None]
            if event == "batch" and per_epoch:
                x = np.array([e["global_step"] / per_epoch for e in rows], np.float64)
            else:
                x = np.array([e.get("epoch", i) for i, e in enumerate(rows)], np.float64)
            line.setData(x, np.array([e[key] for e in rows], np.float64))
        self.stage_marks.clear()
        self.stage_marks.add(self.events)
        has_accuracy = any(e["event"] == "epoch" and "val_accuracy" in e for e in self.events)
        self.plots["accuracy"].setVisible(has_accuracy)
        last = next((e for e in reversed(self.events) if e["event"] == "epoch"), None)
        title = "Loss" if last is None else f"Loss (epoch {last['epoch']}: validation {last['val_loss']:.4g})"
        set_title(self.plots["loss"], title)
