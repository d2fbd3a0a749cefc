"""Training health in the window, as a user sees it: a sick network trained from the window turns its
cards amber or red with the finding (card, tooltip, summary table, Health dock); digits-cnn stays
plain but shows its measured time; an opened run brings its health back; Compare Runs… with real run
folders; where the network looks in the Activation maps panel; the filters scrubbed by epoch."""
import re

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from workbench.core.templates import template
from workbench.training.attribution import Explanation
from workbench.training.updates import RunUpdate
from workbench.ui.editing.summary import COLUMNS, TIME
from workbench.ui.shell import health_docks
from workbench.ui.shell.app import MainWindow
from workbench.ui.shell.style import ERROR, WARNING

from .test_window_support import WAIT_MS


def sick_doc() -> dict:
    """Ten Sigmoid layers at learning rate 10 (as in tests/training/test_health.py)."""
    layers = [{"type": "Flatten"}]
    for _ in range(10):
        layers += [{"type": "Linear", "out_features": 32}, {"type": "Sigmoid"}]
    layers.append({"type": "Linear", "out_features": 10})
    return {"input": [1, 8, 8], "layers": layers, "data": {"dataset": "digits"},
            "training": {"task": "classify", "optimizer": "sgd", "lr": 10.0, "epochs": 1, "seed": 0, "device": "cpu"}}


def window_for(qtbot, tmp_path, monkeypatch, doc: dict) -> MainWindow:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(doc, restore_layout=False)
    window.files.recovery_path = tmp_path / "recovery.json"
    window.training_panel.runs_root = tmp_path / "runs"
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    return window


def card_pixels(window: MainWindow, layer_id: str) -> np.ndarray:
    """The card as painted on screen, (H, W, 3) uint8."""
    builder = window.builder
    builder.ensure_visible(layer_id)
    rect = builder.card_rect(layer_id)
    image = builder.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    ratio = round(image.width() / builder.viewport().width())
    box = pixels[rect.top() * ratio:(rect.bottom() + 1) * ratio, rect.left() * ratio:(rect.right() + 1) * ratio]
    return box[..., 2::-1].copy()  # BGRA in memory -> RGB, copied before the image goes


def share_of(pixels: np.ndarray, colour: QColor) -> float:
    target = np.array([colour.red(), colour.green(), colour.blue()])
    return float((np.abs(pixels.astype(int) - target).sum(axis=2) < 40).mean())


def train(window: MainWindow, qtbot) -> None:
    with qtbot.waitSignal(window.training_panel.run_finished, timeout=WAIT_MS) as finished:
        window.training_panel.start()
    assert finished.args[0]["status"] == "finished"


def test_a_sick_network_trained_in_the_window_turns_its_cards_red(qtbot, tmp_path, monkeypatch):
    window = window_for(qtbot, tmp_path, monkeypatch, sick_doc())
    plain = card_pixels(window, window.project.layer(1)["id"])
    train(window, qtbot)
    model = window.health.model
    qtbot.waitUntil(lambda: model.health is not None and model.timing is not None, timeout=WAIT_MS)
    marks = model.marks()
    vanishing = [i for i, layer in enumerate(window.project.layers)
                 if marks.get(layer["id"]) and marks[layer["id"]].headline == "vanishing gradient"]
    assert vanishing, [m.headline for m in marks.values()]
    index = vanishing[0]
    layer_id = window.project.layer(index)["id"]
    mark = marks[layer_id]
    assert mark.level in ("amber", "red") and any("vanishing" in s for s in mark.sentences)
    # the card: its outline and foot in the finding's colour (none of it before training), the sentence in its tooltip
    colour = ERROR if mark.level == "red" else WARNING
    assert share_of(plain, colour) == 0 and share_of(card_pixels(window, layer_id), colour) > 0.02
    card = next(c for c in window.builder.cards if c.id == layer_id)
    tip = window.builder.tooltip_for(card)
    assert "vanishing gradient" in tip and "smaller than at the output" in tip and "Measured per batch" in tip
    # the summary table: the headline in Notes, the time per batch beside the MACs
    cells = window.summary_panel.model.cells(index + 1)
    assert cells[-1] == "vanishing gradient" and re.fullmatch(r"[\d.]+ (µs|ms|s)", cells[TIME]) and COLUMNS[TIME - 1] == "MACs"
    # the Health dock: the findings in words
    assert "vanishing" in window.health.panel.findings.text()
    # a new run starts plain
    window.health.model.add_events([{"event": "start", "global_step": 0}])
    assert window.summary_panel.model.cells(index + 1)[-1] == "" and share_of(card_pixels(window, layer_id), colour) == 0


def test_digits_cnn_trained_in_the_window_stays_plain_and_shows_its_times(qtbot, tmp_path, monkeypatch):
    doc = template("digits-cnn")
    doc["data"]["count"] = 200
    doc["training"].update(epochs=1, device="cpu")
    window = window_for(qtbot, tmp_path, monkeypatch, doc)
    train(window, qtbot)
    model = window.health.model
    qtbot.waitUntil(lambda: model.health is not None and model.timing is not None, timeout=WAIT_MS)
    marks = model.marks()
    assert len(marks) == len(window.project.layers) and all(m.level is None for m in marks.values())
    assert all(m.per_batch for m in marks.values())
    assert [window.summary_panel.model.cells(r)[-1] for r in range(1, len(marks) + 1)] == [""] * len(marks)
    assert "Healthy" in window.health.panel.findings.text()
    for layer in window.project.layers:
        pixels = card_pixels(window, layer["id"])
        assert share_of(pixels, ERROR) == 0 and share_of(pixels, WARNING) < 0.01



def test_an_opened_run_brings_its_health_and_filters(qtbot, tmp_path, monkeypatch, two_runs):
    window = window_for(qtbot, tmp_path, monkeypatch, template("digits-cnn"))
    assert window.open_run(two_runs[1])
    marks = window.health.model.marks()
    assert len(marks) == len(window.project.layers) and all(m.per_batch for m in marks.values())
    assert window.summary_panel.model.cells(1)[TIME] != ""
    toggles = [a.text() for a in window._panels_menu.actions()]
    assert {"Health", "Filters forming"} <= set(toggles) and window.health.scrubber_dock.isHidden()
    window.health.scrubber_dock.show()  # View > Panels > Filters forming
    scrubber = window.health.scrubber
    assert scrubber.history.epochs == [0, 1, 2, 3] and scrubber.epoch_label.text() == "3 of 3"
    scrubber.slider.setValue(0)
    assert scrubber.epoch_label.text() == "0 of 3" and "before training" in scrubber.view.plot.titleLabel.text


def test_the_training_docks_open_run_opens_the_whole_run(qtbot, tmp_path, monkeypatch, two_runs):
    """Open run… in the Training dock does what File > Open Run does: the run's network in the
    builder, its curves, its filters and its health on the cards (it showed the curves alone, beside
    the network and health of the project that was open)."""
    window = window_for(qtbot, tmp_path, monkeypatch, template("digits-cnn"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(two_runs[1]))
    assert window.health.model.marks() == {}
    qtbot.mouseClick(window.training_panel.open_button, Qt.MouseButton.LeftButton)
    assert window.project.layers[2]["out_channels"] == 48  # the wide run's network
    assert window.training_panel.run_dir == str(two_runs[1])
    assert window.insight.run is not None  # its insides, probed from its weights
    marks = window.health.model.marks()
    assert len(marks) == len(window.project.layers) and all(m.per_batch for m in marks.values())


def test_compare_runs_shows_both_curves_and_the_diff(qtbot, tmp_path, monkeypatch, two_runs):
    window = window_for(qtbot, tmp_path, monkeypatch, template("digits-cnn"))
    picks = iter([str(tmp_path), str(two_runs[0]), str(two_runs[0]), str(two_runs[1]), ""])
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: next(picks))
    window.action("compare_runs").trigger()
    view = window.health.compare
    assert view is not None and view.isVisible() and view.paths == []
    assert "not a run folder (project.json is missing)" in view.message.text()  # the bad folder, said
    window.action("compare_runs").trigger()  # asks again: the first run goes in, the same folder again is refused
    assert len(view.paths) == 1 and "already in the comparison" in view.message.text()
    window.action("compare_runs").trigger()  # and again: the second run
    assert [p.split("/")[-1] for p in view.paths] == ["small", "wide"] and view.message.text() == ""
    legend = [label.text for _, label in view.plots["val_loss"].legend.items]
    assert legend == ["small", "wide"]
    curves = [item.getData()[0].tolist() for item in view.plots["val_loss"].listDataItems()]
    assert curves == [[1.0, 2.0], [1.0, 2.0, 3.0]]
    rows = [[view.diff.item(r, c).text() for c in range(6)] for r in range(view.diff.rowCount())]
    assert any(r[0] == "~" and "Conv 32" in r[1] and "Conv 48" in r[1] for r in rows)


def test_where_the_network_looks_for_a_chosen_sample(qtbot, tmp_path, monkeypatch, tiny_run):
    window = window_for(qtbot, tmp_path, monkeypatch, template("digits-cnn"))
    window.docks.raise_dock("activations")
    assert window.open_run(tiny_run("digits-cnn"))
    panel = window.insight["activations"]
    panel.sample.setValue(3)
    panel.explain_box.setChecked(True)
    assert isinstance(panel.probe.get("explanation"), Explanation)
    assert panel.view.plot.titleLabel.text.startswith("Where the network looks — sample 3: class")
    captions = [caption.toPlainText() for caption in panel.explain_captions]
    assert captions == ["input", "saliency", "Grad-CAM", "occlusion"] and "Grad-CAM at layer" in panel.parts[2][1]
    assert not panel.view.plot.getAxis("left").isVisible()
    panel.explain_box.setChecked(False)
    assert "depth slices" in panel.view.plot.titleLabel.text


def test_a_live_runs_health_is_redrawn_at_most_once_a_second_and_last_at_its_end(qtbot, tmp_path, monkeypatch):
    """digits-cnn sends statistics ~3 times a second; each redraw of the cards and the Health panel
    took the window ~15 ms. The newest are shown on the next turn of the event loop (not in the one
    that took them from the training process: with the run's first batches and probe, that was a
    run's slowest turn), then not again for a second, and the last when the run ends."""
    # the second made an hour: no assertion depends on how fast the machine is
    monkeypatch.setattr(health_docks, "HEALTH_SHOWN_EVERY_S", 3600.0)
    window = window_for(qtbot, tmp_path, monkeypatch, template("digits-cnn"))
    runner, health = window.docks.runner, window.health
    runner.owner = window.training_panel

    def statistics(step: int) -> dict:
        return {"event": "health", "epoch": 1, "global_step": step, "layers": [], "findings": []}

    shown: list[int] = []
    health.model.changed.connect(lambda: shown.append(health.model.health["global_step"]))
    for step in (10, 20, 30):
        runner.updated.emit(RunUpdate(health=statistics(step)))
    assert shown == []  # not in the turn that took them
    qtbot.waitUntil(lambda: shown == [30], timeout=WAIT_MS)  # the next: the newest, once
    runner.updated.emit(RunUpdate(health=statistics(40)))
    for _ in range(5):
        QApplication.processEvents()
    assert shown == [30]  # within the "second": it waits
    window.training_panel.run_finished.emit({"status": "finished", "run_dir": None, "message": ""})
    assert shown == [30, 40]  # the run's last statistics, as it ends
