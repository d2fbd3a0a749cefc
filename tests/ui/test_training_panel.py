"""The Training panel with a real engine (in its training process) on tiny data: start, curves grow,
pause, resume, stop, close, and a training process that dies."""
import gc
import multiprocessing
import os
import signal
import tracemalloc

import pytest

from workbench.core.project import Project
from workbench.core.templates import template
from workbench.training.probes import ProbeRequest
from workbench.ui.training.panel import TrainingPanel

from .test_window_support import WAIT_MS


def tiny_project(epochs=3, count=240):
    doc = template("digits-cnn")
    doc["data"] = {"dataset": "digits", "count": count}
    doc["training"] = {**doc["training"], "epochs": epochs, "batch_size": 16}
    return Project(doc)


@pytest.fixture
def panel(qtbot, tmp_path):
    widget = TrainingPanel(tiny_project(), runs_root=tmp_path)
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    yield widget
    widget.stop_and_wait()


def test_fields_show_and_edit_the_projects_sections(panel):
    assert panel.dataset.currentText() == "digits" and panel.lr.value() == pytest.approx(0.002)
    panel.optimizer.setCurrentText("sgd")
    panel.batch_size.setValue(48)
    assert panel.project.section("training")["optimizer"] == "sgd"
    assert panel.project.section("training")["batch_size"] == 48
    training = panel.project.section("training")
    panel.project.set_section("training", {**training, "epochs": 7, "task": "denoise"})
    assert panel.epochs_box.value() == 7 and panel.noise.isEnabled()


def test_start_grows_curves_and_finishes_with_a_run_folder(panel, qtbot):
    with qtbot.waitSignal(panel.run_started, timeout=WAIT_MS) as started:
        panel.start()
    assert panel.is_training and not panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        pass
    assert finished.args[0]["status"] == "finished"
    assert panel.curves["val_loss"].n == 3 and panel.curves["step"].n >= 3
    assert panel.curves["val_accuracy"].y[2] > 0.3
    assert not panel.is_training and panel.start_button.isEnabled()
    assert "epoch 3/3" in panel.progress.format() and "samples/s" in panel.progress.format()
    x, y = panel.curves["val_loss"].item.getData()
    assert list(x) == [1.0, 2.0, 3.0]  # what the plot shows

    other = TrainingPanel(tiny_project(), runs_root=panel.runs_root)
    assert other.show_run(started.args[0]) and other.curves["val_loss"].n == 3
    assert not other.show_run(panel.runs_root / "nowhere") and "no such run folder" in other.status.text()


def test_pause_resume_and_stop(panel, qtbot):
    panel.project.set_section("training", {**panel.project.section("training"), "epochs": 200})
    with qtbot.waitSignal(panel.training_changed, timeout=WAIT_MS) as changed:
        panel.start()
    assert changed.args == [True]
    qtbot.waitUntil(lambda: panel.curves["val_loss"].n >= 1, timeout=WAIT_MS)
    panel.toggle_pause()
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: panel.status.text().startswith("Paused between steps"), timeout=WAIT_MS)
    assert panel.progress.format().startswith("paused")
    frozen = panel.curves["step"].n
    qtbot.wait(300)  # paused: nothing new arrives
    assert panel.curves["step"].n == frozen
    panel.toggle_pause()
    qtbot.waitUntil(lambda: panel.curves["step"].n > frozen, timeout=WAIT_MS)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.stop()
    assert finished.args[0]["status"] == "stopped"


def test_probe_requests_reach_the_engine(panel, qtbot):
    panel.set_probe_request(ProbeRequest(confusion=True))
    with qtbot.waitSignal(panel.probe_received, timeout=WAIT_MS) as probe:
        panel.start()
    assert probe.args[0]["confusion"].shape == (10, 10)


def test_close_while_training_stops_cleanly(qtbot, tmp_path):
    widget = TrainingPanel(tiny_project(epochs=500), runs_root=tmp_path)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.run_started, timeout=WAIT_MS):
        widget.start()
    qtbot.waitUntil(lambda: widget.curves["step"].n > 0, timeout=WAIT_MS)
    process = widget.runner.process
    with qtbot.waitSignal(widget.run_finished, timeout=WAIT_MS) as finished:
        widget.stop_and_wait()
    assert finished.args[0]["status"] == "stopped"
    assert not process.alive and not widget.is_training and widget.start_button.isEnabled()
    # ended (killed if it did not exit in time); on a busy machine the kernel may take a moment to reap it
    qtbot.waitUntil(lambda: not [p for p in multiprocessing.active_children() if p.name == "workbench-training"],
                    timeout=WAIT_MS)
    widget.close()


def test_a_training_process_that_dies_is_reported_and_the_next_start_works(panel, qtbot):
    panel.project.set_section("training", {**panel.project.section("training"), "epochs": 500})
    panel.start()
    qtbot.waitUntil(lambda: panel.curves["step"].n > 0, timeout=WAIT_MS)
    dead = panel.runner.process.pid
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        os.kill(dead, signal.SIGKILL)
    assert finished.args[0]["status"] == "failed"
    assert "the training process stopped unexpectedly" in panel.status.text()
    assert panel.start_button.isEnabled() and not panel.is_training
    panel.start()
    qtbot.waitUntil(lambda: panel.curves["step"].n > 0, timeout=WAIT_MS)
    assert panel.runner.process.pid != dead
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.stop()
    assert finished.args[0]["status"] == "stopped"


def test_a_bad_setting_is_a_message_not_a_crash(panel, qtbot):
    panel.project.set_section("data", {"dataset": "mnist", "root": str(panel.runs_root / "none")})
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start()
    assert finished.args[0]["status"] == "failed" and "mnist not found" in panel.status.text()
    assert panel.start_button.isEnabled()


def test_100_start_stop_cycles_without_a_crash_or_growing_memory(panel, qtbot):
    panel.project.set_section("training", {**panel.project.section("training"), "epochs": 1000})

    def cycle():
        with qtbot.waitSignal(panel.run_started, timeout=WAIT_MS):
            panel.start()
        with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
            panel.stop()

    for _ in range(10):  # warm up caches
        cycle()
    pid = panel.runner.process.pid
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(90):
        cycle()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 5_000_000, f"Python memory grew by {grown:,} bytes over 90 start/stop cycles"
    assert not panel.is_training and panel.runner.process.pid == pid  # one process for every run


def test_first_start_queues_the_run_while_the_process_starts(qtbot, tmp_path):
    widget = TrainingPanel(tiny_project(epochs=1), runs_root=tmp_path)
    qtbot.addWidget(widget)
    widget.show()  # the process is spawned only PREPARE_DELAY_MS later: the window starts first
    assert not widget.runner.process.alive
    events = []
    widget.events_received.connect(events.extend)
    try:
        with qtbot.waitSignal(widget.run_finished, timeout=WAIT_MS) as finished:
            widget.start()
            assert widget.status.text().startswith("Starting the training process")
        assert finished.args[0]["status"] == "finished" and events[0]["event"] == "start"
    finally:
        widget.stop_and_wait()


def test_events_received_carries_the_runs_events_for_other_curves(panel, qtbot):
    events = []
    panel.events_received.connect(events.extend)
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.start()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("epoch") == 3 and "batch" in kinds
    assert events[0]["classes"][:3] == ["0", "1", "2"]
    assert all("val_confusion" not in e for e in events)  # plain numbers only: probes carry the matrix


def test_the_schedule_combo_trains_layer_wise_and_marks_the_stages(qtbot, tmp_path):
    doc = template("stacked-autoencoder")
    doc["training"] = {**doc["training"], "epochs": 6, "batch_size": 256, "schedule": "plain"}
    widget = TrainingPanel(Project(doc), runs_root=tmp_path)
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    assert widget.schedule.currentText() == "plain"
    widget.schedule.setCurrentIndex(widget.schedule.findText("layer-wise"))
    assert widget.project.section("training")["schedule"] == "layerwise"
    try:
        formats = []
        widget.events_received.connect(lambda _: formats.append(widget.progress.format()))
        with qtbot.waitSignal(widget.run_finished, timeout=WAIT_MS) as finished:
            widget.start()
        assert finished.args[0]["status"] == "finished"
        assert widget.stage_marks.stages == ["pretrain-1", "pretrain-2", "pretrain-3", "finetune"]
        lines = widget.stage_marks.items
        assert [line[0].value() for line in lines] == [0, 1, 2, 3]  # 1 epoch per pretraining stage
        assert [line[0].label.format for line in lines] == widget.stage_marks.stages
        assert all(line[0].isVisible() for line in lines)
        assert any("· finetune ·" in text for text in formats)
        widget.start()  # a new run takes its marks down until its stages begin
        assert not any(line[0].isVisible() for line in lines)
        with qtbot.waitSignal(widget.run_finished, timeout=WAIT_MS):
            widget.stop()
    finally:
        widget.stop_and_wait()


def test_a_field_writes_only_its_own_setting(qtbot, tmp_path):
    from workbench.core.project import Project
    from workbench.core.templates import template
    from workbench.ui.training.panel import TrainingPanel

    doc = template("denoising-autoencoder")
    doc["training"] = {**doc["training"], "task": "denoise", "lr": 1e-7, "noise": "masking:0.5"}
    project = Project(doc)
    panel = TrainingPanel(project, runs_root=tmp_path)
    qtbot.addWidget(panel)
    panel.seed.setValue(7)
    assert project.section("training")["lr"] == 1e-7  # below what the box shows: kept as written
    assert project.section("training")["seed"] == 7
    panel.noise.setText("")
    panel.noise.editingFinished.emit()
    assert "noise" not in project.section("training")  # an emptied field removes the setting


def test_a_dataset_that_fits_another_input_offers_the_fix(panel, qtbot):
    from workbench.ui.editing.undo import Editor

    panel.editor = Editor(panel.project)
    panel.project.set_input([3, 32, 32])
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS) as finished:
        panel.start()
    assert "digits images are 8×8×1 but the project's input is 32×32×3" in finished.args[0]["message"]
    assert panel.fix_input.isVisible() and panel.fix_input.text() == "Set the input to 8×8×1"
    panel.fix_input.click()
    assert panel.project.input == [1, 8, 8] and not panel.fix_input.isVisible()
    panel.editor.stack.undo()
    assert panel.project.input == [3, 32, 32]
    with qtbot.waitSignal(panel.run_finished, timeout=WAIT_MS):
        panel.editor.stack.redo()
        panel.start()
    assert not panel.fix_input.isVisible()


def test_both_fixes_of_an_input_mismatch_are_one_click(panel, qtbot):
    """28×28 input, 8×8 digits: "set the input to 8×8×1" and "data.resize = 28" are both a button."""
    from workbench.ui.editing.undo import Editor

    panel.editor = Editor(panel.project)
    panel.project.set_input([1, 28, 28])
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
        panel.start()
    assert "data.resize = 28" in finished.args[0]["message"]
    assert panel.fix_resize.isVisible() and panel.fix_resize.text() == "Resize digits to 28×28"
    assert panel.progress.format().count("failed") == 1
    with qtbot.waitSignal(panel.run_finished, timeout=60_000):
        panel.start()  # failing again says so once, not "failed · failed · …"
    assert panel.progress.format().count("failed") == 1
    panel.fix_resize.click()
    assert panel.project.section("data")["resize"] == 28 and not panel.fix_resize.isVisible()
    assert not panel.fix_input.isVisible()
    panel.editor.stack.undo()  # one undoable edit
    assert "resize" not in panel.project.section("data")


def test_compiling_shows_in_the_progress_and_how_it_went_in_the_status(panel):
    from workbench.training.updates import Coalescer

    panel.runner.owner = panel  # as if the panel had started the run
    events = Coalescer()  # what the runner makes of the engine's events between two polls
    events.add({"event": "start", "device": "cuda", "device_name": "NVIDIA H200", "epochs": 3, "steps_per_epoch": 12,
                "train_size": 192, "val_size": 48, "classes": list("0123456789"), "epoch": 0, "global_step": 0,
                "weight_notes": []})
    events.add({"event": "compiling", "epoch": 1, "global_step": 20})
    panel._on_update(events.take())
    assert panel.progress.format() == "epoch 1/3 · compiling…"
    events.add({"event": "compiled", "epoch": 1, "global_step": 20, "ok": False, "seconds": 3.2,
                "message": "compiling failed (RuntimeError: no C++ compiler): training uncompiled"})
    panel._on_update(events.take())
    assert panel.status.text() == ("Training on NVIDIA H200 · compiling failed (RuntimeError: no C++ compiler): "
                                   "training uncompiled")


def test_layers_that_start_fresh_instead_of_from_the_projects_weights_are_said(qtbot, tmp_path):
    """An imported network edited since: the layers its weights file no longer fits start from fresh
    weights, and the status says how many while the run goes, after it and when the run is opened
    again (each one on hover)."""
    from workbench.core.build import build_model
    from workbench.core.weights import by_layer_id, write_weights

    doc = tiny_project(epochs=1).to_dict()
    write_weights(tmp_path / "imported.safetensors", by_layer_id(build_model(doc), doc["layers"]))
    doc["weights"] = str(tmp_path / "imported.safetensors")
    doc["layers"][0]["out_channels"] = 24  # edited after the import: this conv and the next no longer fit
    widget = TrainingPanel(Project(doc), runs_root=tmp_path)
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.run_finished, timeout=WAIT_MS) as finished:
        widget.start()
    assert finished.args[0]["status"] == "finished"
    assert widget.status.text() == "finished 1 epoch · 2 layers started from fresh weights"
    notes = widget.status.toolTip().splitlines()
    assert notes[0].startswith("layer 0 (") and "needs 24×1×" in notes[0] and len(notes) == 2
    widget.clear_run()
    assert widget.status.toolTip() == ""
    assert widget.show_run(finished.args[0]["run_dir"])  # the run opened again later says the same
    assert widget.status.text().endswith("finished 1 epoch · 2 layers started from fresh weights")
    assert widget.status.toolTip().splitlines() == notes
    widget.stop_and_wait()
