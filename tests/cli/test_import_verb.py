"""`workbench import` as a user runs it: the project and its weights written, opaque parts listed,
bad input one line and a non-zero exit."""
import json
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

NET = '''
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.norm = nn.GroupNorm(2, 4)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.norm(self.conv(x))), 1))
'''


def workbench(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=180,
                          cwd=cwd)


def test_import_writes_the_project_and_its_weights_and_lists_the_opaque_part(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(NET)
    namespace: dict = {}
    exec(NET, namespace)
    torch.save(namespace["Net"]().state_dict(), tmp_path / "net.pt")
    result = workbench("import", "net.py:Net", "--input", "1,8,8", "-o", "net.json", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "wrote net.json: 5 layers, 1,498 parameters, output 10; weights in net.safetensors"
    assert lines[1] == "  layer 1: torch.nn.GroupNorm is not in the catalogue (at norm): an opaque card"
    doc = json.loads((tmp_path / "net.json").read_text())
    assert doc["weights"] == "net.safetensors" and (tmp_path / "net.safetensors").is_file()
    summary = workbench("summary", "net.json", cwd=tmp_path)
    assert summary.returncode == 0 and "GroupNorm (opaque)" in summary.stdout


def test_bad_sources_are_one_line_and_exit_2(tmp_path: Path) -> None:
    result = workbench("import", "torchvision:resnet1", "-o", "x.json", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == ["workbench import: torchvision:resnet1 is not one of torchvision's "
                                          "classification models (did you mean resnet18, resnet152, resnet101?)"]
    assert not (tmp_path / "x.json").exists()
