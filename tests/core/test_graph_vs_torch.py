"""Random networks with branches (residual and concat, strides and paddings mixed) against torch:
every layer's volume and parameter count, the built model's wiring, and the exported source computing
the built model's output with the same weights. ResNet-18 against torchvision's."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workbench.core.build import GraphNet, build_model
from workbench.core.export import to_onnx_bytes, to_pytorch_source
from workbench.core.inference import summarize
from workbench.core.templates import template


class _Net:
    """Draws layers and remembers what the test itself knows: ids and channel counts."""

    def __init__(self, draw: st.DrawFn, channels: int):
        self.draw, self.layers, self.channels = draw, [], {"input": channels}
        self.current = "input"

    def add(self, layer: dict, inputs: list[str] | None = None, channels: int | None = None) -> str:
        layer_id = f"n{len(self.layers)}"
        source = (inputs or [self.current])[0]
        self.layers.append({**layer, "id": layer_id, "inputs": inputs or [self.current]})
        self.channels[layer_id] = channels if channels is not None else self.channels[source]
        self.current = layer_id
        return layer_id

    def conv(self, source: str, careful: bool, stride: int | None = None, out: int | None = None) -> str:
        f = self.draw(st.sampled_from([1, 3, 5]))
        s = stride if stride is not None else self.draw(st.integers(1, 2))
        p = f // 2 if careful else self.draw(st.integers(0, 2))
        k = out or self.draw(st.integers(1, 6))
        return self.add({"type": "Conv2d", "out_channels": k, "kernel_size": f, "stride": s, "padding": p}, [source], k)


@st.composite
def branched_networks(draw: st.DrawFn) -> dict:
    """Residual blocks (identity or 1×1-projection shortcut), concat blocks (conv and pooling branches),
    long skips to an earlier layer; `careful` blocks keep sizes matching, the others may not."""
    c = draw(st.integers(1, 4))
    net = _Net(draw, c)
    earlier = ["input"]
    for n in range(draw(st.integers(1, 4))):
        block = draw(st.sampled_from(["residual", "concat"] if n == 0 else ["plain", "residual", "concat", "skip"]))
        careful = draw(st.booleans()) or draw(st.booleans())
        x = net.current
        if block == "plain":
            kind = draw(st.sampled_from(["conv", "relu", "bn", "pool"]))
            if kind == "conv":
                net.conv(x, careful)
            elif kind == "relu":
                net.add({"type": "ReLU"})
            elif kind == "bn":
                net.add({"type": "BatchNorm2d"})
            else:
                net.add({"type": "MaxPool2d", "kernel_size": 2, "stride": draw(st.integers(1, 2))})
        elif block == "residual":
            strides, y = [], x
            for _ in range(draw(st.integers(1, 2))):
                s = draw(st.integers(1, 2))
                y = net.conv(y, careful, stride=s)
                strides.append(s)
                if draw(st.booleans()):
                    net.add({"type": "ReLU"})
                    y = net.current
            shortcut = x
            if math.prod(strides) != 1 or net.channels[y] != net.channels[x] or draw(st.booleans()):
                shortcut = net.conv(x, True, stride=math.prod(strides) if careful else draw(st.integers(1, 3)),
                                    out=net.channels[y])
                net.layers[-1]["kernel_size"], net.layers[-1]["padding"] = 1, 0
            net.add({"type": "Add"}, [y, shortcut], net.channels[y])
        elif block == "concat":
            ends = []
            for _ in range(draw(st.integers(2, 3))):
                branch = draw(st.sampled_from(["conv", "pool", "same"]))
                if branch == "conv":
                    ends.append(net.conv(x, True, stride=1 if careful else None))
                elif branch == "pool":
                    ends.append(net.add({"type": "MaxPool2d", "kernel_size": 3, "stride": 1, "padding": 1}, [x]))
                elif x not in ends:
                    ends.append(x)
            if len(ends) == 1:
                ends.append(net.add({"type": "ReLU"}, [x]))
            net.add({"type": "Concat"}, ends, sum(net.channels[e] for e in ends))
        else:
            other = draw(st.sampled_from(earlier))
            if other != x:
                merge = draw(st.sampled_from(["Add", "Concat"]))
                channels = net.channels[x] + net.channels[other] if merge == "Concat" else net.channels[x]
                net.add({"type": merge}, [x, other], channels)
        earlier.append(net.current)
    if draw(st.booleans()):
        net.add({"type": "Flatten"})
        net.add({"type": "Linear", "out_features": draw(st.integers(1, 5))})
    return {"input": [c, draw(st.integers(4, 12)), draw(st.integers(4, 12))], "layers": net.layers}


def run_reference(doc: dict, model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's output computed from the file's own "inputs" (not from GraphNet's wiring)."""
    outputs = {"input": x}
    for layer, module in zip(doc["layers"], model.children()):
        outputs[layer["id"]] = module(*(outputs[s] for s in layer["inputs"]))
    return [outputs[layer["id"]] for layer in doc["layers"]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=branched_networks())
def test_random_branched_networks_match_torch(doc: dict) -> None:
    summary = summarize(doc)
    event("an error" if summary["first_error"] is not None else "valid")
    if summary["first_error"] is not None:
        row = summary["layers"][summary["first_error"]]
        assert row["message"]
        if row["type"] == "Add":  # torch adds only equal shapes, or broadcasts, which the app refuses on purpose
            assert "Add needs one" in row["message"]
        return
    model = build_model(doc).eval()
    assert isinstance(model, GraphNet)
    x = torch.rand(2, *doc["input"])
    with torch.no_grad():
        outputs = run_reference(doc, model, x)
        for row, out, module in zip(summary["layers"], outputs, model.children()):
            assert row["output"] == list(out.shape[1:]), (row["index"], row["label"], row["formula"])
            assert row["params"] == sum(p.numel() for p in module.parameters()), row["label"]
        torch.testing.assert_close(model(x), outputs[-1], rtol=0, atol=0)
        namespace: dict = {}
        exec(to_pytorch_source(doc), namespace)
        exported = namespace["Net"]().eval()
        exported.load_state_dict(model.state_dict())  # the same names: a trained model's weights load as they are
        torch.testing.assert_close(exported(x), outputs[-1])


def test_resnet18_has_torchvisions_parameters_and_with_its_weights_its_output() -> None:
    torchvision = pytest.importorskip("torchvision")
    doc = template("resnet18")
    summary = summarize(doc)
    assert summary["total_params"] == 11_689_512 and summary["output"] == [1000]
    reference = torchvision.models.resnet18(weights=None).eval()  # random weights: nothing is downloaded
    model = build_model(doc).eval()
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters()) == 11_689_512
    theirs = reference.state_dict()
    ours = model.state_dict()
    assert [v.shape for v in ours.values()] == [v.shape for v in theirs.values()]  # the same layers in the same order
    model.load_state_dict(dict(zip(ours, theirs.values())))
    for m in reference.modules():  # running statistics that are not the identity, so BatchNorm counts
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    model.load_state_dict(dict(zip(ours, reference.state_dict().values())))
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x))
    volumes = {r["id"]: r["output"] for r in summary["layers"]}
    assert volumes["maxpool"] == [64, 56, 56] and volumes["l2b1_out"] == [128, 28, 28]
    assert volumes["l4b2_out"] == [512, 7, 7]


def test_branched_exports_read_as_one_line_per_layer_with_named_tensors() -> None:
    source = to_pytorch_source("resnet-20")
    forward = source[source.index("def forward"):source.index('if __name__')]
    assert "l1b1_add = l1b1_bn2 + relu  # 32×32×16" in forward
    assert "l2b1_add = l2b1_bn2 + l2b1_downbn  # 16×16×32" in forward
    assert forward.count(" = ") == len(template("resnet-20")["layers"])
    source = to_pytorch_source("unet-denoiser")
    assert "skip1 = torch.cat([up1, enc1], dim=1)  # 32×32×32" in source
    assert "class Corruption(nn.Module)" in source and "class Add" not in source


def test_branched_networks_export_to_onnx() -> None:
    onnx = pytest.importorskip("onnx")
    model = onnx.load_from_string(to_onnx_bytes("inception-block"))
    onnx.checker.check_model(model)
    kinds = {node.op_type for node in model.graph.node}
    assert "Concat" in kinds and "Conv" in kinds
    assert "Add" in {node.op_type for node in onnx.load_from_string(to_onnx_bytes("resnet-20")).graph.node}


def test_ids_that_cannot_name_an_attribute_get_a_kind_name_and_still_build_and_export() -> None:
    doc = {"input": [2, 6, 6], "layers": [
        {"type": "Conv2d", "id": "forward", "out_channels": 2, "kernel_size": 3, "padding": 1},
        {"type": "ReLU", "id": "_parameters"}, {"type": "ReLU", "id": "class"}, {"type": "ReLU", "id": "x"},
        {"type": "Add", "id": "training", "inputs": ["x", "forward"]}, {"type": "ReLU", "id": "relu_out"}]}
    model = build_model(doc).eval()
    assert [name for name, _ in model.named_children()] == ["conv1", "relu1", "relu2", "relu3", "add1", "relu_out"]
    namespace: dict = {}
    exec(to_pytorch_source(doc), namespace)
    exported = namespace["Net"]().eval()
    exported.load_state_dict(model.state_dict())
    x = torch.rand(1, 2, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), model(x))
