"""Shared by the window tests: a shown main window that never blocks on a dialog (no tests here)."""
from PySide6.QtWidgets import QMessageBox

from workbench.core.templates import template
from workbench.ui.shell.app import MainWindow


def open_window(qtbot, tmp_path, monkeypatch, name: str = "alexnet") -> MainWindow:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(template(name), restore_layout=False)
    window.files.recovery_path = tmp_path / "recovery.json"
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window
