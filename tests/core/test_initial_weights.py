"""A project's initial weights (an imported network's): stored by layer id beside the project, kept by
layers across edits, and where training and ONNX export start from."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from workbench.core.build import build_model
from workbench.core.importing import save_imported
from workbench.core.importing.torch_fx import import_module
from workbench.core.project import Project, ProjectError, project_file_text, read_project, validate_project
from workbench.core.weights import apply_weights, load_initial_weights, read_weights

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Digits(nn.Module):
    input_shape = (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc(torch.flatten(x, 1))


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, nn.Module]:
    source = Digits().eval()
    path = tmp_path / "digits.json"
    save_imported(import_module(source, name="digits"), path)
    return path, source


def test_the_project_names_its_weights_beside_it_and_reads_them_from_anywhere(saved, tmp_path, monkeypatch) -> None:
    path, source = saved
    assert json.loads(path.read_text())["weights"] == "digits.safetensors"
    monkeypatch.chdir(tmp_path.parent)  # opened from another folder: still the file beside the project
    doc = read_project(path)
    assert Path(doc["weights"]) == tmp_path / "digits.safetensors"
    assert set(read_weights(doc["weights"])) == {"conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                                 "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias"}
    assert Project(doc).to_dict()["weights"] == doc["weights"]
    model = build_model(doc).eval()
    assert load_initial_weights(model, doc) == []
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x), source(x))


def test_saving_names_the_weights_relative_to_the_project_so_the_folder_can_move(saved, tmp_path) -> None:
    """Saved again (File > Save As… in the window), the project names weights in its folder or below
    relative to it; the folder moved whole still opens with them. Weights elsewhere stay absolute."""
    path, _ = saved
    doc = read_project(path)  # the weights absolute, as in memory
    (tmp_path / "kept").mkdir()
    again = tmp_path / "again.json"
    again.write_text(project_file_text(doc, again))
    assert json.loads(again.read_text())["weights"] == "digits.safetensors"
    deeper = tmp_path / "kept" / "deeper.json"
    deeper.write_text(project_file_text(doc, deeper))
    assert json.loads(deeper.read_text())["weights"] == str(tmp_path / "digits.safetensors")  # not below it
    moved = tmp_path.parent / f"{tmp_path.name}-moved"
    tmp_path.rename(moved)
    assert Path(read_project(moved / "again.json")["weights"]) == moved / "digits.safetensors"
    assert read_weights(read_project(moved / "again.json")["weights"])
    outer = {**doc, "weights": str(moved / "digits.safetensors")}
    assert json.loads(project_file_text(outer, moved / "kept" / "x.json"))["weights"] == outer["weights"]
    moved.rename(tmp_path)  # (pytest removes tmp_path)


def test_a_bad_or_missing_weights_file_is_one_line(saved, tmp_path) -> None:
    with pytest.raises(ProjectError, match=r"^'weights' must name a \.safetensors file"):
        validate_project({"input": [1, 8, 8], "layers": [], "weights": 3})
    path, _ = saved
    doc = read_project(path)
    (tmp_path / "digits.safetensors").unlink()
    with pytest.raises(ProjectError, match=r"digits\.safetensors: the project's weights file is missing: put it back "
                                           r"beside the project, or remove 'weights'"):
        load_initial_weights(build_model(doc), doc)
    (tmp_path / "digits.safetensors").write_bytes(b"garbage")
    with pytest.raises(ProjectError, match="not a safetensors weights file"):
        load_initial_weights(build_model(doc), doc)


def test_edited_layers_keep_their_weights_and_a_layer_that_no_longer_fits_starts_fresh(saved) -> None:
    path, source = saved
    doc = read_project(path)
    layers = doc["layers"]
    layers.insert(1, {"type": "Dropout", "id": "added", "p": 0.1})  # a new layer between conv and bn
    fc = next(layer for layer in layers if layer["id"] == "fc")
    fc["out_features"] = 5  # no longer the file's 10 outputs
    doc = validate_project(doc)
    model = build_model(doc)
    notes = apply_weights(model, doc["layers"], read_weights(doc["weights"]))
    index = [layer["id"] for layer in doc["layers"]].index("fc")
    assert notes == [f"layer {index} (fc): the file's weight is 10×64 but the layer needs 5×64: it starts from fresh "
                     "weights"]
    torch.testing.assert_close(model[0].weight, source.conv.weight)  # conv kept its weights
    torch.testing.assert_close(model[2].running_var, source.bn.running_var)  # bn too, one place further down


def test_onnx_export_carries_the_imported_weights(saved) -> None:
    onnx = pytest.importorskip("onnx")
    from workbench.core.export import to_onnx_bytes

    path, source = saved
    model = onnx.load_from_string(to_onnx_bytes(read_project(path)))
    arrays = [onnx.numpy_helper.to_array(t) for t in model.graph.initializer]
    fc = source.fc.weight.detach().numpy()
    assert any(a.shape == fc.shape and (a == fc).all() for a in arrays)
