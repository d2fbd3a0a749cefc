"""`workbench summary`, `templates` and `export` as a user runs them: output, exit codes, no tracebacks."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workbench.core.export import to_pytorch_source
from workbench.core.inference import summarize
from workbench.core.templates import TEMPLATES


def workbench(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_summary_json_gives_alexnet_numbers() -> None:
    result = workbench("summary", "alexnet", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["total_params"] == 62_378_344
    conv1 = summary["layers"][0]
    assert conv1["output"] == [96, 55, 55] and conv1["params_unshared"] == 105_705_600
    assert conv1["formula"] == "1 + (227 − 11 + 2·0)/4 = 55"
    assert set(conv1) >= {"index", "id", "type", "output", "params", "params_unshared", "macs", "receptive_field",
                          "status", "message", "formula"}


def test_summary_table_is_readable() -> None:
    result = workbench("summary", "alexnet")
    assert "55×55×96" in result.stdout and "62,378,344" in result.stdout


def test_bad_file_is_one_line_and_nonzero(tmp_path: Path) -> None:
    path = tmp_path / "net.json"
    path.write_text('{"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 4}]}')
    result = workbench("summary", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"workbench summary: {path}: layer 0 (Conv2d): 'kernel_size' is required " \
                                    "(receptive field F (F×F))"


def test_templates_lists_every_template() -> None:
    lines = workbench("templates").stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(TEMPLATES)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_exported_source_builds_the_same_network(name: str, tmp_path: Path) -> None:
    source = to_pytorch_source(name)
    assert "workbench" not in "\n".join(l for l in source.splitlines() if l.startswith(("import", "from")))
    namespace: dict = {}
    exec(compile(source, f"{name}.py", "exec"), namespace)
    model = namespace["Net"]().eval()
    summary = summarize(name)
    assert sum(p.numel() for p in model.parameters()) == summary["total_params"]
    if summary["total_macs"] < 50_000_000:  # skip AlexNet's forward pass: slow, and its shapes are checked above
        with torch.no_grad():
            out = model(torch.zeros(2, *summary["input"]))
        assert list(out.shape[1:]) == summary["output"]


def test_export_cli_writes_a_runnable_file(tmp_path: Path) -> None:
    result = workbench("export", "digits-cnn", "--format", "pytorch", "-o", str(tmp_path / "model.py"))
    assert result.returncode == 0, result.stderr
    run = subprocess.run([sys.executable, "model.py"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.stdout.splitlines() == ["torch.Size([1, 10])", "38282 parameters"]


def test_onnx_export(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    result = workbench("export", "digits-cnn", "--format", "onnx", "-o", str(tmp_path / "m.onnx"))
    assert result.returncode == 0, result.stderr
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["input"]
