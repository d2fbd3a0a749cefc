"""The command line on networks with branches: summary lists inputs, export runs, plots show any branch,
pca compares a U-Net."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.cli import pca, plot
from workbench.core.inference import summarize


def workbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_summary_prints_each_layers_inputs() -> None:
    result = workbench("summary", "inception-block")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "layer", "inputs", "output"]
    concat = next(line for line in lines if line.split()[1:2] == ["Concat"])
    assert concat.split()[2:7] == ["4,", "8,", "12,", "15", "16×16×56"]
    assert "42,486 parameters" in lines[-1]
    rows = json.loads(workbench("summary", "resnet18", "--json").stdout)["layers"]
    add = next(r for r in rows if r["id"] == "l2b1_add")
    assert add["inputs"] == ["l2b1_bn2", "l2b1_downbn"] and add["output"] == [128, 28, 28]


def test_export_of_a_graph_runs_standalone(tmp_path: Path) -> None:
    result = workbench("export", "resnet-20", "-o", str(tmp_path / "resnet20.py"))
    assert result.returncode == 0, result.stderr
    run = subprocess.run([sys.executable, "resnet20.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.stdout.splitlines() == ["torch.Size([1, 10])", "272474 parameters"]


def _picture(path: Path) -> np.ndarray:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    return np.frombuffer(image.constBits(), np.uint8)


@pytest.mark.parametrize("what, layer_id", [("filters", "b5x5"), ("activations", "mixed"), ("activations", "bpool")])
def test_plot_shows_any_branch(qapp, tiny_run, tmp_path, what: str, layer_id: str, capsys) -> None:
    run_dir = tiny_run("inception-block")
    index = next(r["index"] for r in summarize("inception-block")["layers"] if r["id"] == layer_id)
    out = tmp_path / f"{what}.png"
    assert plot.main([str(run_dir), "--what", what, "--layer", str(index), "--size", "640x480", "-o", str(out)]) == 0
    assert _picture(out).std() > 10
    assert capsys.readouterr().err == ""


def test_pca_and_reconstructions_of_the_unet(qapp, tiny_run, tmp_path, capsys) -> None:
    run_dir = tiny_run("unet-denoiser")
    assert pca.main([str(run_dir), "--json"]) == 0
    numbers = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert numbers["input_size"] == 3072 and numbers["code_layer"] == 8 and numbers["ae_val_mse"] > 0
    out = tmp_path / "recon.png"
    assert plot.main([str(run_dir), "--what", "reconstructions", "--size", "640x480", "-o", str(out)]) == 0
    assert _picture(out).std() > 10
