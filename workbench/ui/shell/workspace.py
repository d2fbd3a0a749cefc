"""What the window works on: the project and what follows it, in one object views are handed.

    workspace = Workspace(doc, window)   # window: the parent of file dialogs
    workspace.editor.push(...)           # every edit, undoable
    workspace.summary.summary            # the network summary, redone on every change
    workspace.selection.current_index()  # the selected layer card
    workspace.files.save()               # the file it lives in: open, save, autosave, recovery

Qt-thin: the models are QObjects with signals, but nothing here draws. Docks get the workspace and a
small host interface (workbench.ui.shell.docks.DockHost), never the main window itself.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from workbench.core.project import Project
from workbench.ui.editing.model import SelectionModel, SummaryModel
from workbench.ui.editing.undo import Editor
from workbench.ui.shell.files import FileController


class Workspace(QObject):
    def __init__(self, doc: dict, dialog_parent: QWidget):
        super().__init__(dialog_parent)
        self.project = Project(doc)
        self.editor = Editor(self.project, self)
        self.summary = SummaryModel(self.project, self)
        self.selection = SelectionModel(self.project, self)
        self.files = FileController(self.editor, dialog_parent)
