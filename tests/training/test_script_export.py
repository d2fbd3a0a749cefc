"""`workbench export SPEC --format script`: a standalone training script that needs no workbench."""
import json
import subprocess
import sys

import pytest
import torch
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


@pytest.mark.parametrize("name, data, words", [
    ("cifar10-cnn", {"dataset": "shapes", "count": 300, "augment": ["flip"]}, ["def generate(", "augment_batch(x, [\"flip\"])"]),
    ("denoising-autoencoder", {"dataset": "digits"}, ["CORRUPT = Corruption(\"gaussian\", 0.3)", "F.mse_loss"]),
    ("mlp-cifar10", {"dataset": "cifar10"}, ["datasets.CIFAR10(root", "num_workers=args.workers", "DistributedSampler"]),
    ("digits-cnn", {"dataset": "folder", "root": "pictures"}, ["datasets.ImageFolder(root", "to_grey"]),
])
def test_each_kind_of_data_is_loaded_in_the_script(name, data, words):
    doc = template(name)
    doc["data"] = data
    if name == "denoising-autoencoder":
        doc["training"]["task"] = "denoise"
    source = to_training_script(doc)
    compile(source, "train.py", "exec")
    for word in words:
        assert word in source, word


def test_a_dataset_that_does_not_fit_the_input_is_refused_as_training_would(tmp_path, capsys):
    doc = template("alexnet")
    spec = tmp_path / "alexnet.json"
    spec.write_text(dumps_project(doc))
    assert main(["export", str(spec), "--format", "script", "-o", str(tmp_path / "train.py")]) == 2
    err = capsys.readouterr().err
    assert "digits images are 8×8×1 but the project's input is 227×227×3" in err and err.count("\n") == 1
    assert not (tmp_path / "train.py").exists()
