"""New / Open / Save / Save As, templates, recent files, unsaved-changes prompts, autosave and recovery.

Saving goes through `write_atomic` (temporary file, then rename), so a failed save never destroys the
previous file. A file that fails to load shows the core's ProjectError message and leaves the
current project untouched. Every minute unsaved work goes to a recovery file; a clean exit removes
it, so finding one at startup means the last session crashed, and the user is offered to recover it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from workbench.core.commands import ReplaceProject
from workbench.core.project import (MAX_FILE_BYTES, ProjectError, project_file_text, read_project,
                                    validate_project, write_atomic)
from workbench.core.regular_file import read_regular
from workbench.core.templates import blank, template
from workbench.training.config import section_problem
from workbench.ui.shell import settings as app_settings
from workbench.ui.editing.undo import Editor

FILTER = "Workbench projects (*.json *.wbproj);;All files (*)"
AUTOSAVE_MS = 60_000


@dataclass
class _Replacement:
    """A replacement of the whole document (an import, a template, an opened run's network): where it
    is in the undo stack (the stack's index once it is done), and the file before and after it."""
    index: int
    before: Path | None
    after: Path | None


class FileController(QObject):
    title_changed = Signal()
    message = Signal(str)  # a short note for the status bar

    def __init__(self, editor: Editor, parent_widget: QWidget, recovery_path: Path | None = None):
        super().__init__(parent_widget)
        self.editor, self.parent_widget = editor, parent_widget
        self.path: Path | None = None
        self._documents: list[_Replacement] = []  # the undoable replacements of the whole document
        self.recovery_path = recovery_path or app_settings.data_dir() / "recovery.json"
        editor.stack.cleanChanged.connect(lambda *_: self.title_changed.emit())
        editor.stack.indexChanged.connect(self._follow_undo)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    @property
    def dirty(self) -> bool:
        return not self.editor.stack.isClean()

    def display_name(self) -> str:
        return self.path.name if self.path else (self.editor.project.name or "Untitled")

    # loading ----------------------------------------------------------------------------------
    def _set_loaded(self, doc: dict, path: Path | None) -> None:
        """All or nothing: the path and title change with the network, and if any view fails to show
        the new project the old one comes back, so Save can never write one project over another."""
        before = self.editor.project.to_dict()
        try:
            self.editor.project.replace(doc)
        except Exception:
            with self.editor.project.changed.blocked():
                self.editor.project.replace(before)
            self.editor.project.changed.emit("all")
            raise
        self.editor.stack.clear()
        self.editor.stack.setClean()
        self.path = path
        self.title_changed.emit()

    def new(self) -> bool:
        """A project that trains as it stands (see templates.blank), after asking about unsaved changes."""
        if not self.maybe_save():
            return False
        self._set_loaded(blank(), None)
        return True

    def open(self, path: str | Path | None = None) -> bool:
        """Open a project file (asking for one when no path is given); False if nothing changed."""
        if not self.maybe_save():
            return False
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open project", self._dir(), FILTER)
            if not path:
                return False
        try:
            doc = read_project(path)
            self._set_loaded(doc, Path(path))
        except ProjectError as exc:
            QMessageBox.warning(self.parent_widget, "Cannot open project", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a view that cannot show it: the old project is back
            QMessageBox.warning(self.parent_widget, "Cannot open project",
                                f"{path}: cannot be shown ({type(exc).__name__}: {exc}); the current project is kept")
            return False
        app_settings.add_recent(str(path))
        self.message.emit(f"Opened {path}")
        problem = section_problem(doc)
        if problem:
            QMessageBox.warning(self.parent_widget, "Training settings not valid",
                                f"{path}: {problem}.\nThe network is open; correct the setting in the Training "
                                "panel before training.")
        return True

    def adopt(self, path: str | Path) -> None:
        """The project shown was read from `path` (given on the command line): Save writes back to it,
        the title names it, and it joins the recent files."""
        self.path = Path(path)
        self.editor.stack.setClean()
        app_settings.add_recent(str(path))
        self.title_changed.emit()

    def load_template(self, name: str) -> bool:
        return self.replace(template(name), f"Load template {name}")

    def replace(self, doc: dict, text: str) -> bool:
        """Another project (a template, a lesson's network) in place of this one, after asking about
        unsaved changes as New and Open do; False when the user cancelled. It is a fresh, unsaved
        document (Save asks for a name), and still one undoable step: Undo brings back what was there."""
        if not self.maybe_save():
            return False
        if not self.replace_document(doc, text, None):
            return False
        self.editor.stack.setClean()
        return True

    def replace_document(self, doc: dict, text: str, path: Path | None) -> bool:
        """`doc` in place of the project as one undoable step, the document of the file `path` (None:
        Save asks for a name). Undo and Redo take the file along: after undoing an import, Save wrote
        the project from before it over the imported file."""
        before = self.path
        if self.editor.push(lambda p: ReplaceProject(p, doc, text)) is None:
            return False
        self._documents.append(_Replacement(self.editor.stack.index(), before, path))
        self.path = path
        self.title_changed.emit()
        return True

    def _follow_undo(self, index: int) -> None:
        """The file of the document at the undo stack's `index`."""
        self._documents = [d for d in self._documents if d.index <= self.editor.stack.count()]  # (redo history gone)
        if not self._documents:
            return
        done = [d for d in self._documents if d.index <= index]
        path = done[-1].after if done else self._documents[0].before
        if path != self.path:
            self.path = path
            self.title_changed.emit()

    def _saved_as(self, path: Path) -> None:
        """Save As names the file of the document now shown, wherever Undo and Redo go."""
        index = self.editor.stack.index()
        done = [d for d in self._documents if d.index <= index]
        if done:
            done[-1].after = path
        elif self._documents:
            self._documents[0].before = path
        self.path = path

    # saving -----------------------------------------------------------------------------------
    def save(self) -> bool:
        return self.save_as(self.path) if self.path else self.save_as()

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            suggested = str(Path(self._dir()) / f"{self.display_name().removesuffix('.json')}.json")
            path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save project", suggested, FILTER)
            if not path:
                return False
        path = Path(path)
        try:
            write_atomic(path, project_file_text(self.editor.project.to_dict(), path))
        except OSError as exc:
            QMessageBox.critical(self.parent_widget, "Cannot save project",
                                 f"{path}: {exc.strerror or exc}\nThe previous file, if any, is unchanged.")
            return False
        self._saved_as(path)
        self.editor.stack.setClean()
        app_settings.add_recent(str(path))
        self.title_changed.emit()
        self.message.emit(f"Saved {path}")
        return True

    def maybe_save(self) -> bool:
        """Ask what to do with unsaved changes; False means the user cancelled."""
        if not self.dirty:
            return True
        answer = QMessageBox.question(
            self.parent_widget, "Unsaved changes", f"Save the changes to {self.display_name()}?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def _dir(self) -> str:
        recent = app_settings.recent_files()
        return str(self.path.parent if self.path else Path(recent[0]).parent if recent else Path.home())

    # autosave and recovery --------------------------------------------------------------------
    def autosave(self) -> None:
        if not self.dirty:
            return
        record = {"saved_at": time.time(), "path": str(self.path) if self.path else None,
                  "project": self.editor.project.to_dict()}
        try:
            self.recovery_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.recovery_path, json.dumps(record))
        except OSError as exc:
            self.message.emit(f"Autosave failed: {exc.strerror or exc}")

    def discard_recovery(self) -> None:
        self.recovery_path.unlink(missing_ok=True)

    def offer_recovery(self) -> bool:
        """After a crash: offer the autosaved project; True if it was recovered."""
        if not self.recovery_path.exists():
            return False
        try:
            record = json.loads(read_regular(self.recovery_path, MAX_FILE_BYTES + 4096))
            doc = validate_project(record["project"])
        except (OSError, ValueError, KeyError, TypeError):
            self.discard_recovery()  # unreadable: nothing to offer
            return False
        # The rest of the record only decorates the question: a value that is not what we wrote
        # (a hand-edited "saved_at": "yesterday") is left out, never a reason to crash at every start.
        saved_at, origin = record.get("saved_at"), record.get("path")
        when = ""
        if isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool) and 0 <= saved_at < 1e11:
            when = time.strftime(" at %Y-%m-%d %H:%M", time.localtime(saved_at))
        origin = origin if isinstance(origin, str) and origin else None
        answer = QMessageBox.question(
            self.parent_widget, "Recover unsaved work?",
            f"workbench did not exit cleanly. Recover the unsaved project autosaved{when}"
            + (f" (from {origin})" if origin else "") + "?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        self.discard_recovery()
        if answer != QMessageBox.StandardButton.Yes:
            return False
        return self.replace_document(doc, "Recover autosaved project", Path(origin) if origin else None)
