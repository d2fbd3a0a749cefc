"""Files: save and reopen, failed loads and saves, unsaved-changes prompts, templates, recovery, settings."""
import json
import os

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.core.project import read_project
from workbench.core.templates import TEMPLATES, template
from workbench.ui.shell import settings as app_settings
from workbench.ui.shell.app import MainWindow

from .test_window_support import open_window


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")


@pytest.fixture
def dialogs(monkeypatch):
    """Records every message box instead of showing it."""
    shown = []
    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


def test_settings_are_scoped_away_from_the_users():
    assert os.environ["WORKBENCH_SETTINGS_SCOPE"] == "tests"
    assert app_settings.organization() == "workbench-tests"
    assert "workbench-tests" in app_settings.settings().fileName()


def test_save_and_reopen_gives_the_same_project(window, tmp_path):
    window.inspector.editors["out_channels"].setValue(24)
    assert window.isWindowModified()
    path = tmp_path / "net.json"
    assert window.files.save_as(path)
    assert not window.isWindowModified() and window.windowTitle().startswith("net.json")
    saved = window.project.to_dict()
    assert read_project(path) == saved
    window.files.load_template("alexnet")
    assert window.files.open(path)
    assert window.project.to_dict() == saved
    assert window.builder.card_text(window.builder.cards[1]).volume == "→ 8×8×24"
    assert not window.editor.stack.canUndo()
    assert app_settings.recent_files()[0] == str(path.resolve())


def test_a_broken_file_shows_the_core_message_and_keeps_the_project(window, tmp_path, dialogs):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 8,
                                                                "kernel_size": 3, "strides": 2}]}))
    before = window.project.to_dict()
    assert not window.files.open(bad)
    assert dialogs and dialogs[0][0] == "Cannot open project"
    assert "layer 0 (Conv2d): unknown key 'strides' (did you mean 'stride'?)" in dialogs[0][1]
    assert window.project.to_dict() == before


def test_a_failed_save_keeps_the_previous_file(window, tmp_path, dialogs, monkeypatch):
    path = tmp_path / "net.json"
    window.files.save_as(path)
    original = path.read_bytes()
    window.inspector.editors["out_channels"].setValue(40)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    assert not window.files.save()
    assert dialogs[-1][0] == "Cannot save project" and "No space left" in dialogs[-1][1]
    assert path.read_bytes() == original and window.isWindowModified()
    assert [p.name for p in tmp_path.iterdir() if p.name != "recovery.json"] == ["net.json"]  # no temp left


def test_unsaved_changes_prompt_on_close_and_open(window, tmp_path, monkeypatch):
    asked = []

    def cancel(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", cancel)
    window.action("delete").trigger()
    assert not window.close() and window.isVisible()
    assert not window.files.open(tmp_path / "whatever.json")
    assert len(asked) == 2 and "Save the changes to digits-cnn?" in asked[0]
    target = tmp_path / "saved.json"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Save)
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.close()
    assert len(read_project(target)["layers"]) == 9


def test_every_template_loads_from_the_menu_and_undoes(window):
    for name in TEMPLATES:
        window.action(f"template:{name}").trigger()
        assert window.project.name == name
        expected = template(name)
        assert [window.builder.card_text(c).title for c in window.builder.cards[1:]] == [r["label"] for r in window.summary.summary["layers"]]
        assert [layer["type"] for layer in window.project.layers] == [layer["type"] for layer in expected["layers"]]
        assert window.summary_panel.model.rowCount() == len(expected["layers"]) + 1
    assert window.action("template:alexnet").toolTip() == TEMPLATES["alexnet"]
    for _ in TEMPLATES:
        window.action("undo").trigger()
    assert window.project.name == "digits-cnn"


def test_autosave_and_recovery_after_a_crash(window, qtbot, tmp_path, monkeypatch):
    window.files.autosave()
    assert not window.files.recovery_path.exists()  # nothing unsaved, nothing written
    window.inspector.editors["out_channels"].setValue(48)
    window.files.autosave()
    assert window.files.recovery_path.exists()
    # the app "crashes": a new window finds the recovery file and offers it
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    fresh = MainWindow(template("digits-cnn"), restore_layout=False)
    qtbot.addWidget(fresh)
    fresh.files.recovery_path = window.files.recovery_path
    assert fresh.files.offer_recovery()
    assert fresh.project.layer(0)["out_channels"] == 48 and fresh.isWindowModified()
    assert not fresh.files.recovery_path.exists()
    fresh.action("undo").trigger()
    assert fresh.project.layer(0)["out_channels"] == 16


def test_new_project_trains_as_it_stands(window, tmp_path):
    """New: the default dataset's 8×8×1 input and the smallest network that trains on it."""
    assert window.files.new()
    assert [window.builder.card_text(c).title for c in window.builder.cards] == ["Input", "Flatten", "FC 10"]
    assert window.project.input == [1, 8, 8] and window.project.section("data")["dataset"] == "digits"
    assert window.windowTitle().startswith("Untitled") and window.selection.current_index() == 0
    from workbench.training.engine import Trainer

    doc = window.project.to_dict()
    doc["data"]["count"] = 120
    events = list(Trainer(doc, run_dir=tmp_path / "run", epochs=1, device="cpu").events())
    assert events[-1]["status"] == "finished", events[-1]
