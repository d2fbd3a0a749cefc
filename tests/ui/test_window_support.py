"""Shared by the window tests: a shown main window that never blocks on a dialog (no tests here)."""
from PySide6.QtWidgets import QMessageBox

from workbench.core.templates import template
from workbench.ui.shell.app import MainWindow

# How long a test waits for the training process or a worker to say something. A wait ends at the
# event, so this only bounds a run that is broken: generous, so that a busy machine (the suite next to
# another copy of itself on 2 cores) is never mistaken for one.
WAIT_MS = 300_000


def open_window(qtbot, tmp_path, monkeypatch, name: str = "alexnet") -> MainWindow:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(template(name), restore_layout=False)
    window.files.recovery_path = tmp_path / "recovery.json"
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def wait_for_hardware(qtbot, window: MainWindow) -> None:
    """Until the training process has said what the machine has: the device menu and the data's
    placement line change then, and the layout with them. A layout check that looks while that news
    arrives sees a dock halfway through laying itself out (CI saw a 32 px device menu once)."""
    qtbot.waitUntil(lambda: window.training_panel.hardware is not None, timeout=WAIT_MS)
