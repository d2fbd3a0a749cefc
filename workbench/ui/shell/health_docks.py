"""Training health in the window: one HealthModel (the newest health and timing of the run being
trained or the run opened) that the builder's cards, the summary table and the Health dock watch;
the Filters forming dock (a run's first-layer filters, epoch by epoch); File > Compare Runs….

    runner.updated (the Training dock's run)  -> model.add_events (start; newest health and timing, once a second)
    training.run_started                      -> the model starts over on the network as it is now
    a run opened in the window (show_run)     -> model.show_records(run.health()), the scrubber's run
    model.changed                             -> the cards, the summary table, the Health panel redraw

Marks go by layer id: the cards follow the layers they were measured on through later edits.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QFrame, QScrollArea, QWidget

from workbench.training.filter_history import FilterHistory
from workbench.training.run_folder import RunError, open_run
from workbench.training.updates import RunUpdate
from workbench.ui.editing.health_model import HealthModel
from workbench.ui.insight.compare import CompareView
from workbench.ui.insight.filter_scrubber import FilterScrubber
from workbench.ui.insight.base import scale_plot_text
from workbench.ui.insight.health import MIN_PLOT_HEIGHT, HealthPanel
from workbench.ui.shell.docks import DockHost, WorkingDocks

RIGHT, BOTTOM = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
COMPARE_SIZE = (1100, 720)
# A live run's newest statistics reach the cards and the Health panel at most this often: digits-cnn
# sends them ~3 times a second, and each redraw of the panel and the builder took ~15 ms of the
# window's time (on 2 cores, as much of training's). The last ones are shown when the run ends.
HEALTH_SHOWN_EVERY_S = 1.0


def _scrolling(panel: HealthPanel) -> QScrollArea:
    """The Health panel scrolls in a low dock (1280×720): its findings stay on top, its plots keep
    a readable height below them."""
    panel.canvas.setMinimumHeight(MIN_PLOT_HEIGHT * len(panel.plots))
    area = QScrollArea()
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setMinimumSize(160, 120)
    return area


class HealthDocks(QObject):
    """The health model and the views of it that are not cards (see the module docstring)."""

    def __init__(self, docks: WorkingDocks, host: DockHost, window: QWidget, parent: QObject | None = None):
        super().__init__(parent)
        self.docks, self.window = docks, window
        self.workspace, self.training = docks.workspace, docks.training
        self.model = HealthModel(self)
        self.panel: HealthPanel = docks.insight.panels["health"]  # type: ignore[assignment]
        self.scrubber = FilterScrubber()
        self.scrubber.set_summary(self.workspace.summary.summary)
        self.compare: CompareView | None = None  # made when first asked for
        # the Health panel is tall (five plots and the findings): beside the Inspector, not in the bottom row
        self.health_dock = host.add_panel(_scrolling(self.panel), self.panel.title, RIGHT)
        host.tabify_beside(RIGHT, self.health_dock)
        self.scrubber_dock = host.add_panel(self.scrubber, self.scrubber.title, BOTTOM, visible=False)
        host.tabify_beside(BOTTOM, self.scrubber_dock)
        self.model.changed.connect(self._show_in_panel)
        self._waiting: list = []  # a live run's health and timing events not shown yet
        self._shown_at = -HEALTH_SHOWN_EVERY_S
        self._waiting_timer = QTimer(self, singleShot=True, timeout=self._show_waiting)
        docks.runner.updated.connect(self._update)
        self.training.run_started.connect(self._run_started)
        self.training.run_finished.connect(lambda _: self._show_waiting())
        self.training.events_received.connect(self._epochs)
        self.workspace.summary.updated.connect(lambda: self.scrubber.set_summary(self.workspace.summary.summary))
        self.scrubber_dock.visibilityChanged.connect(self._scrubber_shown)

    def set_scale(self, factor: float) -> None:
        """Presentation mode: the health plots' text `factor` times larger (as the working docks')."""
        for dock in (self.health_dock, self.scrubber_dock):
            scale_plot_text(dock, factor)
        self.panel.fit_text()
        self.panel.canvas.setMinimumHeight(round(MIN_PLOT_HEIGHT * factor) * len(self.panel.plots))

    def _layer_ids(self) -> list[str]:
        """The layers as the window draws them now: the run's network (what its layer indices mean)."""
        return [row["id"] for row in self.workspace.summary.summary["layers"]]

    # a live run ------------------------------------------------------------------------------
    def _run_started(self, run_dir: str) -> None:
        self._waiting_timer.stop()
        self._waiting = []
        self.model.clear()
        self.model.set_network(self._layer_ids())
        self.scrubber.set_history(FilterHistory(None, [], []))  # the run's first epoch brings its own

    def _update(self, update: RunUpdate) -> None:
        if self.docks.runner.owner is not self.training:  # the autoencoder lab's jobs are not this run
            return
        if update.start is not None:  # (a resumed run's start keeps the statistics it had)
            self.model.add_events([update.start])
        news = [e for e in (update.health, update.timing) if e is not None]
        if not news:
            return
        self._waiting += news
        # shown on a turn of the event loop of its own, never in the one that took the news from the
        # training process: with the run's first batches and probe there, the first statistics (the
        # Health panel's bars made, every card repainted) made the slowest turn of a run, 40-60 ms
        if not self._waiting_timer.isActive():
            wait = self._shown_at + HEALTH_SHOWN_EVERY_S - time.monotonic()
            self._waiting_timer.start(max(0, int(wait * 1000) + 1))

    def _show_waiting(self) -> None:
        self._waiting_timer.stop()
        events, self._waiting = self._waiting, []
        if events:
            self._shown_at = time.monotonic()
            self.model.add_events(events)

    def _epochs(self, events: list) -> None:
        """A finished epoch leaves a filter snapshot: the scrubber, when shown, takes it."""
        if any(e["event"] in ("epoch", "done") for e in events) and self.scrubber_dock.isVisible():
            self._load_filters()

    def _scrubber_shown(self, shown: bool) -> None:
        if shown:
            self._load_filters()

    def _load_filters(self) -> None:
        if self.training.run_dir and Path(self.training.run_dir).is_dir():
            self.scrubber.set_run(self.training.run_dir)

    def _show_in_panel(self) -> None:
        self.panel.set_records([e for e in (self.model.health, self.model.timing) if e is not None])

    # an opened run ---------------------------------------------------------------------------
    def show_run(self, path: str | Path) -> None:
        """The run the window has just opened (workbench.ui.shell.docks.WorkingDocks.show_run)."""
        try:
            records = open_run(path).health()
        except RunError as exc:  # opened a moment ago: a folder changed since says what is wrong
            self.docks.host.show_message(str(exc), 8000)
            records = []
        self.model.clear()
        self.model.set_network(self._layer_ids())
        self.model.show_records(records)
        self.scrubber.set_run(path)

    # comparing runs ---------------------------------------------------------------------------
    def compare_runs(self) -> CompareView:
        """The Compare Runs window, the run the window shows first; asks for folders until two are in."""
        if self.compare is None:
            self.compare = CompareView(self.window)
            self.compare.setWindowFlag(Qt.WindowType.Window)
            screen = self.window.screen().availableGeometry()
            self.compare.resize(min(COMPARE_SIZE[0], screen.width() - 40), min(COMPARE_SIZE[1], screen.height() - 60))
        view = self.compare
        shown = self.training.run_dir
        if not view.paths and shown and Path(shown, "project.json").is_file():
            view.add_run(shown)
        view.show()
        view.raise_()
        while len(view.paths) < 2:
            path = QFileDialog.getExistingDirectory(view, f"Choose run folder {len(view.paths) + 1} to compare",
                                                    str(self.training.runs_root))
            if not path or not view.add_run(path):  # cancelled, or not a run: the view's message says why
                break
        return view
