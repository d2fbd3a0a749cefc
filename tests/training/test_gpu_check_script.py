"""benchmarks/gpu_check.py stays runnable: it runs here on the CPU with tiny settings."""
import runpy
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def test_gpu_check_runs_on_the_cpu(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["gpu_check.py", "--device", "cpu", "--epochs", "1", "--count", "100",
                                      "--batch-size", "64"])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    out = capsys.readouterr().out
    assert "digits-cnn on digits: engine" in out and "cifar10-cnn on shapes: engine" in out and "ratio" in out
