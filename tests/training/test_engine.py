"""The engine headless: curves, checkpoints, failures, controls and resuming, on tiny runs."""
import contextlib
import json
import math
import threading

import numpy as np
import pytest
import torch

from workbench.core.templates import template
from workbench.training.engine import Stage, Trainer
from workbench.training.run_folder import open_run

SMALL = {"dataset": "digits", "count": 240}


def digits_project(**training):
    doc = template("digits-cnn")
    doc["data"] = dict(SMALL)
    doc["training"] = {**doc["training"], "epochs": 2, "batch_size": 32, **training}
    return doc


def linear_project(**training):
    """A one-layer classifier: for tests of the loop, not of learning."""
    doc = digits_project(**training)
    doc["layers"] = [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}]
    return doc


def events_of(trainer):
    return list(trainer.events())


def test_a_run_learns_and_writes_its_folder(tmp_path):
    trainer = Trainer(digits_project(epochs=4), run_dir=tmp_path / "run")
    events = events_of(trainer)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("epoch") == 4
    epochs = [e for e in events if e["event"] == "epoch"]
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert epochs[-1]["val_accuracy"] > 0.5 and sum(map(sum, epochs[-1]["val_confusion"])) == 48
    assert events[-1]["status"] == "finished"
    batch = next(e for e in events if e["event"] == "batch")
    assert batch["samples_per_s"] > 0 and batch["eta_s"] >= 0
    run = open_run(tmp_path / "run")
    assert [e["epoch"] for e in run.metrics if e["event"] == "epoch"] == [1, 2, 3, 4]
    # "auto" trains on the GPU where there is one: the folder records the device the run used
    assert run.config["split_seed"] == 0 and run.config["device"] == str(trainer.device)
    model = run.load_model()  # on the CPU
    x = trainer.data.val_x[:8].cpu()
    trained = trainer.model.cpu().eval()
    assert torch.allclose(model(x), trained(x), atol=1e-6)
    assert torch.equal(run.dataset().val_y, trainer.data.val_y.cpu())  # the same split


def test_a_non_finite_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = Trainer(digits_project(epochs=3), run_dir=tmp_path / "run", log_interval_s=0)
    real_loss = trainer.task.loss

    def poisoned(out, target):
        loss = real_loss(out, target)
        step = trainer.global_step + 1  # the step being taken
        return loss * math.nan if step == 11 and out.requires_grad else loss  # epoch 2 (6 steps per epoch)

    trainer.task.loss = poisoned
    events = events_of(trainer)
    done = events[-1]
    assert done["status"] == "failed" and "at step 11 (epoch 2)" in done["message"]
    assert "last good checkpoint" in done["message"] and "learning rate" in done["message"]
    run = open_run(tmp_path / "run")
    assert run.state["epoch"] == 1
    weights = run.load_model().state_dict()
    assert all(torch.isfinite(w).all() for w in weights.values())
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())  # back at the good epoch


def test_out_of_memory_becomes_a_message_and_the_engine_stays_usable(tmp_path, monkeypatch):
    trainer = Trainer(digits_project(batch_size=64), run_dir=tmp_path / "run")
    real_step = trainer._step

    def oom(*args):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer, "_step", oom)
    done = events_of(trainer)[-1]
    assert done["status"] == "failed"
    assert done["message"].startswith("out of GPU memory at batch size 64") and "try batch size 32" in done["message"]
    monkeypatch.setattr(trainer, "_step", real_step)
    trainer.update_config(batch_size=32)
    again = events_of(trainer)
    assert again[-1]["status"] == "finished" and again[0]["steps_per_epoch"] == 6


def test_stop_mid_epoch_returns_within_one_step():
    trainer = Trainer(digits_project(batch_size=8), log_interval_s=0)
    events = []
    for event in trainer.events():
        events.append(event)
        if event["event"] == "batch" and event["step"] == 3:
            trainer.stop()
    batches = [e for e in events if e["event"] == "batch"]
    assert batches[-1]["step"] == 3 and events[-1]["status"] == "stopped"
    assert "epoch 1" in events[-1]["message"]


def test_pause_blocks_between_steps_until_resumed_from_another_thread():
    trainer = Trainer(digits_project(epochs=1), log_interval_s=0)
    seen = []
    for event in trainer.events():
        seen.append(event["event"])
        if event["event"] == "batch" and event["step"] == 2:
            trainer.pause()
        if event["event"] == "paused":
            assert trainer.paused
            threading.Timer(0.05, trainer.resume).start()
    assert seen.count("paused") == 1 and seen.index("resumed") == seen.index("paused") + 1
    assert seen[-1] == "done"


def test_resume_continues_the_same_curve(tmp_path):
    run_dir = tmp_path / "run"
    trainer = Trainer(digits_project(epochs=2), run_dir=run_dir, log_interval_s=0)
    for event in trainer.events():
        if event["event"] == "batch" and event["epoch"] == 2 and event["step"] == 4:
            trainer.stop()  # mid-epoch: epoch 2's half-curve is dropped on resume
    resumed = Trainer.resume_run(run_dir, epochs=4, log_interval_s=0)
    events = events_of(resumed)
    assert events[-1]["status"] == "finished"
    metrics = open_run(run_dir).metrics
    epochs = [e["epoch"] for e in metrics if e["event"] == "epoch"]
    steps = [e["global_step"] for e in metrics if e["event"] == "batch"]
    assert epochs == [1, 2, 3, 4]
    assert steps == list(range(1, 25))  # 6 steps an epoch, one continuous curve
    assert json.loads((run_dir / "config.json").read_text())["training"]["epochs"] == 4


def test_a_malicious_pickle_in_a_run_folder_is_refused(tmp_path):
    run_dir = tmp_path / "run"
    events_of(Trainer(digits_project(epochs=1), run_dir=run_dir))
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    checkpoint = open_run(run_dir).checkpoint
    torch.save({"state": Exploit()}, checkpoint / "optimizer.pt")
    with pytest.raises(ValueError, match="optimizer.pt: refused"):
        Trainer.resume_run(run_dir)
    (checkpoint / "last.safetensors").unlink()  # a hard link to best: replaced, not written through
    (checkpoint / "last.safetensors").write_bytes((checkpoint / "optimizer.pt").read_bytes())
    with pytest.raises(ValueError, match="last.safetensors: not a safetensors weights file"):
        open_run(run_dir).load_model()
    assert not marker.exists()


def test_autoencoder_and_denoise_reduce_reconstruction_error():
    for task, extra in (("autoencoder", {"loss": "bce"}), ("denoise", {"noise": "salt-and-pepper:0.2"})):
        doc = template("autoencoder")
        doc["data"] = dict(SMALL)
        doc["training"] = {**doc["training"], "task": task, "epochs": 5, "batch_size": 16, **extra}
        epochs = [e for e in Trainer(doc).events() if e["event"] == "epoch"]
        assert epochs[-1]["val_loss"] < epochs[0]["val_loss"]
        assert "val_accuracy" not in epochs[-1]


def test_probe_events_come_from_the_probe_module_when_requested(monkeypatch):
    from workbench.training import probes

    calls = []

    def fake_capture(live, model, request):
        calls.append((live.x.shape, live.y.shape, model.training))
        return {"confusion": "fake"}

    monkeypatch.setattr(probes.LiveProbe, "capture", fake_capture)
    trainer = Trainer(digits_project(epochs=1), probe_interval_s=0)
    trainer.set_probe_request(probes.ProbeRequest(confusion=True))
    probe_events = [e for e in trainer.events() if e["event"] == "probe"]
    assert probe_events and probe_events[0]["confusion"] == "fake" and probe_events[0]["global_step"] >= 1
    assert calls[0][0] == (48, 1, 8, 8)
    trainer.set_probe_request(probes.ProbeRequest())  # nothing asked: no probes
    assert not [e for e in trainer.events() if e["event"] == "probe"]


class _VirtualClock:
    """The engine's clock, advanced only by what the test says a step takes: pacing is checked on
    these seconds, whatever the machine's speed or load (benchmarks/probe_pacing.py times it for real)."""

    now_s = 0.0

    def now(self) -> float:
        return _VirtualClock.now_s

    def paused(self):
        return contextlib.nullcontext()


@pytest.mark.parametrize("step_s", [0.03, 0.011, 0.07])
def test_probes_keep_their_rate_whatever_the_step_time(monkeypatch, one_torch_thread, step_s):
    from workbench.training import engine, probes

    probed: list[float] = []
    monkeypatch.setattr(probes.LiveProbe, "capture", lambda live, model, request: probed.append(_VirtualClock.now_s) or {})
    monkeypatch.setattr(engine, "_Clock", _VirtualClock)
    monkeypatch.setattr(_VirtualClock, "now_s", 0.0)
    step = Trainer._step

    def timed_step(self, *args):
        _VirtualClock.now_s += step_s  # probes come between steps: every 50 ms cannot come right after one
        return step(self, *args)

    monkeypatch.setattr(Trainer, "_step", timed_step)
    trainer = Trainer(linear_project(epochs=3, batch_size=8), probe_interval_s=0.05)
    trainer.set_probe_request(probes.ProbeRequest(confusion=True))
    list(trainer.events())
    rate = (len(probed) - 1) / (probed[-1] - probed[0])
    # on a beat: 1/0.05 a second, slower only when a step is longer than the interval; timed from each
    # probe, 30 ms steps gave one probe every 2 steps (~17/s)
    assert 0.9 / max(0.05, step_s) <= rate <= 1.1 / max(0.05, step_s), rate


def test_costly_probes_take_at_most_a_tenth_of_the_run(monkeypatch):
    import time

    from workbench.training import engine, probes

    probed: list[float] = []

    def slow_capture(live, model, request):
        time.sleep(0.02)  # a probe costing 20 ms: the next may come 0.2 s later at the earliest
        probed.append(time.perf_counter())
        return {}

    monkeypatch.setattr(probes.LiveProbe, "capture", slow_capture)
    trainer = Trainer(digits_project(epochs=30), probe_interval_s=0)
    trainer.set_probe_request(probes.ProbeRequest(confusion=True))
    events = list(trainer.events())
    gaps = [b - a for a, b in zip(probed, probed[1:])]
    assert len(probed) >= 2 and events[-1]["status"] == "finished"
    assert min(gaps) >= 0.02 / engine.PROBE_SHARE * 0.95


def test_stages_tag_their_events():
    class TwoStages(Trainer):
        def stages(self):
            first = torch.optim.SGD(self.model[:2].parameters(), lr=0.01)
            return [Stage("conv1", 1, self.model, self.task, first),
                    Stage("all", 1, self.model, self.task, self.optimizer)]

    events = list(TwoStages(digits_project()).events())
    tags = [(e["stage"], e["epoch"], e["stage_epoch"]) for e in events if e["event"] == "epoch"]
    assert tags == [("conv1", 1, 1), ("all", 2, 1)] and events[-1]["status"] == "finished"
    batches = [(e["epoch"], e["stage_epoch"]) for e in events if e["event"] == "batch"]
    assert batches[0] == (1, 1) and batches[-1] == (2, 1)


@pytest.mark.parametrize("training,message", [
    ({"optimizer": "adm"}, "training.optimizer: 'adm' is not allowed: must be one of sgd, adam, adamw"),
    ({"epoch": 3}, "training.epoch: unknown key (did you mean 'epochs'?)"),
    ({"batch_size": 0}, "training.batch_size: 0 is not allowed: must be an integer from 1 to 65536"),
    ({"device": "tpu"}, "training.device: 'tpu' is not allowed: must be one of auto, cpu, cuda, mps"),
])
def test_bad_training_sections_name_key_and_allowed_values(training, message):
    with pytest.raises(ValueError) as err:
        Trainer(digits_project(**training))
    assert str(err.value).startswith(message)


def test_a_classifier_with_too_few_outputs_is_explained():
    doc = digits_project()
    doc["layers"][-1]["out_features"] = 5
    with pytest.raises(ValueError, match="gives 5 outputs but the dataset has 10 classes"):
        Trainer(doc)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_mixed_precision_on_cuda():
    events = list(Trainer(digits_project(device="cuda")).events())
    assert events[0]["device"] == "cuda" and events[-1]["status"] == "finished"


def test_predictions_of_classes_that_do_not_exist_count_as_wrong():
    doc = linear_project(epochs=1, optimizer="sgd", lr=1e-8, momentum=0.0)
    doc["layers"][-1]["out_features"] = 20
    trainer = Trainer(doc)
    with torch.no_grad():  # always predicts class 15: the digits have only 0-9
        trainer.model[1].weight.zero_()
        trainer.model[1].bias.zero_()
        trainer.model[1].bias[15] = 5.0
    epoch = next(e for e in trainer.events() if e["event"] == "epoch")
    assert epoch["val_accuracy"] == 0.0 and epoch["train_accuracy"] == 0.0
    assert len(epoch["val_confusion"]) == 10 and sum(map(sum, epoch["val_confusion"])) == 0


def test_denoising_probes_show_the_clean_input_and_the_corrupted_one_apart():
    from workbench.training.probes import LIVE_RECONSTRUCTIONS, ProbeRequest

    doc = template("autoencoder")
    doc["data"] = dict(SMALL)
    doc["training"] = {**doc["training"], "task": "denoise", "noise": "masking:0.5", "epochs": 1}
    trainer = Trainer(doc, probe_interval_s=0)
    trainer.set_probe_request(ProbeRequest(reconstructions=True))
    probe = next(e for e in trainer.events() if e["event"] == "probe")
    clean = trainer.data.val_x[:48].cpu().numpy()  # on the GPU where "auto" found one
    assert np.array_equal(probe["inputs"], clean)
    shown = clean[:LIVE_RECONSTRUCTIONS]  # live probes reconstruct only what the panel can show
    masked = probe["corrupted"] == 0
    assert 0.3 < masked[shown > 0].mean() < 0.7  # about half the ink masked away, the clean input untouched
    assert probe["reconstructions"].shape == shown.shape


def test_a_last_batch_of_one_sample_is_left_out_so_batch_norm_trains(tmp_path):
    doc = linear_project(epochs=1, batch_size=191)  # 192 training samples: 191 + 1
    doc["layers"].insert(0, {"type": "BatchNorm2d"})
    events = events_of(Trainer(doc, run_dir=tmp_path / "run"))
    assert events[0]["steps_per_epoch"] == 1 and events[-1]["status"] == "finished"
    assert Trainer(linear_project(batch_size=190)).steps_per_epoch == 2  # a last batch of two is kept


def test_any_error_in_a_step_ends_in_a_failed_done_event_and_the_engine_goes_on(tmp_path, monkeypatch):
    trainer = Trainer(linear_project(epochs=1), run_dir=tmp_path / "run")
    real_step = trainer._step

    def broken(*args):
        if trainer.global_step == 3:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (64x10 and 12x10)")
        return real_step(*args)

    monkeypatch.setattr(trainer, "_step", broken)
    done = events_of(trainer)[-1]
    assert done["status"] == "failed"
    assert done["message"] == ("training failed at step 4 (epoch 1): RuntimeError: mat1 and mat2 shapes cannot be "
                               "multiplied (64x10 and 12x10)")
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert logged[-1] == done
    monkeypatch.setattr(trainer, "_step", real_step)
    again = events_of(trainer)
    assert again[-1]["status"] == "finished" and again[-1]["global_step"] == 6


def test_running_out_of_cpu_memory_suggests_a_smaller_batch(monkeypatch):
    trainer = Trainer(linear_project(batch_size=64))

    def oom(*args):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 1000000000000 bytes")

    monkeypatch.setattr(trainer, "_step", oom)
    done = events_of(trainer)[-1]
    assert done["status"] == "failed" and done["message"].startswith("out of memory at batch size 64 (epoch 1)")


def test_going_on_after_a_stop_repeats_the_epoch_without_counting_its_steps_twice(tmp_path):
    trainer = Trainer(linear_project(epochs=2, batch_size=16), run_dir=tmp_path / "run", log_interval_s=0)
    for event in trainer.events():
        if event["event"] == "batch" and event["epoch"] == 2 and event["step"] == 3:
            trainer.stop()
    events = events_of(trainer)
    batches = [e for e in events if e["event"] == "batch"]
    assert batches[0]["global_step"] == 13 and events[-1]["global_step"] == 24  # 12 steps an epoch
    steps = [e["global_step"] for e in open_run(tmp_path / "run").metrics if e["event"] == "batch"]
    assert steps == list(range(1, 25))  # one curve: the interrupted epoch's batches are dropped


def test_the_loss_is_computed_in_float32_outside_autocast(monkeypatch):
    """Autocast on CUDA refuses binary_cross_entropy: BCE runs must compute their loss outside it."""
    import torch.nn.functional as F

    from workbench.training import tasks

    doc = template("autoencoder")
    doc["data"] = dict(SMALL)
    doc["training"] = {**doc["training"], "loss": "bce", "epochs": 1}
    trainer = Trainer(doc)
    inside, real_bce = [], F.binary_cross_entropy

    @contextlib.contextmanager
    def autocast():  # what CUDA's autocast does to BCE, on the CPU
        inside.append(True)
        try:
            yield
        finally:
            inside.pop()

    def refusing_bce(out, target, *args, **kwargs):
        if inside:
            raise RuntimeError("torch.nn.functional.binary_cross_entropy is unsafe to autocast")
        assert out.dtype == torch.float32
        return real_bce(out, target, *args, **kwargs)

    monkeypatch.setattr(trainer, "_autocast", autocast)
    monkeypatch.setattr(tasks.F, "binary_cross_entropy", refusing_bce)
    done = events_of(trainer)[-1]
    assert done["status"] == "finished", done["message"]


def test_augmenting_a_vector_input_is_refused_at_once():
    doc = digits_project()
    doc["input"] = [64]
    doc["layers"] = [{"type": "Linear", "out_features": 10}]
    doc["data"]["augment"] = ["shift"]
    with pytest.raises(ValueError, match=r"data.augment \(shift\) needs image inputs \(C×H×W\) but the project's "
                                         r"input is \[64\]"):
        Trainer(doc)
