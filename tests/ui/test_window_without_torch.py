"""Startup without torch (issue 19): the core's shape, parameter and formula rules, `workbench summary`
and the window import no torch; the training process loads it behind the window and says what the
machine has. Checked in a fresh interpreter where importing torch (or torchvision) fails."""
import subprocess
import sys
import textwrap

BLOCK_TORCH = textwrap.dedent("""
    import importlib.abc, sys

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "torchvision"):
                raise ImportError(f"torch is blocked in this test: {name}")
            return None

    sys.meta_path.insert(0, NoTorch())
""")

CORE_AND_SUMMARY = BLOCK_TORCH + textwrap.dedent("""
    import workbench.core, workbench.core.commands, workbench.core.lessons, workbench.data
    import workbench.training.config, workbench.training.placement, workbench.training.probe_request
    from workbench.__main__ import main
    from workbench.core import summarize
    from workbench.core.catalogue import CATALOGUE

    summary = summarize("alexnet")
    assert summary["total_params"] == 62378344, summary["total_params"]
    assert summary["layers"][0]["formula"] == "1 + (227 − 11 + 2·0)/4 = 55", summary["layers"][0]["formula"]
    assert main(["summary", "alexnet"]) == 0
    try:
        CATALOGUE["Conv2d"].module
    except ImportError as exc:  # building is where torch is needed, and only there
        print("build needs torch:", exc)
    assert "torch" not in sys.modules
""")

WINDOW = BLOCK_TORCH + textwrap.dedent("""
    import time
    from workbench.cli.gui import import_window
    from workbench.core.commands import SetParam

    shell = import_window()
    app = shell.create_app()
    window = shell.MainWindow(restore_layout=False)
    window.show()
    app.processEvents()
    assert window.workspace.editor.push(lambda p: SetParam(p, 0, "out_channels", 24)) is not None
    app.processEvents()
    print("first layer:", window.workspace.summary.summary["layers"][0]["output"])
    panel = window.training_panel
    deadline = time.monotonic() + 90
    while panel.hardware is None and time.monotonic() < deadline:  # the training process loads torch
        app.processEvents()
        time.sleep(0.01)
    print("device menu:", panel.device.itemText(0))
    print("placement:", panel.placement.text())
    assert "torch" not in sys.modules
    panel.stop_and_wait()
""")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_the_core_rules_and_workbench_summary_need_no_torch() -> None:
    result = _run(CORE_AND_SUMMARY)
    assert result.returncode == 0, result.stderr
    assert "Total: 62,378,344 parameters" in result.stdout
    assert "build needs torch: torch is blocked in this test: torch" in result.stdout


def test_the_window_shows_edits_and_learns_the_devices_without_importing_torch() -> None:
    result = _run(WINDOW)
    assert result.returncode == 0, result.stderr
    assert "first layer: [24, 8, 8]" in result.stdout, result.stdout
    # the training process's torch named the device ("auto (CPU (x86_64, 2 cores))" or the GPU)
    assert "device menu: auto (" in result.stdout, result.stdout
    assert "placement: Data: 1,797 samples × 264 B" in result.stdout, result.stdout
