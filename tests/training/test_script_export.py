"""`workbench export SPEC --format script`: a standalone training script that needs no workbench."""
import json
import math
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from workbench.__main__ import main
from workbench.core.project import dumps_project
from workbench.core.templates import template
from workbench.training.script_export import to_training_script

# Runs the script as `python train.py` would, with workbench made unimportable: the script must
# not need it (the package is installed in editable mode, so -I alone would still find it).
NO_WORKBENCH = """
import runpy, sys
class NoWorkbench:
    def find_spec(self, name, path=None, target=None):
        if name == "workbench" or name.startswith("workbench."):
            raise ImportError("the exported script imported workbench")
sys.meta_path.insert(0, NoWorkbench())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_the_exported_script_trains_digits_without_workbench(tmp_path, capsys):
    script = tmp_path / "train.py"
    assert main(["export", "digits-cnn", "--format", "script", "-o", str(script)]) == 0
    assert capsys.readouterr().out == f"wrote {script}\n"
    source = script.read_text()
    assert "workbench" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from")))
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-I", "-c", NO_WORKBENCH, str(script), "--epochs", "1", "--device", "cpu",
                           "--batch-size", "128", "--out", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["event"] for e in events] == ["start", "epoch", "done"]
    start, epoch = events[0], events[1]
    # the same split as workbench train: 1,797 digits, 20 % validating
    assert (start["train_size"], start["val_size"], start["processes"]) == (1438, 359, 1)
    assert start["steps_per_epoch"] == 12 and epoch["global_step"] == 12  # 1,438 / 128, the last batch kept
    assert epoch["val_accuracy"] > 0.3 and epoch["train_loss"] < 2.4  # it learned (chance: 0.1 and ln 10)
    assert events[-1]["status"] == "finished"
    weights = load_file(out / "last.safetensors")
    assert weights["layers.0.weight"].shape == (16, 1, 3, 3) and torch.isfinite(weights["layers.9.bias"]).all()


def _fake_mnist(root) -> None:
    """40 training and 10 test images in torchvision's MNIST layout (the idx files)."""
    def idx(array: np.ndarray) -> bytes:
        return bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape) \
            + array.astype(np.uint8).tobytes()

    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 10)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(idx(rng.integers(0, 256, (n, 28, 28))))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(idx(np.arange(n) % 10))


def _image_folder(root) -> None:
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(np.full((12, 10, 3), 25 * i, dtype=np.uint8)).save(root / name / f"{i}.png")


@pytest.mark.parametrize("name, data, workers, words", [
    ("cifar10-cnn", {"dataset": "shapes", "count": 60, "augment": ["flip", "shift"]}, "0", ["def generate("]),
    ("denoising-autoencoder", {"dataset": "digits", "count": 200}, "0", ["CORRUPT = Corruption(\"gaussian\", 0.3)"]),
    ("lenet5", {"dataset": "mnist", "resize": 32}, "2", ["datasets.MNIST(root"]),
    ("digits-cnn", {"dataset": "folder"}, "1", ["datasets.ImageFolder(root"]),
])
def test_each_kind_of_data_trains_in_the_script(name, data, workers, words, tmp_path, monkeypatch, capsys):
    """In this process (quick): the shapes generator and augmentation copied in, denoising, and
    torchvision's MNIST and an image folder read by DataLoader workers."""
    doc = template(name)
    doc["data"] = data
    if name == "denoising-autoencoder":
        doc["training"]["task"] = "denoise"
    if data["dataset"] == "mnist":
        _fake_mnist(tmp_path)
    if data["dataset"] == "folder":
        _image_folder(tmp_path / "pictures")
        data["root"] = str(tmp_path / "pictures")
    script = tmp_path / "train.py"
    script.write_text(to_training_script(doc))
    for word in words:
        assert word in script.read_text(), word
    monkeypatch.setattr(sys, "argv", ["train.py", "--epochs", "1", "--device", "cpu", "--batch-size", "16",
                                      "--out", str(tmp_path / "out"), "--data-root", str(tmp_path),
                                      "--workers", workers])
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(script), run_name="__main__")
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert exited.value.code == 0 and [e["event"] for e in events] == ["start", "epoch", "done"], events
    assert math.isfinite(events[1]["val_loss"]) and (tmp_path / "out" / "best.safetensors").exists()


def test_a_dataset_that_does_not_fit_the_input_is_refused_as_training_would(tmp_path, capsys):
    doc = template("alexnet")
    spec = tmp_path / "alexnet.json"
    spec.write_text(dumps_project(doc))
    assert main(["export", str(spec), "--format", "script", "-o", str(tmp_path / "train.py")]) == 2
    err = capsys.readouterr().err
    assert "digits images are 8×8×1 but the project's input is 227×227×3" in err and err.count("\n") == 1
    assert not (tmp_path / "train.py").exists()
