"""Training and looking inside networks with branches: the engine, saved runs, probes on any branch, the
autoencoder analyses, and layer-wise pretraining's refusal."""
import math

import pytest
import torch

from workbench.core.build import GraphNet
from workbench.core.inference import summarize
from workbench.core.templates import template
from workbench.training.compression import code_info, compression_table
from workbench.training.engine import Trainer
from workbench.training.layerwise import LayerwiseTrainer
from workbench.training.pca_compare import compare_run
from workbench.training.probes import ProbeRequest, capture
from workbench.training.run_folder import open_run


def branched_digits() -> dict:
    """8×8 digits through a residual Add and a Concat with a side branch's 1×1 conv, then a classifier."""
    return {"input": [1, 8, 8], "layers": [
        {"type": "Conv2d", "id": "a", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU", "id": "b"},
        {"type": "Conv2d", "id": "c", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU", "id": "d"},
        {"type": "Conv2d", "id": "side", "out_channels": 4, "kernel_size": 1, "inputs": ["b"]},
        {"type": "Add", "id": "sum", "inputs": ["d", "b"]},
        {"type": "Concat", "id": "cat", "inputs": ["sum", "side"]},
        {"type": "MaxPool2d", "id": "pool", "kernel_size": 2}, {"type": "Flatten", "id": "flat"},
        {"type": "Linear", "id": "fc", "out_features": 10}],
        "data": {"dataset": "digits", "count": 240},
        "training": {"task": "classify", "optimizer": "adam", "lr": 0.005, "batch_size": 32, "epochs": 3}}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("graph") / "run"
    trainer = Trainer(branched_digits(), run_dir=path, device="cpu")
    events = list(trainer.events())
    return trainer, events, path


def test_a_branched_network_learns_and_its_run_reopens(trained) -> None:
    trainer, events, path = trained
    assert isinstance(trainer.model, GraphNet) and events[-1]["status"] == "finished"
    epochs = [e for e in events if e["event"] == "epoch"]
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    run = open_run(path)
    assert run.project["version"] == 2
    model = run.load_model()
    x = trainer.data.val_x[:8]
    trainer.model.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), trainer.model(x))


def test_probes_see_every_layer_and_the_filters_of_a_conv_on_a_side_branch(trained) -> None:
    trainer, _, _ = trained
    rows = summarize(branched_digits())["layers"]
    result = capture(trainer.model, trainer.data.val_x[:16], trainer.data.val_y[:16],
                     ProbeRequest(filters=True, activations=True, latent=True))
    side = next(r["index"] for r in rows if r["id"] == "side")
    assert sorted(result["filters"]) == [0, 2, side] and result["filters"][side].shape == (4, 8, 1, 1)
    assert {i: list(a.shape) for i, a in result["activations"].items()} == {r["index"]: r["output"] for r in rows}
    merged = result["activations"][next(r["index"] for r in rows if r["id"] == "cat")]
    assert merged.shape == (12, 8, 8) and merged[:8].any() and merged[8:].any()


def test_resnet_20_trains_on_shapes(one_torch_thread) -> None:
    doc = template("resnet-20")
    doc["data"]["count"] = 40
    events = list(Trainer(doc, device="cpu", epochs=1, batch_size=16).events())
    assert events[-1]["status"] == "finished", events[-1]["message"]
    epoch = next(e for e in events if e["event"] == "epoch")
    assert math.isfinite(epoch["train_loss"]) and 0 <= epoch["val_accuracy"] <= 1


def test_layerwise_pretraining_says_why_not_for_a_graph() -> None:
    doc = template("resnet-20")
    doc["data"]["count"] = 40
    with pytest.raises(ValueError) as info:
        LayerwiseTrainer(doc, device="cpu")
    message = str(info.value)
    assert "trains a chain of layers one after another" in message
    assert "this network has branches (layer 8, Add, merges #7 and #2)" in message
    assert "train it end to end (schedule plain)" in message


def test_the_unet_compares_with_pca_and_its_code_alone_does_not_decode(tiny_run) -> None:
    run = open_run(tiny_run("unet-denoiser"))
    comparison = compare_run(run)
    rows = summarize(run.project)["layers"]
    assert rows[comparison.code_layer]["id"] == "mid" and comparison.codes.shape[1] == 8 * 8 * 32
    assert comparison.ae_images.shape == comparison.inputs.shape == (8, 3, 32, 32)
    data = run.dataset()
    with pytest.raises(ValueError, match="bypassing layer 8: the code at layer 8 alone cannot drive"):
        compression_table(run.load_model(), code_info(run.project), data.train_x, data.val_x)


def test_the_exported_training_script_trains_a_branched_network(tmp_path) -> None:
    import json
    import subprocess
    import sys

    from safetensors.torch import load_file

    from workbench.__main__ import main
    from workbench.core.project import dumps_project

    doc = branched_digits()
    doc["data"] = {"dataset": "digits"}
    project = tmp_path / "net.json"
    project.write_text(dumps_project(doc))
    script = tmp_path / "train.py"
    assert main(["export", str(project), "--format", "script", "-o", str(script)]) == 0
    source = script.read_text()  # "sum" would hide Python's sum(): the Add is named by its kind
    assert "add1 = d + b" in source and "cat = torch.cat([add1, side], dim=1)" in source
    done = subprocess.run([sys.executable, str(script), "--epochs", "1", "--device", "cpu", "--batch-size", "128",
                           "--out", str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[-1]["status"] == "finished" and math.isfinite(events[1]["train_loss"])
    assert load_file(tmp_path / "out" / "last.safetensors")["side.weight"].shape == (4, 8, 1, 1)
