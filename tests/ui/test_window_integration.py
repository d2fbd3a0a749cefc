"""The window as one app: lessons from the menu, training from the window feeding every dock, layer
selection shared by the builder and the panels, opening runs, closing while training."""
import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.ui.shell.docks import LOCK_REASON

from .test_window_support import WAIT_MS, open_window


def lesson_action(window, name: str):
    return next(a for a in window.menu("Lessons").actions() if a.data() == name)


def tiny_training(window, epochs: int = 2) -> None:
    """120 digits, a few epochs: seconds on 2 cores."""
    window.training_panel.epochs_box.setValue(epochs)
    data = window.project.section("data")
    data["count"] = 120
    window.project.set_section("data", data)


@pytest.fixture(scope="module")
def saved_run(tiny_run):
    return tiny_run("digits-cnn")


def test_lesson_from_the_menu_loads_selects_and_shows_its_numbers(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    lesson_action(window, "alexnet-conv1").trigger()
    assert window.project.layer(0)["type"] == "Conv2d" and window.selection.current_index() == 0
    assert window.summary.row(window.project.layer(0)["id"])["output"] == [96, 55, 55]
    assert window.docks.docks["lesson"].isVisible() and window.docks.player.lesson().name == "alexnet-conv1"
    assert window.summary_dock.isVisible()
    shown = window.docks.arithmetic.view.current()  # F, S, P of the selected layer
    assert (shown.size, shown.stride, shown.padding) == (11, 4, 0)

    lesson_action(window, "max-pooling").trigger()
    arithmetic = window.docks.arithmetic
    assert window.docks.docks["arithmetic"].isVisible() and arithmetic.isVisible()
    assert arithmetic.view.current().output.tolist() == [[6, 8], [3, 4]]
    window.editor.stack.undo()  # one undoable step: back to AlexNet's first layer
    assert window.summary.row(window.project.layer(0)["id"])["output"] == [96, 55, 55]


def test_arithmetic_dock_follows_the_selection_and_hints_for_other_layers(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    window.docks.raise_dock("arithmetic")
    window.selection.select_index(4)  # MaxPool 2×2, s2
    assert window.docks.arithmetic.view.current().operation == "max"
    window.selection.select_index(5)  # Flatten
    assert window.docks.arithmetic.showing_hint() and "Flatten" in window.docks.arithmetic.hint.text()


def test_training_from_the_window_feeds_the_docks_and_locks_the_builder(qtbot, tmp_path, monkeypatch, saved_run):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    window.training_panel.runs_root = tmp_path / "runs"
    tiny_training(window)
    window.docks.raise_dock("filters")
    window.docks.raise_dock("training")
    with qtbot.waitSignal(window.training_panel.training_changed, timeout=WAIT_MS):
        window.training_panel.start()
    assert window.builder.locked_reason == LOCK_REASON
    before = window.project.to_dict()
    assert not window.open_run(saved_run)  # the panels belong to the run in progress
    assert window.statusBar().currentMessage() == "Stop training to open another run"
    assert window.project.to_dict() == before
    filters = window.insight["filters"]
    qtbot.waitUntil(lambda: filters.mosaic is not None, timeout=WAIT_MS)
    assert filters.mosaic.count == 16  # Conv 16 @ 3×3: one tile per filter
    qtbot.waitUntil(lambda: not window.training_panel.is_training, timeout=WAIT_MS)
    assert window.builder.locked_reason == ""
    curves = window.insight["curves"]
    epochs = [e for e in curves.events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]  # the curves dock got the run's metrics
    assert window.insight["confusion"].classes[:2] == ["0", "1"]  # class names from the start event


def test_selection_is_shared_by_builder_and_panels(qtbot, tmp_path, monkeypatch, saved_run):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    window.docks.raise_dock("activations")
    assert window.open_run(saved_run)
    activations = window.insight["activations"]
    window.selection.select_index(2)
    assert activations.layers.current() == 2
    with qtbot.waitSignal(window.selection.changed):
        activations.layers.picked.emit(4)  # the user picks layer 4 in the panel
    assert window.selection.current_index() == 4


def test_opening_a_run_fills_the_panels_and_a_bad_folder_says_why(qtbot, tmp_path, monkeypatch, saved_run):
    window = open_window(qtbot, tmp_path, monkeypatch, "alexnet")
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    assert not window.open_run(tmp_path / "nothing-here")
    assert warnings and "no such run folder" in warnings[0]
    window.docks.raise_dock("filters")
    window.docks.raise_dock("arithmetic")
    assert window.open_run(saved_run)
    assert window.project.layer(0)["out_channels"] == 16  # the run's network replaced AlexNet (undoable)
    assert window.insight["filters"].mosaic.count == 16
    assert [e["epoch"] for e in window.insight["curves"].events if e["event"] == "epoch"] == [1]
    window.selection.select_index(2)  # Conv 32 @ 3×3 on 8×8×16: real activations, trained filter 0
    kernel = window.docks.probe["filters"][2][0, 0]
    assert np.allclose(window.docks.arithmetic.view.current().kernel, kernel)
    window.editor.stack.undo()
    assert window.project.layer(0)["out_channels"] == 96


def test_hidden_docks_are_not_probed(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    sent = []
    monkeypatch.setattr(window.training_panel, "set_probe_request", sent.append)
    window.docks.raise_dock("filters")
    qtbot.waitUntil(lambda: bool(sent) and sent[-1].filters, timeout=WAIT_MS)
    assert not sent[-1].latent
    window.docks.docks["filters"].hide()
    qtbot.waitUntil(lambda: not sent[-1].filters, timeout=WAIT_MS)
    window.docks.raise_dock("latent")
    qtbot.waitUntil(lambda: sent[-1].latent, timeout=WAIT_MS)
    assert not sent[-1].filters


def test_closing_while_training_asks_then_stops_cleanly(qtbot, tmp_path, monkeypatch):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    window.training_panel.runs_root = tmp_path / "runs"
    tiny_training(window, epochs=50)
    asked = []

    def answer(parent, title, text, *args):
        asked.append(title)
        if title == "Stop and close?":
            return QMessageBox.StandardButton.Cancel if len(asked) == 1 else QMessageBox.StandardButton.Yes
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "question", answer)
    with qtbot.waitSignal(window.training_panel.training_changed, timeout=WAIT_MS):
        window.training_panel.start()
    assert not window.close() and window.training_panel.is_training  # cancelled: training goes on
    assert window.close()
    assert asked[:2] == ["Stop and close?", "Stop and close?"] and not window.training_panel.is_training


def test_a_run_trained_by_two_processes_opens_like_any_other(qtbot, tmp_path, monkeypatch, two_process_run):
    run = two_process_run[0]
    window = open_window(qtbot, tmp_path, monkeypatch, "alexnet")
    window.docks.raise_dock("filters")
    window.docks.raise_dock("training")
    assert window.open_run(run)
    assert window.project.layer(0)["out_channels"] == 16  # the run's digits-cnn (without its dropout)
    assert "Dropout" not in [layer["type"] for layer in window.project.layers]
    panel = window.training_panel
    assert "(trained by 2 processes)" in panel.status.text() and panel.status.text().startswith("run: stopped at epoch")
    assert panel.curves["val_loss"].n >= 1  # rank 0's epochs, once each
    assert window.insight["filters"].mosaic.count == 16
