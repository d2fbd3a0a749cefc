"""File > Import… in the window: the imported project opens like any other (one card per layer, the
opaque part grey and read-only), the whole import undoes in one step, and a failure keeps the dialog
open with its one-line message."""
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from workbench.ui.shell.import_dialog import ImportDialog, load_imported

from .test_window_support import open_window

NET = '''
import torch
from torch import nn


class Net(nn.Module):
    input_shape = (1, 8, 8)

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.norm = nn.LayerNorm([4, 8, 8])
        self.fc = nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.norm(self.conv(x))), 1))
'''


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")


def test_file_import_opens_the_network_as_cards_and_undoes_as_a_whole(window, qtbot, tmp_path: Path) -> None:
    assert "import" in window.actions_by_name
    (tmp_path / "net.py").write_text(NET)
    before = window.project.to_dict()
    dialog = ImportDialog(tmp_path, window)
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentIndex(1)
    dialog.python_file.setText(str(tmp_path / "net.py"))
    dialog.class_name.setText("Net")
    assert dialog.output.text() == str(tmp_path / "Net.json")  # suggested from the class
    dialog.run_import()
    assert dialog.result() == ImportDialog.DialogCode.Accepted, dialog.message.text()
    assert load_imported(window.files, dialog.saved_to)
    ids = [layer["id"] for layer in window.project.layers]
    assert ids == ["conv", "norm", "relu", "flatten", "fc"]
    assert [card.id for card in window.builder.cards[1:]] == ids
    assert window.files.path == tmp_path / "Net.json" and not window.isWindowModified()
    assert window.summary.summary["output"] == [10] and window.summary.summary["first_error"] is None

    window.selection.select_index(1)  # the opaque LayerNorm: what the import measured, shown read-only
    shown = {name: widget.text() for name, widget in window.inspector.editors.items()}
    assert all(isinstance(widget, QLabel) for widget in window.inspector.editors.values())
    assert shown["module"] == "torch.nn.LayerNorm" and shown["output"] == "8×8×4" and shown["parameters"] == "512"
    card = window.builder.cards[2]
    assert window.builder.card_text(card).category == "Imported"
    picture = window.builder.viewport().grab().toImage()
    pixel = picture.pixelColor(window.builder.card_rect("norm").center())
    assert pixel.saturation() < 40  # a grey card, not a catalogue colour

    window.editor.stack.undo()
    assert window.project.to_dict() == before
    window.editor.stack.redo()
    assert [layer["id"] for layer in window.project.layers] == ids


def test_a_failed_import_keeps_the_dialog_open_with_the_message(window, qtbot, tmp_path: Path) -> None:
    dialog = ImportDialog(tmp_path, window)
    qtbot.addWidget(dialog)
    dialog.model_name.setCurrentText("resnet1")
    dialog.run_import()
    assert dialog.result() != ImportDialog.DialogCode.Accepted and dialog.saved_to is None
    assert dialog.message.text().startswith("✖ torchvision:resnet1 is not one of torchvision's classification models")
    assert not list(tmp_path.glob("*.json"))
    dialog.input_shape.setText("3,x")
    dialog.model_name.setCurrentText("resnet18")
    dialog.run_import()
    assert "must be C,H,W" in dialog.message.text()


def test_undo_and_redo_take_the_file_along_so_save_never_writes_over_another(window, tmp_path: Path) -> None:
    """Save after undoing an import wrote the project from before it over the imported file. Now the
    file follows the document through Undo and Redo, Save As included; a template after it is a
    document without a file (Save asks for a name) whichever way the history is walked."""
    from workbench.core.project import dumps_project, read_project
    from workbench.core.templates import template

    mine = tmp_path / "mine.json"
    assert window.files.save_as(mine)
    imported = tmp_path / "imported.json"
    imported.write_text(dumps_project(template("lenet5")))
    imported_text = imported.read_text()
    assert load_imported(window.files, imported)
    assert window.files.path == imported
    window.editor.stack.undo()
    assert window.files.path == mine and window.windowTitle().startswith("mine.json")
    assert window.files.save()
    assert imported.read_text() == imported_text  # untouched
    assert [layer["type"] for layer in read_project(mine)["layers"]] == [
        layer["type"] for layer in template("digits-cnn")["layers"]]
    window.editor.stack.redo()
    assert window.files.path == imported
    assert window.files.load_template("autoencoder")  # (no unsaved changes: nothing asked)
    assert window.files.path is None
    window.editor.stack.undo()
    assert window.files.path == imported
    copy = tmp_path / "copy.json"
    assert window.files.save_as(copy)  # the imported network, saved elsewhere
    window.editor.stack.redo()
    assert window.files.path is None
    window.editor.stack.undo()
    assert window.files.path == copy
