"""The window's working docks: Training, the insight panels, Arithmetic, Lesson and the Autoencoder
lab — created, arranged into the default layout, and wired to the workspace's models. One JobRunner
(one training process) serves the Training dock and the lab.

Views never talk to each other; this module connects them through the project, the summary and the
selection, and through the training panel's public signals:

    training.training_changed      -> the builder's "edits apply to the next run" banner
    training.events_received       -> insight.add_events (curves; the start event carries class names)
    training.probe_received        -> insight.show_live_probe, the arithmetic dock's real numbers
    summary.updated                -> insight.set_summary, the arithmetic dock
    selection.changed              -> insight.set_layer, the arithmetic dock
    insight / lesson layer picks   -> selection
    visible panels change          -> training.set_probe_request(request()): hidden docks cost nothing
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

from workbench.core.lessons import Lesson
from workbench.training.events import DoneEvent, Probe, ProbeEvent
from workbench.training.probe_request import ProbeRequest
from workbench.training.updates import merge_probe
from workbench.ui.insight import InsightHub, request_for
from workbench.ui.insight.base import scale_plot_text
from workbench.ui.lessons.arithmetic_dock import ArithmeticPanel
from workbench.ui.lessons.player import LessonPlayer
from workbench.ui.shell.workspace import Workspace
from workbench.ui.training.panel import TrainingPanel
from workbench.ui.training.runner import JobRunner

LOCK_REASON = "Training — edits apply to the next run"
INSIGHT_ORDER = ("filters", "activations", "latent", "reconstructions", "confusion", "curves")
TOP, BOTTOM = Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
# the view each kind of lesson shows its steps in (besides the builder and the inspector)
LESSON_VIEWS = {"arithmetic": "arithmetic", "training": "training", "latent": "latent"}


def _same_network(a: dict, b: dict) -> bool:
    strip = [{k: v for k, v in layer.items() if k != "id"} for layer in a["layers"]]
    return a["input"] == b["input"] and strip == [{k: v for k, v in layer.items() if k != "id"}
                                                 for layer in b["layers"]]


def _scrolling(widget: QWidget) -> QScrollArea:
    """A panel that needs room, in a frameless scroll area: at the default size it fits and no bar
    shows; on a small screen the window can still shrink (its minimum is not the sum of the panels')."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setMinimumSize(160, 120)  # else the area reports its panel's minimum
    return area


class DockHost(Protocol):
    """What the docks need of the main window (workbench.ui.shell.app.MainWindow)."""

    def add_panel(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, visible: bool = True) -> QDockWidget:
        """A dock for `widget` with a View-menu toggle."""

    def tabify_beside(self, area: Qt.DockWidgetArea, dock: QDockWidget) -> None:
        """`dock` as a tab beside the area's editing dock (right: Inspector, bottom: Summary)."""

    def show_summary(self) -> None:
        """The Summary dock shown and raised."""

    def show_message(self, text: str, timeout_ms: int) -> None:
        """A short note in the status bar."""

    def warn(self, title: str, text: str) -> None:
        """A warning the user must acknowledge."""

    def set_editing_locked(self, locked: bool, reason: str = "") -> None:
        """Show that edits apply to the next run."""


class WorkingDocks(QObject):
    """The working docks, fed from the workspace; the window is reached only through `host`."""

    def __init__(self, workspace: Workspace, host: DockHost, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace, self.host = workspace, host
        self.runner = JobRunner(self)  # one training process for the Training dock and the lab
        self.training = TrainingPanel(workspace.project, editor=workspace.editor, runner=self.runner)
        self.insight = InsightHub(self)
        self.arithmetic = ArithmeticPanel()
        self.player = LessonPlayer()
        self.lab: QWidget | None = None  # made when its dock is first shown: it is hidden by default
        self.probe: Probe = {}  # the last probe's arrays, for the arithmetic dock
        self._lesson_numbers = False  # the arithmetic dock shows a lesson's grid until another layer is picked
        self.docks: dict[str, QDockWidget] = {}
        self._shown: dict[str, bool] = {}  # dock name -> on screen (QDockWidget.visibilityChanged)
        self._arrange()
        self._wire()
        self.insight.set_summary(workspace.summary.summary)
        self._follow_selection()

    # layout ------------------------------------------------------------------------------------
    def _arrange(self) -> None:
        """Bottom, across the window: Summary, Training, Arithmetic and the insight panels as tabs.
        Top: a lesson's steps, once one is loaded. The builder keeps the centre, the Inspector the
        right; the lab waits in View > Panels (workbench.ui.shell.layout sizes them all)."""
        self.arithmetic.view.canvas.setMinimumSize(240, 110)  # it fits its text to the room it gets
        panels = {"training": (_scrolling(self.training), "Training", BOTTOM),
                  "lesson": (self.player, "Lesson", TOP),
                  "arithmetic": (_scrolling(self.arithmetic), "Arithmetic", BOTTOM),
                  **{name: (self.insight.panels[name], self.insight.panels[name].title, BOTTOM)
                     for name in INSIGHT_ORDER},
                  "lab": (QWidget(), "Autoencoder lab", BOTTOM)}
        for name, (widget, title, area) in panels.items():
            # tabified as soon as added: side by side, their minimum widths would add up and widen the window
            self.docks[name] = self.host.add_panel(widget, title, area)
            if area != TOP:  # the lesson's strip stands alone
                self.host.tabify_beside(area, self.docks[name])
        for name in ("lesson", "lab"):
            self.docks[name].hide()

    def raise_dock(self, name: str) -> None:
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    # wiring ------------------------------------------------------------------------------------
    def _wire(self) -> None:
        w, training, insight = self.workspace, self.training, self.insight
        training.training_changed.connect(self._training_changed)
        training.run_started.connect(self._run_started)
        training.probe_received.connect(self._probe)
        training.events_received.connect(insight.add_events)
        training.run_finished.connect(self._run_finished)
        w.project.changed.connect(self._project_changed)
        w.summary.updated.connect(self._summary_changed)
        w.selection.changed.connect(self._follow_selection)
        insight.layer_selected.connect(w.selection.select_index)
        self.player.layer_selected.connect(w.selection.select_index)
        self.player.step_changed.connect(self._lesson_step)
        insight.request_changed.connect(self.push_request)
        for name in ("arithmetic", *INSIGHT_ORDER):
            self.docks[name].visibilityChanged.connect(lambda shown, n=name: self._dock_shown(n, shown))
        self.docks["lab"].visibilityChanged.connect(self._make_lab)

    def _make_lab(self, shown: bool) -> None:
        """The lab's imports (its views, the experiments' types) cost startup time: load them when needed."""
        if shown and self.lab is None:
            from workbench.ui.lab.panel import LabPanel

            self.lab = LabPanel(self.workspace.project, runner=self.runner)
            self.docks["lab"].setWidget(_scrolling(self.lab))

    def on_screen(self, name: str) -> bool:
        """Whether a dock is shown and its tab is the current one (a tab behind another is not)."""
        return self._shown.get(name, False)

    def request(self) -> ProbeRequest:
        """What the docks on screen need probed: their insight panels', plus activations and filters
        while the arithmetic dock shows (it slides its window over real activations and a trained filter)."""
        request = request_for([self.insight.panels[n] for n in INSIGHT_ORDER if self.on_screen(n)], only_visible=False)
        if self.on_screen("arithmetic"):
            request.activations = request.filters = True
        return request

    def push_request(self) -> None:
        self.training.set_probe_request(self.request())

    def _training_changed(self, on: bool) -> None:
        self.host.set_editing_locked(on, LOCK_REASON)
        if on:
            self.push_request()

    def _run_started(self, run_dir: str) -> None:
        self.probe = {}

    def _run_finished(self, done: DoneEvent) -> None:
        self.insight.run_finished(done["run_dir"])

    def _project_changed(self, what: str) -> None:
        """Another project (New, Open, a template, a lesson): the panels forget the last run's insides
        (the training panel its curves); a run opened with File > Open Run sets them again."""
        if what == "all" and not self.training.is_training:
            self.insight.clear()
            self.probe = {}

    def _probe(self, probe: ProbeEvent) -> None:
        self.insight.show_live_probe(probe)
        self.probe = merge_probe(self.probe, probe)
        self._lesson_numbers = False
        if self.on_screen("arithmetic"):
            self._show_arithmetic()

    def _summary_changed(self) -> None:
        self.insight.set_summary(self.workspace.summary.summary)
        self._show_arithmetic()

    def _follow_selection(self) -> None:
        self._lesson_numbers = False
        index = self.workspace.selection.current_index()
        if index is not None:
            self.insight.set_layer(index)
        self._show_arithmetic()

    def _dock_shown(self, name: str, shown: bool) -> None:
        if self._shown.get(name) == shown:
            return
        self._shown[name] = shown
        self.push_request()
        if shown and name in INSIGHT_ORDER:
            self.insight.panel_shown()
        if shown and name == "arithmetic":
            self._show_arithmetic()

    def _show_arithmetic(self) -> None:
        if self._lesson_numbers:
            return
        w = self.workspace
        index = w.selection.current_index()
        if index is None:
            self.arithmetic.show_hint()
            return
        self.arithmetic.show_layer(w.project.layer(index), index, w.summary.summary, self.probe)

    # lessons and runs --------------------------------------------------------------------------
    def show_lesson(self, lesson: Lesson) -> None:
        """The lesson's steps across the top, and the view its steps are shown in raised: the
        Arithmetic dock (which follows the steps), Training, Latent codes, or else the Summary."""
        self.player.set_lesson(lesson)
        self.raise_dock("lesson")
        view = LESSON_VIEWS.get(lesson.view)
        if view is not None:
            self.raise_dock(view)
        else:
            self.host.show_summary()

    def _lesson_step(self, index: int) -> None:
        lesson = self.player.lesson()
        if lesson is None or lesson.arithmetic is None:
            return
        step = lesson.steps[index]
        self.arithmetic.show_lesson(lesson.title, lesson.arithmetic, step.pooling, step.windows)
        self._lesson_numbers = True  # until another layer is picked or a probe brings real numbers

    def show_run(self, path: str | Path) -> bool:
        """A saved run: its network in the builder (one undoable step when it differs), its curves in
        the training panel, and its probes in the insight panels and the arithmetic dock."""
        from workbench.training.run_folder import RunError, open_run  # torch: loaded behind the window

        w = self.workspace
        if self.training.is_training:  # the curves and panels belong to the run in progress
            self.host.show_message("Stop training to open another run", 5000)
            return False
        try:
            run = open_run(path)
        except RunError as exc:
            self.host.warn("Cannot open run", str(exc))
            return False
        if not _same_network(run.project, w.project.to_dict()):
            if not w.files.replace_document(run.project, f"Open run {Path(path).name}", None):
                return False
        self.training.show_run(path)
        try:
            self.insight.show_run(run)
            assert self.insight.run is not None
            self.probe = self.insight.run.capture(ProbeRequest(filters=True, activations=True))
        except (ValueError, OSError) as exc:  # a run without weights, a dataset that is gone
            self.host.warn("Cannot show the run's insides", f"{path}: {exc}")
            return False
        self._show_arithmetic()
        self.host.show_message(f"Opened run {path}", 5000)
        return True

    # closing -----------------------------------------------------------------------------------
    def busy(self) -> str:
        """What would be cut short by closing ("" when nothing runs)."""
        if self.training.is_training:
            return "Training is running"
        if self.lab is not None and self.lab.busy():
            return "An autoencoder lab experiment is running"
        return ""

    def stop_all(self) -> None:
        """Stop training or a lab experiment and end the training process before the window goes."""
        self.training.stop_and_wait()

    def set_scale(self, factor: float) -> None:
        """Presentation mode: the arithmetic's numbers and every plot's text `factor` times larger,
        the training settings folded away."""
        self.arithmetic.set_scale(factor)
        self.training.set_scale(factor)
        for dock in self.docks.values():
            scale_plot_text(dock, factor)
