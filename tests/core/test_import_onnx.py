"""Importing ONNX files: the graph as cards, the initializers as weights, what it lacks as opaque cards."""
from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from workbench.core.build import build_model
from workbench.core.export import to_onnx_bytes
from workbench.core.importing import import_source
from workbench.core.inference import summarize
from workbench.core.templates import template
from workbench.core.weights import apply_weights

pytest.importorskip("onnx")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


class SmallNet(nn.Module):
    """Convolutions with a skip connection and a concatenation, pooling, upsampling, a classifier."""

    def __init__(self, norm: bool = False):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8)
        self.conv2, self.conv3 = nn.Conv2d(8, 8, 3, padding=1), nn.Conv2d(8, 4, 1)
        self.pool, self.up = nn.MaxPool2d(2), nn.Upsample(scale_factor=2)
        self.fc, self.bn2 = nn.Linear(12 * 4 * 4, 10), nn.BatchNorm1d(10)
        self.norm = nn.LayerNorm(10) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.bn1(self.conv1(x)))
        b = self.conv2(a) + a
        c = self.pool(torch.cat([b, self.conv3(b)], 1))
        c = c + self.up(self.pool(c))
        return self.norm(nn.functional.relu6(self.bn2(self.fc(torch.flatten(self.pool(c), 1)))))


def onnx_file(model: nn.Module, shape: tuple[int, ...], path: Path) -> Path:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), torch.zeros(1, *shape), buffer, dynamo=False, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    path.write_bytes(buffer.getvalue())
    return path


def trained_statistics(model: nn.Module) -> nn.Module:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


def test_an_onnx_file_imports_with_its_weights_and_computes_the_originals_output(tmp_path: Path) -> None:
    original = trained_statistics(SmallNet())
    imported = import_source(str(onnx_file(original, (3, 16, 16), tmp_path / "small.onnx")))
    assert imported.notes == [] and imported.doc["name"] == "small" and imported.doc["input"] == [3, 16, 16]
    kinds = [layer["type"] for layer in imported.doc["layers"]]
    assert {"Conv2d", "Add", "Concat", "MaxPool2d", "Upsample", "Flatten", "Linear", "BatchNorm1d", "ReLU6"} <= set(kinds)
    summary = summarize(imported.doc)
    assert summary["first_error"] is None and summary["output"] == [10]
    model = build_model(imported.doc).eval()
    assert apply_weights(model, imported.doc["layers"], imported.weights) == []
    x = torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x))


def test_an_op_the_catalogue_lacks_is_an_opaque_card_with_its_initializers_counted(tmp_path: Path) -> None:
    imported = import_source(str(onnx_file(SmallNet(norm=True), (3, 16, 16), tmp_path / "normed.onnx")))
    last = len(imported.doc["layers"]) - 1
    assert imported.notes == [f"layer {last}: ONNX LayerNormalization is not in the catalogue "
                              "(at norm/LayerNormalization): an opaque card"]
    row = summarize(imported.doc)["layers"][last]
    assert row["output"] == [10] and row["params"] == 20 and row["status"] == "warning"


def test_a_workbench_export_imports_back_as_the_same_network(tmp_path: Path) -> None:
    path = tmp_path / "resnet20.onnx"
    path.write_bytes(to_onnx_bytes("resnet-20"))
    imported = import_source(str(path))
    ours, theirs = summarize(template("resnet-20")), summarize(imported.doc)
    assert theirs["output"] == ours["output"] and imported.notes == []
    # BatchNorm is folded into the convolutions by the exporter: fewer parameters, the same volumes
    assert [r["output"] for r in theirs["layers"] if r["type"] == "Add"] == \
        [r["output"] for r in ours["layers"] if r["type"] == "Add"]


def test_without_the_onnx_package_the_message_says_what_to_install(tmp_path: Path, monkeypatch) -> None:
    path = onnx_file(SmallNet(), (3, 16, 16), tmp_path / "small.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    with pytest.raises(ValueError, match=r'^reading ONNX files needs the onnx package: pip install -e "\.\[onnx\]"$'):
        import_source(str(path))


def test_bad_onnx_files_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"\x00not onnx at all")
    with pytest.raises(ValueError, match="junk.onnx: not an ONNX file"):
        import_source(str(tmp_path / "junk.onnx"))
    with pytest.raises(ValueError, match="missing.onnx: no such file"):
        import_source(str(tmp_path / "missing.onnx"))
