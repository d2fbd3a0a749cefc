"""Importing PyTorch networks: torchvision's parameter counts layer by layer, and the round trip
import -> exported PyTorch source -> the original's output with the same weights."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from workbench.core.build import build_model
from workbench.core.export import to_pytorch_source
from workbench.core.importing import import_source, save_imported
from workbench.core.importing.torch_fx import import_module
from workbench.core.inference import summarize
from workbench.core.project import ProjectError, read_project
from workbench.core.weights import apply_weights, load_initial_weights

torchvision = pytest.importorskip("torchvision")
pytestmark = pytest.mark.usefixtures("one_torch_thread")  # on a busy 2-core machine, far faster


def with_real_statistics(model: nn.Module) -> nn.Module:
    """Running statistics that are not the identity, so every BatchNorm counts in the comparison."""
    generator = torch.Generator().manual_seed(0)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=generator) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
    return model.eval()


def exported(doc: dict, weights: dict[str, torch.Tensor]) -> nn.Module:
    """The project's exported PyTorch source, run, holding the imported weights (through the built
    network, whose parameter names the export shares)."""
    built = build_model(doc)
    assert apply_weights(built, doc["layers"], weights) == []
    namespace: dict = {}
    exec(to_pytorch_source(doc), namespace)
    with torch.device("meta"):  # no random initialization of weights about to be replaced
        model = namespace["Net"]().eval()
    (model.layers if isinstance(built, nn.Sequential) else model).load_state_dict(built.state_dict(), assign=True)
    return model


def layer_parameters(imported, source: nn.Module) -> list[tuple[str, int, int]]:
    """(module path, the imported layer's parameters, torchvision's) for every module layer."""
    rows = {row["id"]: row for row in summarize(imported.doc)["layers"]}
    out = []
    for layer_id, path in imported.origins.items():
        try:
            module = source.get_submodule(path)  # a module layer's origin is its path in the source
        except AttributeError:
            continue  # a function call (add, flatten): no module
        out.append((path, rows[layer_id]["params"], sum(p.numel() for p in module.parameters())))
    return out


@pytest.mark.parametrize("name, total, kinds", [
    ("resnet18", 11_689_512, {"Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Add", "AdaptiveAvgPool2d", "Flatten",
                              "Linear"}),
    ("mobilenet_v2", 3_504_872, {"Conv2d", "BatchNorm2d", "ReLU6", "Add", "AdaptiveAvgPool2d", "Flatten",
                                 "Dropout", "Linear"}),
])
def test_torchvision_models_import_with_their_parameters_and_compute_their_output(name, total, kinds) -> None:
    source = with_real_statistics(getattr(torchvision.models, name)(weights=None))
    imported = import_module(source, [3, 32, 32], name)  # small: the shapes at 224 are checked once below
    assert imported.notes == []
    summary = summarize(imported.doc)
    assert summary["total_params"] == total and summary["first_error"] is None and summary["output"] == [1000]
    assert {layer["type"] for layer in imported.doc["layers"]} == kinds
    per_layer = layer_parameters(imported, source)
    assert len(per_layer) > 50 and all(ours == theirs for _, ours, theirs in per_layer), per_layer
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = source(x)
        built = build_model(imported.doc).eval()
        assert apply_weights(built, imported.doc["layers"], imported.weights) == []
        torch.testing.assert_close(built(x), expected)
        torch.testing.assert_close(exported(imported.doc, imported.weights)(x), expected)


def test_resnet18_volumes_at_224_and_its_output_there() -> None:
    source = with_real_statistics(torchvision.models.resnet18(weights=None))
    imported = import_module(source, [3, 224, 224], "resnet18")
    volumes = {row["id"]: row["output"] for row in summarize(imported.doc)["layers"]}
    assert volumes["maxpool"] == [64, 56, 56] and volumes["layer2_0_relu_2"] == [128, 28, 28]
    assert volumes["layer4_1_relu_2"] == [512, 7, 7] and volumes["fc"] == [1000]
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(exported(imported.doc, imported.weights)(x), source(x))


def test_vgg11_bn_is_a_chain_with_torchvisions_parameters_and_output() -> None:
    source = with_real_statistics(torchvision.models.vgg11_bn(weights=None))
    imported = import_module(source, [3, 32, 32], "vgg11_bn")
    assert imported.doc["version"] == 1  # no branches: a plain list of layers
    assert summarize(imported.doc)["total_params"] == 132_868_840
    assert all(ours == theirs for _, ours, theirs in layer_parameters(imported, source))
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(exported(imported.doc, imported.weights)(x), source(x))


NET_PY = '''
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    """A hand-written network with a skip connection, functional calls and a view."""

    input_shape = (1, 12, 12)

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 3, padding=1)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.head = nn.Linear(8 * 3 * 3, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        y = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(y)) + x)
        x = F.max_pool2d(x, 4)
        return self.head(x.view(x.size(0), -1))


class WithNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.norm = nn.LayerNorm(16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.norm(self.fc1(x))))


class WithAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(4 * 8, 2)

    def forward(self, x):
        t = x.view(x.size(0), 4, 8)
        a, _ = self.attn(t, t, t)
        return self.head(torch.flatten(a, 1))
'''


@pytest.fixture
def net_py(tmp_path: Path) -> Path:
    path = tmp_path / "net.py"
    path.write_text(textwrap.dedent(NET_PY))
    return path


def load_class(path: Path, name: str) -> type:
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace[name]


def test_a_hand_written_net_with_its_weights_beside_round_trips(net_py: Path, tmp_path: Path) -> None:
    original = with_real_statistics(load_class(net_py, "Net")())
    save_file({k: v.contiguous() for k, v in original.state_dict().items()}, str(tmp_path / "net.safetensors"))
    imported = import_source(f"{net_py}:Net")
    assert imported.doc["input"] == [1, 12, 12] and imported.notes == []
    assert [layer["type"] for layer in imported.doc["layers"]] == [
        "Conv2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "Add", "ReLU", "MaxPool2d",
        "Flatten", "Linear"]
    assert imported.doc["layers"][7]["inputs"] == ["bn2", "relu"]  # the skip connection
    (tmp_path / "project").mkdir()
    written = save_imported(imported, tmp_path / "project" / "net.json")
    assert written == tmp_path / "project" / "net.safetensors"
    doc = read_project(tmp_path / "project" / "net.json")  # the weights named relative to the file, read back
    assert doc["weights"] == str(written)
    model = build_model(doc).eval()
    assert load_initial_weights(model, doc) == []
    x = torch.rand(3, 1, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x))
        torch.testing.assert_close(exported(doc, imported.weights)(x), original(x))


def test_an_unsupported_module_becomes_an_opaque_card_and_the_rest_imports(net_py: Path) -> None:
    imported = import_source(f"{net_py}:WithNorm")
    assert imported.notes[0] == ("layer 1: torch.nn.LayerNorm is not in the catalogue (at norm): an opaque card")
    card = imported.doc["layers"][1]
    assert card["type"] == "Opaque" and card["output"] == [16] and card["parameters"] == 32
    summary = summarize(imported.doc)
    assert [row["output"] for row in summary["layers"]] == [[16], [16], [16], [3]]
    assert summary["total_params"] == sum(p.numel() for p in load_class(net_py, "WithNorm")().parameters())
    assert summary["layers"][1]["status"] == "warning" and summary["first_error"] is None
    with pytest.raises(ProjectError, match=r"^layer 1: torch.nn.LayerNorm is not in the catalogue .*cannot be built"):
        build_model(imported.doc)
    with pytest.raises(ProjectError, match="layer 1: torch.nn.LayerNorm"):
        to_pytorch_source(imported.doc)


def test_attention_is_opaque_with_its_measured_volume_and_parameters(net_py: Path) -> None:
    imported = import_source(f"{net_py}:WithAttention", input_shape=[32])
    rows = summarize(imported.doc)["layers"]
    attention = next(row for row in rows if "MultiheadAttention" in row["label"])
    assert attention["output"] == [4, 8] and attention["params"] == 4 * (8 * 8 + 8)  # in and out projections
    assert rows[-1]["output"] == [2] and rows[-1]["type"] == "Linear"
    assert any(note.startswith(f"layer {attention['index']}: torch.nn.MultiheadAttention, output 0 is not in the "
                               "catalogue") for note in imported.notes)


def test_an_opaque_card_says_when_the_input_changes_under_it(net_py: Path) -> None:
    doc = import_source(f"{net_py}:WithAttention", input_shape=[32]).doc
    doc["input"] = [64]
    rows = summarize(doc)["layers"]
    assert rows[0]["status"] == "error" and rows[0]["output"] is None
    assert rows[0]["message"].startswith("torch.Tensor.view was measured at import on a 32 input but now gets 64: "
                                         "an opaque part's output is known only for the input it was imported with")
    assert all(row["status"] == "unknown" for row in rows[1:])


def test_source_problems_are_one_line(net_py: Path, tmp_path: Path) -> None:
    cases = {
        "torchvision:resnt18": "did you mean resnet18",
        f"{net_py}": "name the class, as",
        f"{net_py}:Nett": "did you mean Net",
        f"{tmp_path / 'missing.py'}:Net": "no such file",
        "model.h5": "SOURCE must be torchvision:NAME, FILE.py:CLASS or FILE.onnx",
    }
    for source, expected in cases.items():
        with pytest.raises(ValueError, match=expected) as caught:
            import_source(source)
        assert "\n" not in str(caught.value)
    (tmp_path / "net.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a state dict file"):
        import_source(f"{net_py}:Net")
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\nraise RuntimeError('no GPU here')\n")
    with pytest.raises(ValueError, match=r"running it failed \(RuntimeError: no GPU here\)"):
        import_source(f"{broken}:Net")


def test_weights_that_do_not_fit_are_refused_with_the_tensor_named(net_py: Path, tmp_path: Path) -> None:
    wrong = {k: v for k, v in load_class(net_py, "Net")().state_dict().items() if k != "head.bias"}
    torch.save(wrong, tmp_path / "wrong.pt")
    with pytest.raises(ValueError, match=r"does not fit .*1 missing, e.g. head.bias"):
        import_source(f"{net_py}:Net", weights=str(tmp_path / "wrong.pt"))


@pytest.mark.parametrize("name", ["denoising-conv-autoencoder", "unet-denoiser", "inception-block"])
def test_a_workbench_export_imports_back_as_the_same_network(name: str) -> None:
    from workbench.core.templates import template

    doc = template(name)
    namespace: dict = {}
    exec(to_pytorch_source(doc), namespace)
    imported = import_module(namespace["Net"](), doc["input"], name)
    assert imported.notes == []
    ours, theirs = summarize(doc), summarize(imported.doc)
    assert [(r["type"], r["label"], r["output"], r["params"]) for r in theirs["layers"]] == \
        [(r["type"], r["label"], r["output"], r["params"]) for r in ours["layers"]]


def test_a_layer_whose_catalogue_rule_disagrees_with_the_forward_pass_becomes_opaque() -> None:
    from workbench.core.graph import INPUT
    from workbench.core.importing.assembly import Assembly
    from workbench.core.importing.torch_mapping import layer

    assembly = Assembly((1, 8, 8))
    conv = assembly.add([layer("Conv2d", out_channels=2, kernel_size=3)], [INPUT], (2, 7, 7), "conv", "torch.nn.Conv2d",
                        parameters=20, tensors={"weight": torch.zeros(2, 1, 3, 3), "bias": torch.zeros(2)})
    assert isinstance(conv, str)
    imported = assembly.finish(conv, "net", with_weights=True)
    assert imported.notes == ["layer 0: torch.nn.Conv2d as called here (torch gives 7×7×2, the catalogue's rule 6×6×2) "
                              "is not in the catalogue (at conv): an opaque card"]
    assert imported.doc["layers"][0]["type"] == "Opaque" and imported.weights == {}
    assert summarize(imported.doc)["layers"][0]["output"] == [2, 7, 7]
