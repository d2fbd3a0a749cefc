"""The training process, headless: runs, controls, paced probes, errors as messages, a dead child."""
import os
import signal
import time

import numpy as np
import pytest

from workbench.core.templates import template
from workbench.training.probes import ProbeRequest
from workbench.training.remote import CRASHED, NICENESS, PROBE_CREDITS, TrainingProcess
from workbench.training.run_folder import open_run


def tiny(epochs=2, count=240):
    doc = template("digits-cnn")
    doc["data"] = {"dataset": "digits", "count": count}
    doc["training"] = {**doc["training"], "epochs": epochs, "batch_size": 16}
    return doc


def collect(process, until="done", timeout_s=300.0):
    """Events of the current run until one of kind `until` (inclusive)."""
    events, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for event in process.events(timeout=0.1):
            events.append(event)
            if event["event"] == until:
                return events
    raise AssertionError(f"no {until!r} event within {timeout_s} s; got {[e['event'] for e in events]}")


@pytest.fixture(scope="module")
def process():
    proc = TrainingProcess()
    proc.start()
    yield proc
    proc.shutdown()
    assert not proc.alive


def test_a_run_trains_in_the_child_and_writes_its_run_folder(process, tmp_path):
    process.run(tiny(), str(tmp_path / "run"))
    events = collect(process)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("epoch") == 2
    assert events[-1]["status"] == "finished" and not process.running
    assert os.getpid() != process.pid
    run = open_run(tmp_path / "run")
    assert [e["val_loss"] for e in run.metrics if e["event"] == "epoch"] == \
        [e["val_loss"] for e in events if e["event"] == "epoch"]


def test_the_child_is_reused_and_a_stop_right_after_start_counts(process):
    pid = process.pid
    for _ in range(20):
        process.run(tiny(epochs=1000))
        process.stop()
        done = collect(process)[-1]
        assert done["status"] == "stopped"
    assert process.pid == pid


def test_pause_and_resume_reach_the_engine(process):
    process.run(tiny(epochs=1000))
    collect(process, "batch")
    process.pause()
    paused = collect(process, "paused")[-1]
    assert process.events(timeout=0.3) == []  # paused between steps: nothing arrives
    process.resume()
    resumed = collect(process, "batch")
    assert resumed[0]["event"] == "resumed" and resumed[-1]["global_step"] > paused["global_step"]
    process.stop()
    assert collect(process)[-1]["status"] == "stopped"


def test_probes_wait_for_the_window_to_draw_the_last_one(process):
    process.set_probe_request(ProbeRequest(confusion=True, latent=True))
    process.run(tiny(epochs=1000))
    probe = collect(process, "probe")[-1]
    assert probe["confusion"].shape == (10, 10) and probe["confusion"].sum() == 48  # 20% of 240
    assert isinstance(probe["latent"], np.ndarray)
    for _ in range(PROBE_CREDITS - 1):  # the child may be this many probes ahead of the window
        collect(process, "probe")
    later = collect(process, "epoch") + collect(process, "epoch")
    assert "probe" not in [e["event"] for e in later]  # no credit, no probe
    process.grant_probe()
    collect(process, "probe")
    process.set_probe_request(None)
    process.stop()
    assert collect(process)[-1]["status"] == "stopped"


def test_a_layerwise_project_trains_in_stages_and_resumes_with_its_schedule(process, tmp_path):
    doc = template("stacked-autoencoder")  # training.schedule is "layerwise"
    doc["training"] = {**doc["training"], "epochs": 8, "batch_size": 256}
    process.run(doc, str(tmp_path / "run"), {"device": "cpu"})
    epochs = [e for e in collect(process) if e["event"] == "epoch"]
    stages = [e["stage"] for e in epochs]  # the engine's plain Trainer has no stages
    assert list(dict.fromkeys(stages)) == ["pretrain-1", "pretrain-2", "pretrain-3", "finetune"]
    assert [e["epoch"] for e in epochs] == list(range(1, 9))
    assert epochs[-1]["stage_epoch"] == stages.count("finetune")
    process.run(None, str(tmp_path / "run"), {"epochs": 10}, resume=True)
    more = [e for e in collect(process) if e["event"] == "epoch"]
    assert [(e["epoch"], e["stage"]) for e in more] == [(9, "finetune"), (10, "finetune")]


def test_bad_settings_come_back_as_the_engines_message(process):
    doc = tiny()
    doc["training"]["lr"] = -1
    process.run(doc)
    done = collect(process)[-1]
    assert done["status"] == "failed" and "lr" in done["message"] and "Traceback" not in done["message"]
    process.run(tiny(epochs=1))
    assert collect(process)[-1]["status"] == "finished"  # the process lives on


def test_a_dead_child_is_reported_and_the_next_run_spawns_a_new_one():
    proc = TrainingProcess()
    try:
        proc.run(tiny(epochs=1000))
        collect(proc, "batch")
        dead = proc.pid
        os.kill(dead, signal.SIGKILL)
        done = collect(proc)[-1]
        assert done["status"] == "failed" and done["message"].startswith(CRASHED)
        proc.run(tiny(epochs=1))
        assert collect(proc)[-1]["status"] == "finished" and proc.pid != dead
    finally:
        proc.shutdown()


def test_a_child_that_does_not_answer_is_killed_on_shutdown():
    proc = TrainingProcess()
    assert proc.wait_ready()
    os.kill(proc.pid, signal.SIGSTOP)
    began = time.monotonic()
    proc.shutdown(timeout_s=0.5)
    assert not proc.alive and time.monotonic() - began < 5


def test_the_ready_child_says_what_torch_finds_on_this_machine(process):
    """The window starts without torch: its device menu and data placement come from here."""
    import torch

    from workbench.training.devices import available_devices

    assert process.wait_ready()
    assert process.hardware.devices == available_devices()
    if torch.cuda.is_available():
        assert process.hardware.gpu_bytes == torch.cuda.get_device_properties(0).total_memory
        assert process.hardware.gpu_name == torch.cuda.get_device_name(0)
    else:
        assert (process.hardware.gpu_bytes, process.hardware.gpu_name) == (None, None)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX priorities")
def test_the_child_trains_below_the_windows_priority(process):
    """The window keeps a core when it wakes (a click is not kept waiting behind torch's threads)."""
    assert NICENESS > 0 and process.wait_ready()
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, process.pid) == min(own + NICENESS, 19)
