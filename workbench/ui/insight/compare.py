"""Runs side by side: their curves overlaid, their final metrics in one table, and the architecture of
each diffed layer by layer against the first run's (workbench.training.compare).

    view = CompareView()
    view.set_runs(["runs/a", "runs/b"])    # or the Add run… button; RunError names a folder that is no run
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from workbench.core.catalogue import fmt_shape
from workbench.core.diff import LayerDiff
from workbench.training.compare import METRICS, Comparison, compare_runs, format_metric
from workbench.training.run_folder import open_run
from workbench.ui.insight.base import BACKGROUND, INK, styled_plot
from workbench.ui.shell.style import ERROR, WARNING

RUN_COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207)]
STATUS_COLOURS = {"added": QColor(60, 160, 75), "removed": ERROR, "changed": WARNING}
DIFF_COLUMNS = ("", "layer", "output", "parameters", "MACs", "receptive field")


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "—"
    if key == "output":
        return fmt_shape(tuple(value))
    return f"{value:,}" if isinstance(value, int) else str(value)


def diff_cells(diff: LayerDiff) -> list[str]:
    """A diff row as the table shows it: a mark, the layer, then "old → new" where they differ."""
    a, b = diff["a"], diff["b"]
    mark = {"same": "", "changed": "~", "added": "+", "removed": "−"}[diff["status"]]
    shown = b if b is not None else a
    assert shown is not None
    label = shown["label"] if a is None or b is None or a["label"] == b["label"] else f"{a['label']} → {b['label']}"
    where = f"{shown['index']}" if b is not None else f"was {shown['index']}"
    cells = [mark, f"{where}  {label}"]
    for key in ("output", "params", "macs", "receptive_field"):
        old = _cell(a[key], key) if a is not None else ""  # type: ignore[literal-required]  # LayerRow keys
        new = _cell(b[key], key) if b is not None else ""  # type: ignore[literal-required]
        cells.append(new if a is None else old if b is None or old == new else f"{old} → {new}")
    return cells


def _table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class CompareView(QWidget):
    """Two or more run folders side by side (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Compare runs")
        self.paths: list[str] = []
        self.comparison: Comparison | None = None
        self.add_button = QPushButton("Add run…")
        self.add_button.clicked.connect(self._ask_run)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(lambda: self.set_runs([]))
        self.against = QComboBox()  # which run's diff against the first is shown
        self.against.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.against.currentIndexChanged.connect(lambda _: self._show_diff())
        self.message = QLabel()
        self.message.setWordWrap(True)
        bar = QHBoxLayout()
        for widget in (self.add_button, self.clear_button, QLabel("Architecture of"), self.against):
            bar.addWidget(widget)
        bar.addWidget(self.message, 1)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.plots = {"val_loss": styled_plot(self.canvas.addPlot(row=0, col=0), "Validation loss", "epoch", "loss"),
                      "val_accuracy": styled_plot(self.canvas.addPlot(row=0, col=1), "Validation accuracy", "epoch",
                                                  "accuracy")}
        for name, plot in self.plots.items():
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            corner = (-5, 5) if name == "val_loss" else (-5, -5)  # where the curves are not, mostly
            plot.addLegend(offset=corner, labelTextColor=INK, brush=pg.mkBrush(255, 255, 255, 200))
        self.metrics = _table(["metric"])
        self.metrics.horizontalHeader().setStretchLastSection(False)
        self.diff = _table(DIFF_COLUMNS)
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(self.metrics)
        tables.addWidget(self.diff)
        tables.setSizes([400, 600])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.canvas)
        split.addWidget(tables)
        split.setSizes([450, 550])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self._show()

    # runs ------------------------------------------------------------------------------------
    def set_runs(self, paths: Sequence[str | os.PathLike]) -> None:
        """Compare these folders (at least two make a comparison); a ValueError names a bad one."""
        folders = [str(p) for p in paths]
        self.comparison = compare_runs(folders) if len(folders) >= 2 else None
        self.paths = folders
        self._show()

    def add_run(self, path: str | os.PathLike) -> bool:
        """One more folder; a bad one is said in the message line and not added."""
        if any(os.path.samefile(path, p) for p in self.paths if os.path.exists(p) and os.path.exists(path)):
            self.message.setText(f"✖ {path}: already in the comparison")
            return False
        try:
            open_run(path)  # checked on its own: the first folder is not compared with anything yet
            self.set_runs([*self.paths, str(path)])
            return True
        except (ValueError, OSError) as exc:
            self.message.setText(f"✖ {exc}")
            return False

    def _ask_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a run folder to the comparison")
        if path:
            self.add_run(path)

    # drawing ---------------------------------------------------------------------------------
    def _show(self) -> None:
        for plot in self.plots.values():
            plot.clear()
            if plot.legend is not None:
                plot.legend.clear()
        comparison = self.comparison
        self.against.blockSignals(True)
        self.against.clear()
        if comparison is None:
            self.message.setText("Add two or more run folders to compare them." if len(self.paths) < 2 else "")
            self.metrics.setRowCount(0)
            self.diff.setRowCount(0)
            self.against.blockSignals(False)
            return
        self.message.setText("")
        first = comparison.runs[0].name
        for i, run in enumerate(comparison.runs[1:]):
            self.against.addItem(f"{run.name} against {first}", i)
        self.against.blockSignals(False)
        for i, run in enumerate(comparison.runs):
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            style = {"pen": pg.mkPen(colour, width=2), "symbol": "o", "symbolSize": 5, "symbolBrush": colour,
                     "symbolPen": None, "name": run.name}
            self.plots["val_loss"].plot(run.curves.epoch, run.curves.val_loss, **style)
            accuracy = [(e, a) for e, a in zip(run.curves.epoch, run.curves.val_accuracy) if a is not None]
            if accuracy:
                self.plots["val_accuracy"].plot([e for e, _ in accuracy], [a for _, a in accuracy], **style)
        self.plots["val_accuracy"].setVisible(any(a is not None for r in comparison.runs for a in r.curves.val_accuracy))
        step = float(math.ceil(max((e for r in comparison.runs for e in r.curves.epoch), default=1) / 8))
        for plot in self.plots.values():  # whole epochs: no tick at epoch 1.5
            plot.getAxis("bottom").setTickSpacing(step, step)
        self._fill_metrics(comparison)
        self._show_diff()

    def _fill_metrics(self, comparison: Comparison) -> None:
        runs = comparison.runs
        self.metrics.setColumnCount(1 + len(runs))
        self.metrics.setHorizontalHeaderLabels(["metric", *(r.name for r in runs)])
        self.metrics.setRowCount(len(METRICS))
        for row, (key, heading) in enumerate(METRICS.items()):
            self.metrics.setItem(row, 0, QTableWidgetItem(heading))
            for col, run in enumerate(runs, start=1):
                item = QTableWidgetItem(format_metric(key, run.metrics[key]))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(run.status)
                self.metrics.setItem(row, col, item)

    def _show_diff(self) -> None:
        comparison = self.comparison
        index = self.against.currentData()
        if comparison is None or index is None:
            self.diff.setRowCount(0)
            return
        diff = comparison.diffs[index]
        by = comparison.matched_by[index]
        self.diff.setHorizontalHeaderLabels([*DIFF_COLUMNS[:-1], DIFF_COLUMNS[-1] + (
            "" if by == "id" else "   (matched by type: the runs share no layer id)")])
        self.diff.setRowCount(len(diff))
        for row, entry in enumerate(diff):
            colour = STATUS_COLOURS.get(entry["status"])
            for col, text in enumerate(diff_cells(entry)):
                item = QTableWidgetItem(text)
                if colour is not None:
                    item.setForeground(QBrush(colour))
                self.diff.setItem(row, col, item)
