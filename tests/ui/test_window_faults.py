"""Faults the window must survive without losing a file: out-of-range settings in an opened project,
a view that fails during an open, hand-edited recovery files (issue 12, items 1, 8 and 9)."""
import json
import time

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.cli import gui
from workbench.core.project import read_project
from workbench.core.templates import template
from workbench.ui.shell.app import MainWindow

from .test_window_support import open_window


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")


@pytest.fixture
def dialogs(monkeypatch):
    shown = []
    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


def _other_project(tmp_path, **training):
    doc = template("autoencoder")
    doc["training"] = {**doc.get("training", {}), **training}
    path = tmp_path / "other.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("setting, text", [({"seed": 2147483648}, "training.seed: 2147483648 is not allowed"),
                                           ({"epochs": 10**12}, "training.epochs: 1000000000000 is not allowed"),
                                           ({"batch_size": 1e20}, "training.batch_size: 1e+20 is not allowed")])
def test_opening_out_of_range_settings_never_lets_save_overwrite_the_previous_file(window, tmp_path, dialogs,
                                                                                    setting, text):
    mine = tmp_path / "mywork.json"
    assert window.files.save_as(mine)
    mywork = mine.read_bytes()
    other = _other_project(tmp_path, **setting)
    assert window.files.open(other)
    # the network, the path and the title are the other project's, together
    assert window.project.name == "autoencoder" and window.files.path == other
    assert window.windowTitle().startswith("other.json")
    assert dialogs[-1][0] == "Training settings not valid" and text in dialogs[-1][1]
    assert window.training_panel.status.text().startswith("⚠ " + text)
    window.action("save").trigger()
    assert mine.read_bytes() == mywork
    assert read_project(other)["training"] == json.loads(other.read_text())["training"]  # kept as written


def test_the_warning_goes_once_the_setting_is_corrected(window, tmp_path, dialogs):
    assert window.files.open(_other_project(tmp_path, seed=2**40))
    assert window.training_panel.status.text().startswith("⚠ training.seed")
    window.training_panel.seed.setValue(7)
    assert window.project.section("training")["seed"] == 7 and window.training_panel.status.text() == ""


def test_the_seed_box_holds_exactly_the_seeds_a_file_may_hold(window):
    from workbench.training.config import validate_training

    box = window.training_panel.seed
    assert validate_training({"seed": box.maximum()}).seed == box.maximum()
    with pytest.raises(ValueError, match="training.seed"):
        validate_training({"seed": box.maximum() + 1})


def test_an_open_that_a_view_cannot_show_keeps_the_old_project_path_and_title(window, tmp_path, dialogs,
                                                                               monkeypatch):
    mine = tmp_path / "mywork.json"
    window.files.save_as(mine)
    before = window.project.to_dict()

    def broken(*args):
        raise OverflowError("a view broke")

    monkeypatch.setattr(type(window.training_panel), "_sync_from_project", broken)
    assert not window.files.open(_other_project(tmp_path))
    assert dialogs[-1][0] == "Cannot open project" and "a view broke" in dialogs[-1][1]
    assert window.project.to_dict() == before and window.files.path == mine
    assert window.windowTitle().startswith("mywork.json")


def test_screenshot_of_a_project_with_out_of_range_settings(tmp_path, qtbot, capsys):
    path = tmp_path / "seed.png"
    assert gui.main(["--screenshot", str(path), str(_other_project(tmp_path, seed=2**31, batch_size=1e20))]) == 0
    assert path.stat().st_size > 1000
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.deleteLater()


@pytest.mark.parametrize("record", [{"saved_at": "yesterday"}, {"saved_at": 1e300}, {"saved_at": None, "path": 5},
                                    {"saved_at": float("nan")}])
def test_a_hand_edited_recovery_file_is_still_offered(window, qtbot, monkeypatch, record):
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    doc = template("autoencoder")
    window.files.recovery_path.write_text(json.dumps({"path": None, "project": doc, **record}))
    assert window.files.offer_recovery()
    assert window.project.name == "autoencoder" and window.files.path is None
    assert asked == ["workbench did not exit cleanly. Recover the unsaved project autosaved?"]
    assert not window.files.recovery_path.exists()


def test_a_recovery_question_says_when_and_where(window, monkeypatch):
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    window.files.recovery_path.write_text(json.dumps({"saved_at": time.time(), "path": "/somewhere/net.json",
                                                      "project": template("autoencoder")}))
    assert not window.files.offer_recovery()
    assert time.strftime("autosaved at %Y-%m-%d") in asked[0] and "(from /somewhere/net.json)" in asked[0]


def _long_network(layers):
    body = []
    for _ in range(layers // 2):
        body += [{"type": "Linear", "out_features": 64}, {"type": "ReLU"}]
    return {"input": [64], "layers": body}


def test_an_edit_of_a_1000_layer_network_draws_what_is_on_view_not_every_layer(qtbot, tmp_path, monkeypatch):
    """What kept an edit at 1,000 layers over 100 ms: every card painted and every table cell measured
    (benchmarks/edit_speed.py times it)."""
    from workbench.core.commands import SetParam
    from workbench.ui.editing.builder import Builder
    from workbench.ui.editing.summary import SummaryTableModel

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(_long_network(1000), restore_layout=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    painted, asked = [], []
    paint_card, data = Builder._paint_card, SummaryTableModel.data
    monkeypatch.setattr(Builder, "_paint_card", lambda self, *a: painted.append(1) or paint_card(self, *a))
    monkeypatch.setattr(SummaryTableModel, "data", lambda self, *a: asked.append(1) or data(self, *a))
    window.editor.push(lambda p: SetParam(p, 500, "out_features", 65))
    window.builder.viewport().repaint()
    qtbot.wait(50)
    assert window.summary.summary["layers"][500]["output"] == [65]
    assert 0 < len(painted) < 100 and len(asked) < 2000, (len(painted), len(asked))


def test_a_network_too_large_to_edit_live_says_so(qtbot, tmp_path, monkeypatch):
    from workbench.core.commands import SetParam
    from workbench.ui.editing import model

    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    monkeypatch.setattr(model, "LIVE_EDIT_S", 0.0)  # any edit is "slow": what a 10,000-layer one is
    window.editor.push(lambda p: SetParam(p, 0, "out_channels", 20))
    message = window.statusBar().currentMessage()
    assert message.startswith(f"{len(window.project)} layers: too large to edit live (each edit takes ")
    assert message.endswith("Edits still apply and undo one by one")
