"""The QApplication and the main window: menus, toolbar, the builder and the editing docks.

The window owns the Workspace (project, undo stack, summary, selection, file). The editing views
(palette, builder, inspector, summary) are wired to it here; the working docks (training, insight
panels, arithmetic, lesson, autoencoder lab) in workbench.ui.shell.docks, which get the workspace and
the window as a small host (DockHost: add a dock, tab it, show a message or a warning, lock editing).
The lessons menu is filled by workbench.ui.lessons.player.
"""
from __future__ import annotations

import gc
import os
import re
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QMainWindow, QMenu, QMessageBox, QStyle, QTabBar,
                               QToolBar, QWidget)

from workbench.core.commands import InsertLayers, RemoveLayers
from workbench.core.lessons import LESSONS, Lesson
from workbench.core.templates import DEFAULT_TEMPLATE, TEMPLATES, short_description, template
from workbench.ui.editing.builder import Builder
from workbench.ui.editing.inspector import Inspector
from workbench.ui.editing.palette import Palette
from workbench.ui.editing.summary import SummaryPanel
from workbench.ui.editing.undo import UndoKeysEverywhere
from workbench.ui.lessons.player import build_lessons_menu
from workbench.ui.shell import settings as app_settings
from workbench.ui.shell import style
from workbench.ui.shell.docks import INSIGHT_ORDER, WorkingDocks
from workbench.ui.shell.health_docks import HealthDocks
from workbench.ui.shell.icons import category_icon
from workbench.ui.shell.import_dialog import import_network
from workbench.ui.shell.layout import WindowLayout, hide_stale_tab_bars, never_elide
from workbench.ui.shell.welcome import Welcome, first_start
from workbench.ui.shell.workspace import Workspace

SCREENSHOT_SIZE = (1400, 900)
FIRST_LESSON = "stride-1"  # where "Follow the course" starts
LAYOUT_VERSION = 4  # bumped when the set or places of docks change: a layout stored for others is ignored


def paint_on_one_thread() -> None:
    """Qt's raster painting splits large fills and image draws over a thread pool: on 2 cores those
    threads preempt both of the training process's threads at once, and a parallel region waits for
    its slowest thread. One painting thread leaves training more of the machine
    (benchmarks/panels_speed.py). Qt reads this when it first paints: call before that."""
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def create_app(argv: list[str] | None = None) -> QApplication:
    """The window's QApplication. Also limits this process's BLAS to one thread: training runs in its
    own process, and a multithreaded BLAS (PCA of latent codes) next to it stalled the window for
    40-300 ms. Headless commands (`workbench train`, `plot`) keep their threads. The objects loaded
    so far are frozen out of garbage collection (a full pass over torch's took ~0.1 s)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, "blas")
    paint_on_one_thread()
    gc.freeze()  # what is loaded now lives as long as the window: later full collections skip it
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
        app.setStyle("Fusion")  # the same look everywhere; Fusion follows the system light/dark palette
    app.setApplicationName(app_settings.APP)
    app.setOrganizationName(app_settings.organization())
    app.setApplicationDisplayName("Workbench")
    app.setWindowIcon(category_icon("Convolution"))
    return app  # type: ignore[return-value]


class MainWindow(QMainWindow):
    """The window: menus, toolbar, the builder and the editing docks around it; the working docks
    (workbench.ui.shell.docks) get its workspace and itself as their host."""

    def __init__(self, doc: dict | None = None, restore_layout: bool = True):
        super().__init__()
        self.workspace = Workspace(doc or template(DEFAULT_TEMPLATE), self)
        w = self.workspace  # its parts by name, for the window's own views and actions
        self.project, self.editor, self.summary, self.selection, self.files = (
            w.project, w.editor, w.summary, w.selection, w.files)
        self._restore_layout, self._restored = restore_layout, False
        self._base_font = QApplication.font()
        self.actions_by_name: dict[str, QAction] = {}

        self.builder = Builder(self.editor, self.summary, self.selection)
        self.builder.setToolTip("")
        self.setCentralWidget(self.builder)
        self.palette_panel = Palette()
        self.inspector = Inspector(self.editor, self.summary, self.selection)
        self.summary_panel = SummaryPanel(self.summary, self.selection)

        self._build_menus()
        self.palette_dock = self.add_panel(self.palette_panel, "Layers", Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self.add_panel(self.inspector, "Inspector", Qt.DockWidgetArea.RightDockWidgetArea)
        self.summary_dock = self.add_panel(self.summary_panel, "Summary", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.docks = WorkingDocks(self.workspace, self, self)
        self.health = HealthDocks(self.docks, self, self, self)  # a run's health on the cards and its docks
        self.builder.set_health(self.health.model)
        self.summary_panel.set_health(self.health.model)
        self.inspector_dock.raise_()
        self.summary_dock.raise_()
        hide_stale_tab_bars(self)
        self.training_panel, self.insight = self.docks.training, self.docks.insight
        build_lessons_menu(self.menu("&Lessons"), self.load_lesson)  # Alt+L, as the other menus
        self.welcome = Welcome()
        self.welcome_dock = self._welcome_dock()
        self.arrangement = WindowLayout(
            self, version=LAYOUT_VERSION, builder_width=lambda: self.builder.row_width(2), palette=self.palette_dock,
            inspector=self.inspector_dock, summary=self.summary_dock, lesson=self.docks.docks["lesson"],
            working=[*(self.docks.docks[name] for name in ("training", "arithmetic", *INSIGHT_ORDER, "lab")),
                     self.health.health_dock, self.health.scrubber_dock])

        self._undo_keys = UndoKeysEverywhere(self)
        QApplication.instance().installEventFilter(self._undo_keys)
        self.selection.changed.connect(self._selection_changed)
        self.project.changed.connect(self._select_after_replace)
        self.palette_panel.insert_requested.connect(self._insert_after_selection)
        self.editor.refused.connect(lambda text: self.statusBar().showMessage("✖ " + text, 8000))
        self.files.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.summary.slow.connect(self._too_large_to_edit_live)
        self.files.title_changed.connect(self._update_title)
        self.training_panel.open_requested.connect(self._choose_run)
        self.editor.stack.cleanChanged.connect(self._update_title)
        self.resize(*SCREENSHOT_SIZE)
        self._update_title()
        self.selection.select_index(0 if len(self.project) else None)
        self.statusBar().showMessage("Drag layers from the palette into the network · select a card to edit it", 8000)

    # extension points for other panels -------------------------------------------------------
    def add_panel(self, widget: QWidget, title: str, area: Qt.DockWidgetArea, visible: bool = True) -> QDockWidget:
        """Dock a panel and give it a View-menu toggle; its place is remembered with the layout."""
        dock = QDockWidget(title, self)
        dock.setObjectName("dock-" + re.sub(r"\W+", "-", title.lower()))
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        toggle = dock.toggleViewAction()
        toggle.setStatusTip(f"Show or hide the {title} panel")
        self._panels_menu.addAction(toggle)
        dock.setVisible(visible)
        return dock

    def tabify_beside(self, area: Qt.DockWidgetArea, dock: QDockWidget) -> None:
        """Docks are tabified as soon as added: side by side, their minimum widths would add up and
        widen the window."""
        self.tabifyDockWidget(self.inspector_dock if area == Qt.DockWidgetArea.RightDockWidgetArea
                              else self.summary_dock, dock)

    def show_summary(self) -> None:
        """In presentation mode, where the Summary is put away, the Inspector comes to the front: it
        gives the selected layer's volume, formula and parameter counts."""
        if self.arrangement.presenting:
            self.inspector_dock.raise_()
            return
        self.summary_dock.show()
        self.summary_dock.raise_()

    def show_message(self, text: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def menu(self, name: str) -> QMenu:
        """The top-level menu with this title, created (before Help) when missing, e.g. "Lessons"."""
        for action in self.menuBar().actions():
            if action.menu() and action.text().replace("&", "") == name.replace("&", ""):
                return action.menu()  # type: ignore[return-value]
        created = QMenu(name, self)
        self.menuBar().insertMenu(self._help_menu.menuAction(), created)
        return created

    def load_lesson(self, lesson: Lesson) -> None:
        """The lesson's network as one undoable step, its layer selected, its player and view shown."""
        if not self.files.replace(lesson.project, f"Load lesson {lesson.title}"):
            return
        self.selection.select_index(lesson.layer)
        self.welcome_dock.hide()  # the lesson's strip takes the top: the guidance made the builder vanish
        self.docks.show_lesson(lesson)
        QTimer.singleShot(0, self, self.arrangement.fit_lesson)  # once the strip has its width
        self.statusBar().showMessage(f"Lesson: {lesson.title} · ◀ ▶ step through it", 8000)

    def open_run(self, path: str | Path) -> bool:
        """A saved run folder: its curves and insides in the docks; a bad folder explains itself."""
        opened = self.docks.show_run(path)
        if opened:
            self.health.show_run(path)
        self._update_title()
        return opened

    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.training_panel.runs_root))
        if path:
            self.open_run(path)

    def set_editing_locked(self, locked: bool, reason: str = "") -> None:
        """Show that edits apply to the next run (the running one trains a frozen copy)."""
        text = (reason or "Training: edits apply to the next run") if locked else ""
        self.builder.set_locked(text)
        if text:
            self.statusBar().showMessage(text, 5000)

    # actions ---------------------------------------------------------------------------------
    def _action(self, name: str, text: str, slot, shortcut: QKeySequence | str | list | None = None,  # noqa: ANN001
                tip: str = "", icon: QStyle.StandardPixmap | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}" + (f" ({keys})" if keys else ""))
        action.setStatusTip(tip or text.replace("&", ""))
        action.triggered.connect(lambda *_: slot())
        self.addAction(action)  # shortcuts work even with the menu bar hidden
        self.actions_by_name[name] = action
        return action

    def _build_menus(self) -> None:
        # explicit keys: on Linux some standard keys differ (StandardKey.Delete can be Ctrl+D there)
        sp = QStyle.StandardPixmap
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("new", "&New", self.files.new, "Ctrl+N", "Start an empty project",
                                         sp.SP_FileIcon))
        file_menu.addAction(self._action("open", "&Open…", self.files.open, "Ctrl+O", "Open a project file",
                                         sp.SP_DialogOpenButton))
        self._recent_menu = file_menu.addMenu("Open &Recent")
        self._recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addAction(self._action("import", "&Import…", lambda: import_network(self.files, self), None,
                                         "Bring in a torchvision model, a PyTorch class or an ONNX file as cards"))
        file_menu.addAction(self._action("open_run", "Open R&un…", self._choose_run, "Ctrl+Shift+O",
                                         "Show a saved training run: its curves, filters and activations"))
        file_menu.addAction(self._action("compare_runs", "&Compare Runs…", lambda: self.health.compare_runs(), None,
                                         "Two or more run folders side by side: curves, metrics, architectures"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("save", "&Save", self.files.save, "Ctrl+S", "Save the project",
                                         sp.SP_DialogSaveButton))
        file_menu.addAction(self._action("save_as", "Save &As…", self.files.save_as, "Ctrl+Shift+S",
                                         "Save the project under a new name"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("quit", "&Quit", self.close, "Ctrl+Q", "Close the window"))

        edit = bar.addMenu("&Edit")
        undo = self._action("undo", "&Undo", self.editor.stack.undo, "Ctrl+Z", "Undo the last edit",
                            sp.SP_ArrowBack)
        redo = self._action("redo", "&Redo", self.editor.stack.redo, ["Ctrl+Shift+Z", "Ctrl+Y"],
                            "Redo the edit undone last", sp.SP_ArrowForward)
        self.editor.stack.canUndoChanged.connect(undo.setEnabled)
        self.editor.stack.canRedoChanged.connect(redo.setEnabled)
        # the edit's name goes in the tooltip, not the text, so the toolbar keeps its width
        self.editor.stack.undoTextChanged.connect(lambda t: undo.setToolTip(f"Undo {t} (Ctrl+Z)"))
        self.editor.stack.redoTextChanged.connect(lambda t: redo.setToolTip(f"Redo {t} (Ctrl+Shift+Z)"))
        undo.setEnabled(False)
        redo.setEnabled(False)
        edit.addActions([undo, redo])
        edit.addSeparator()
        delete = self._action("delete", "&Delete", self.delete_selected, ["Del", "Backspace"],
                              "Remove the selected layers", sp.SP_TrashIcon)
        duplicate = self._action("duplicate", "D&uplicate", self.duplicate_selected, "Ctrl+D",
                                 "Duplicate the selected layers")
        select_all = self._action("select_all", "Select &All", self.select_all, "Ctrl+A", "Select every layer")
        find = self._action("find", "&Find Layer…", self._focus_palette_filter, "Ctrl+F",
                            "Filter the layer palette")
        edit.addActions([delete, duplicate, select_all, find])
        self.builder.viewport().addActions([delete, duplicate])

        templates = bar.addMenu("&Templates")
        templates.setToolTipsVisible(True)
        for name, description in TEMPLATES.items():  # what each is, in the menu itself (all of it in the tip)
            action = templates.addAction(f"{name} — {short_description(name)}", lambda n=name: self.files.load_template(n))
            action.setToolTip(description)
            action.setStatusTip(description)
            self.actions_by_name[f"template:{name}"] = action

        view = bar.addMenu("&View")
        self._panels_menu = view.addMenu("&Panels")
        present = self._action("presentation", "&Presentation Mode", lambda: None, "Ctrl+Shift+P",
                               "Large fonts for a classroom projector")
        present.setCheckable(True)
        present.toggled.connect(self._presentation)
        view.addAction(present)
        view.addAction(self._action("reset_layout", "&Reset Layout", self._reset_layout, None,
                                    "Put every panel back where it started"))
        self._help_menu = bar.addMenu("&Help")
        self._help_menu.addAction(self._action("getting_started", "&Getting Started", self.show_welcome,
                                               None, "Three ways in: build, train and look inside, the course"))
        self._help_menu.addAction(self._action("shortcuts", "&Keyboard Shortcuts", self._show_shortcuts, "F1",
                                               "List every shortcut"))

        toolbar = QToolBar("Main toolbar")
        toolbar.setObjectName("toolbar-main")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for shown in ("new", "open", "save", None, "undo", "redo", None, "delete", "duplicate", None, "presentation"):
            toolbar.addSeparator() if shown is None else toolbar.addAction(self.actions_by_name[shown])
        self.addToolBar(toolbar)
        self._default_state = QByteArray()

    def action(self, name: str) -> QAction:
        return self.actions_by_name[name]

    # edits ------------------------------------------------------------------------------------
    def delete_selected(self) -> None:
        indices = self.selection.indices()
        if not indices:
            self.statusBar().showMessage("Select a layer card to delete", 4000)
            return
        if self.editor.push(lambda p: RemoveLayers(p, indices)) is not None and len(self.project):
            self.selection.select_index(min(indices[0], len(self.project) - 1))

    def duplicate_selected(self) -> None:
        indices = self.selection.indices()
        if not indices:
            self.statusBar().showMessage("Select a layer card to duplicate", 4000)
            return
        layers = [self.project.layer(i) for i in indices]
        command = self.editor.push(lambda p: InsertLayers(p, indices[-1] + 1, layers, "Duplicate"))
        if command is not None:
            self.selection.set(command.ids)  # type: ignore[attr-defined]

    def select_all(self) -> None:
        self.selection.set([layer["id"] for layer in self.project.layers])

    # first-run guidance -------------------------------------------------------------------------
    def _welcome_dock(self) -> QDockWidget:
        dock = QDockWidget("Getting started", self)
        dock.setObjectName("dock-getting-started")
        dock.setWidget(self.welcome)
        self.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, dock)
        dock.hide()
        for signal, slot in ((self.welcome.build, self._build_first), (self.welcome.train, self._train_first),
                             (self.welcome.course, self._course_first), (self.welcome.dismissed, dock.hide)):
            signal.connect(slot)
        return dock

    def show_welcome(self) -> None:
        """Help > Getting Started (and the first start): the three ways in, across the top."""
        self.welcome_dock.show()
        self.welcome_dock.raise_()

    def _build_first(self) -> None:
        self.welcome_dock.hide()
        self.palette_dock.show()
        self.palette_dock.raise_()
        self._focus_palette_filter()
        self.statusBar().showMessage("Drag a layer from Layers into the network, between two cards", 10000)

    def _train_first(self) -> None:
        self.welcome_dock.hide()
        if (self.project.name != DEFAULT_TEMPLATE or self.files.dirty) and not self.files.load_template(DEFAULT_TEMPLATE):
            return
        self.training_panel.start()
        self.docks.raise_dock("filters")  # its first-layer filters, live, while it trains

    def _course_first(self) -> None:
        self.welcome_dock.hide()
        self.load_lesson(LESSONS[FIRST_LESSON])

    def _selection_changed(self) -> None:
        self.arrangement.show_inspector(bool(self.selection.ids))

    def _select_after_replace(self, what: str) -> None:
        """Another project (New, Open, a template): its first layer is selected, so the inspector
        shows something to edit."""
        if what == "all" and not self.selection.ids:
            self.selection.select_index(0 if len(self.project) else None)

    def _insert_after_selection(self, kind: str) -> None:
        indices = self.selection.indices()
        self.builder.insert_kind(kind, indices[-1] + 1 if indices else len(self.project))

    def _focus_palette_filter(self) -> None:
        self.palette_dock.show()
        self.palette_panel.search.setFocus()
        self.palette_panel.search.selectAll()

    def _fill_recent(self) -> None:
        self._recent_menu.clear()
        recent = app_settings.recent_files()
        for path in recent:
            self._recent_menu.addAction(Path(path).name, lambda p=path: self.files.open(p)).setToolTip(path)
        if not recent:
            self._recent_menu.addAction("(none)").setEnabled(False)

    def _show_shortcuts(self) -> None:
        rows = [f"<tr><td>{a.text().replace('&', '')}</td><td><b>{a.shortcut().toString()}</b></td></tr>"
                for a in self.actions_by_name.values() if not a.shortcut().isEmpty()]
        QMessageBox.information(self, "Keyboard shortcuts", "<table>" + "".join(rows) + "</table>")

    def _too_large_to_edit_live(self, seconds: float) -> None:
        self.statusBar().showMessage(
            f"{len(self.project):,} layers: too large to edit live (each edit takes {seconds:.1f} s to show). "
            f"Edits still apply and undo one by one", 15_000)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*]")
        self.setWindowModified(self.files.dirty)

    # layout memory ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._restored:
            return
        self._restored = True
        self._default_state = self.saveState(LAYOUT_VERSION)
        restored = False
        if self._restore_layout:
            stored = app_settings.settings()
            geometry, state = stored.value("window/geometry"), stored.value("window/state")
            if isinstance(geometry, QByteArray):
                self.restoreGeometry(geometry)
            if isinstance(state, QByteArray):
                restored = self.restoreState(state, LAYOUT_VERSION)
        if restored:
            self.arrangement.follow_window = False  # the user's own sizes
        else:
            self.arrangement.fit()
        if self._restore_layout and first_start():
            self.show_welcome()
        QTimer.singleShot(0, self, lambda: hide_stale_tab_bars(self))  # (Qt's copies appear as the window shows)

    def _presentation(self, on: bool) -> None:
        if on:  # in front of a class the room goes to the network (Help > Getting Started brings it back)
            self.welcome_dock.hide()
        style.set_presentation_mode(on, self._base_font)
        self.docks.set_scale(style.PRESENTATION_SCALE if on else 1.0)
        self.health.set_scale(style.PRESENTATION_SCALE if on else 1.0)
        self.arrangement.present(on)

    def _reset_layout(self) -> None:
        if not self._default_state.isEmpty():
            self.arrangement.reset(self._default_state)

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - Qt override
        super().resizeEvent(event)
        self.arrangement.window_resized()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ChildPolished and isinstance(event.child(), QTabBar):
            never_elide(event.child())  # the docks' tab bars, made by Qt as docks are tabbed
        elif event.type() == QEvent.Type.MouseButtonPress and self.childAt(event.position().toPoint()) is None:
            self.arrangement.edge_moved()  # a press on the window itself, not a child: the edge between docks
        elif event.type() == QEvent.Type.DeferredDelete:
            # the undo stack clears itself when destroyed, after the docks' widgets: views listening
            # to it would be called on deleted labels
            self.editor.stack.blockSignals(True)
        return super().event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        running = self.docks.busy()
        if running and QMessageBox.question(
                self, "Stop and close?", f"{running}. Stop it and close the window?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Yes:
            event.ignore()
            return
        if not self.files.maybe_save():
            event.ignore()
            return
        self.docks.stop_all()
        if self._restore_layout:
            stored = app_settings.settings()
            stored.setValue("window/geometry", self.saveGeometry())
            stored.setValue("window/state", self.arrangement.plain_state())
        self.files.discard_recovery()
        event.accept()
