"""File > Import…: a network the user already has (torchvision model, Python class, ONNX file) as a project.

The dialog builds the same SOURCE text as `workbench import`, imports it, writes the project and its
weights (NAME.json and NAME.safetensors) where the user says, then loads it as one undoable edit, as
a template loads. A failed import keeps the dialog open with the one-line message in red.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QTabWidget, QVBoxLayout, QWidget)

from workbench.core.project import ProjectError, read_project
from workbench.ui.shell.files import FileController
from workbench.ui.shell.style import ERROR, colour_text

if TYPE_CHECKING:  # workbench.core.importing imports torch: the window starts without it
    from workbench.core.importing import Imported

SHAPE_HINT = "optional: one sample's C,H,W, e.g. 3,32,32"


def _file_row(edit: QLineEdit, caption: str, pattern: str, save: bool = False) -> QWidget:
    """A path field with a Browse… button beside it."""
    button = QPushButton("Browse…")

    def browse() -> None:
        ask = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = ask(edit.window(), caption, edit.text() or str(Path.home()), pattern)
        if path:
            edit.setText(path)

    button.clicked.connect(browse)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row


class ImportDialog(QDialog):
    def __init__(self, folder: Path, parent: QWidget | None = None):
        from workbench.core.importing.sources import classification_models

        super().__init__(parent)
        self.setWindowTitle("Import a network")
        self.folder = folder
        self.imported: Imported | None = None
        self.saved_to: Path | None = None
        self.tabs = QTabWidget()
        self.model_name = QComboBox()
        self.model_name.setEditable(True)
        self.model_name.addItems(classification_models())
        self.model_name.setCurrentText("resnet18")
        self.model_name.setToolTip("Built with weights=None: random weights, nothing is downloaded")
        self.python_file, self.class_name, self.onnx_file = QLineEdit(), QLineEdit(), QLineEdit()
        self.class_name.setPlaceholderText("optional when the file has one nn.Module class")
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("optional: a state dict (.safetensors, .pt, .pth)")
        self.input_shape = QLineEdit()
        self.input_shape.setPlaceholderText(SHAPE_HINT)
        self.output = QLineEdit()
        self.output.setToolTip("The project file to write; its weights go beside it as a .safetensors file")
        self._pages()
        form = QFormLayout()
        form.addRow("Input shape", self.input_shape)
        form.addRow("Save project as", _file_row(self.output, "Save imported project", "Projects (*.json)", save=True))
        self.message = QLabel()
        self.message.setWordWrap(True)
        colour_text(self.message, ERROR)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.run_import)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._suggested = ""
        for signal in (self.tabs.currentChanged, self.model_name.currentTextChanged, self.python_file.textChanged,
                       self.class_name.textChanged, self.onnx_file.textChanged):
            signal.connect(self._suggest_output)
        self._suggest_output()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)  # paths and messages fit, at any font

    def _pages(self) -> None:
        vision = QWidget()
        QFormLayout(vision).addRow("Model", self.model_name)
        python = QWidget()
        form = QFormLayout(python)
        form.addRow("Python file", _file_row(self.python_file, "Python file", "Python (*.py)"))
        form.addRow("Class", self.class_name)
        form.addRow("Weights", _file_row(self.weights, "Weights", "State dicts (*.safetensors *.pt *.pth)"))
        onnx = QWidget()
        QFormLayout(onnx).addRow("ONNX file", _file_row(self.onnx_file, "ONNX file", "ONNX (*.onnx)"))
        self.tabs.addTab(vision, "torchvision")
        self.tabs.addTab(python, "Python class")
        self.tabs.addTab(onnx, "ONNX file")

    def source(self) -> str:
        """The SOURCE text `workbench import` takes, from the current page."""
        page = self.tabs.currentIndex()
        if page == 0:
            return f"torchvision:{self.model_name.currentText().strip()}"
        if page == 1:
            path, name = self.python_file.text().strip(), self.class_name.text().strip()
            return f"{path}:{name}" if name else path
        return self.onnx_file.text().strip()

    def _stem(self) -> str:
        page = self.tabs.currentIndex()
        if page == 0:
            return self.model_name.currentText().strip() or "imported"
        if page == 1:
            return self.class_name.text().strip() or Path(self.python_file.text().strip()).stem or "imported"
        return Path(self.onnx_file.text().strip()).stem or "imported"

    def _suggest_output(self, *_: object) -> None:
        """Follow the source with the suggested project name until the user types their own."""
        if self.output.text() in ("", self._suggested):
            self._suggested = str(self.folder / f"{self._stem()}.json")
            self.output.setText(self._suggested)

    def run_import(self) -> None:
        from workbench.core.importing import import_source, save_imported
        from workbench.core.importing.sources import parse_shape

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if not self.output.text().strip():
                raise ValueError("give the project file to write (Save project as)")
            shape = parse_shape(self.input_shape.text()) if self.input_shape.text().strip() else None
            weights = self.weights.text().strip() if self.tabs.currentIndex() == 1 else ""
            imported = import_source(self.source(), shape, weights or None)
            path = Path(self.output.text().strip()).expanduser()
            save_imported(imported, path)
        except (ValueError, OSError) as exc:
            self.message.setText(f"✖ {exc}")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.imported, self.saved_to = imported, path
        self.accept()


def import_network(files: FileController, parent: QWidget) -> bool:
    """Ask for a network, import it, and load the written project as one undoable edit."""
    dialog = ImportDialog(Path(files.path.parent if files.path else Path.home()), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.saved_to is None or dialog.imported is None:
        return False
    return load_imported(files, dialog.saved_to)


def load_imported(files: FileController, path: Path) -> bool:
    """Load a project `save_imported` wrote (undoable as a whole), and say what became opaque."""
    try:
        doc = read_project(path)
    except ProjectError as exc:
        files.message.emit(str(exc))
        return False
    if not files.replace_document(doc, f"Import {doc['name'] or path.stem}", path):
        return False
    files.editor.stack.setClean()
    opaque = sum(layer["type"] == "Opaque" for layer in doc["layers"])
    files.message.emit(f"Imported {path.name}: {len(doc['layers'])} layers"
                       + (f", {opaque} opaque cards (not in the catalogue: their warnings say what they are)" if opaque
                          else "") + ("" if "weights" in doc else "; no weights, it starts from fresh ones"))
    return True
