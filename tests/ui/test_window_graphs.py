"""Networks with branches in today's window: they open (cards in project order), edit, delete on a branch
and undo, save as version 2 and open again; the Add's badge names its fix."""
import pytest

from workbench.core.project import read_project
from workbench.core.templates import template

from .test_window_support import open_window


@pytest.mark.parametrize("name", ["resnet-20", "unet-denoiser", "inception-block", "resnet18"])
def test_a_branched_template_opens_with_a_card_per_layer(qtbot, tmp_path, monkeypatch, name) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, name)
    layers = template(name)["layers"]
    assert [card.id for card in window.builder.cards[1:]] == [layer["id"] for layer in layers]
    assert window.summary.summary["first_error"] is None
    merge = next(i for i, layer in enumerate(layers) if layer["type"] in ("Add", "Concat"))
    window.selection.select_index(merge)
    assert window.inspector.isVisible()


def test_edit_delete_on_a_branch_undo_and_save_as_version_2(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "resnet-20")
    original = window.project.to_dict()
    window.selection.select_index(window.project.index_of("l2b1_down"))
    window.delete_selected()
    add = window.summary.row("l2b1_add")
    assert add["status"] == "error" and "insert a 1×1 Conv2d with 32 filters and stride 2" in add["message"]
    card = next(c for c in window.builder.cards if c.id == "l2b1_add")
    assert window.builder.card_text(card).message == "Click: 1×1 conv 32, s2"  # the badge offers the fix
    window.editor.stack.undo()
    assert window.project.to_dict() == original
    path = tmp_path / "resnet.json"
    assert window.files.save_as(path)
    assert read_project(path) == original and original["version"] == 2
    assert window.files.open(path) and window.project.to_dict() == original
