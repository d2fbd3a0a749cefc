"""The window's undo stack: core commands (workbench.core.commands) wrapped in QUndoCommand.

Views build a core command against the project (building checks it and raises ProjectError with
the core's message) and hand it to `Editor.push`; a refused edit changes nothing and reports its
message through `refused`, which the window shows in the status bar.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from workbench.core.commands import NO_MERGE, Command
from workbench.core.project import Project, ProjectError


class QtCommand(QUndoCommand):
    def __init__(self, project: Project, command: Command):
        super().__init__(command.text)
        self.project, self.command = project, command

    def redo(self) -> None:
        self.command.apply(self.project)

    def undo(self) -> None:
        self.command.apply(self.project, undo=True)

    def id(self) -> int:
        return self.command.merge_id if self.command.merge_id != NO_MERGE else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        return isinstance(other, QtCommand) and self.command.merge(other.command)


class Editor(QObject):
    """The project plus its undo stack: the one way views change the project."""

    refused = Signal(str)

    def __init__(self, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.stack = QUndoStack(self)

    def push(self, build: Callable[[Project], Command]) -> Command | None:
        """Build a command against the project and apply it; a refused one emits `refused`."""
        try:
            command = build(self.project)
        except ProjectError as exc:
            self.refused.emit(str(exc))
            return None
        self.stack.push(QtCommand(self.project, command))
        return command


UNDO_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


class UndoKeysEverywhere(QObject):
    """Ctrl+Z / Ctrl+Shift+Z undo and redo the project's edits wherever the focus is in `window`.

    A focused text field (a spin box of the inspector, the palette's filter) claims those keys for
    its own text undo, so the window's Undo never fired while an inspector field had focus. An
    inspector field's edits are already project edits (each change is an undoable command), so the
    project's stack is the undo a user means. Installed on the application (key events reach the
    focused widget, not the window)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, QWidget) \
                and isinstance(event, QKeyEvent) and any(event.matches(key) for key in UNDO_KEYS) \
                and watched.window() is self.window:
            event.ignore()  # not the field's: the window's Undo / Redo shortcut fires
            return True
        return False
