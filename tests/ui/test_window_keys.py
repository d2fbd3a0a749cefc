"""Shortcuts typed on the builder: Delete, Ctrl+D, Ctrl+Z, Ctrl+Shift+Z."""
from PySide6.QtCore import Qt

from .test_window_support import WAIT_MS, open_window


def test_editing_shortcuts_on_the_builder(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, monkeypatch)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    viewport, ctrl = window.builder.viewport(), Qt.KeyboardModifier.ControlModifier
    window.selection.select_index(1)
    qtbot.keyClick(viewport, Qt.Key.Key_Delete)
    assert len(window.project) == 23 and window.project.layer(1)["type"] == "LocalResponseNorm"
    qtbot.keyClick(viewport, Qt.Key.Key_D, ctrl)
    assert [layer["type"] for layer in window.project.layers[1:3]] == ["LocalResponseNorm"] * 2
    qtbot.keyClick(viewport, Qt.Key.Key_Z, ctrl)
    qtbot.keyClick(viewport, Qt.Key.Key_Z, ctrl)
    assert len(window.project) == 24 and window.project.layer(1)["type"] == "ReLU"
    qtbot.keyClick(viewport, Qt.Key.Key_Z, ctrl | Qt.KeyboardModifier.ShiftModifier)
    assert len(window.project) == 23
