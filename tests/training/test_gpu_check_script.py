"""benchmarks/gpu_check.py stays runnable where no GPU is: --smoke runs every row with tiny sizes, so a
session with a GPU spends its minutes measuring, not debugging the script."""
import runpy
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def test_gpu_check_runs_every_row_on_the_cpu(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["gpu_check.py", "--smoke", "--device", "cpu"])
    runpy.run_path(str(SCRIPT), run_name="__main__")
    out = capsys.readouterr().out
    for workload in ("cifar10-cnn, batch 256", "VGG-style CNN, batch 512"):
        section = out.split(workload, 1)[1]
        for row in ("plain loop", "channels_last loop", "channels_last + compile loop", "engine, the device's defaults",
                    "engine, compiled (", "engine, every panel probed", "training process, every panel probed",
                    "best engine / fastest loop:"):
            assert row in section, (workload, row)
    assert "x the engine unprobed" in out and "digits-cnn reached" in out
