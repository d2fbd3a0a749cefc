"""Checkpoints as one unit, diverged epochs never kept as good, overrides on resume, and run folders
that are damaged by hand or by a crash (issue 12, items 2, 3, 4, 7 and the messages).

A crash is simulated between (and in the middle of) the run folder's file writes: the write is cut
off half way, as kill -9 would leave it, and nothing after it runs. benchmarks/kill_resume.py does
the same with real kill -9 at random moments."""
import json
import math
import re

import pytest
import torch

from workbench.core.templates import template
from workbench.training import run_folder
from workbench.training.engine import Trainer
from workbench.training.run_folder import RunError, open_run
from workbench.training.schedules import make_trainer, resume_trainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def plain_project(epochs=3):
    doc = template("digits-cnn")
    doc["data"] = {"dataset": "digits", "count": 150}
    doc["training"] = {**doc["training"], "epochs": epochs, "batch_size": 40, "device": "cpu"}
    return doc


def layerwise_project(epochs=4):
    doc = template("stacked-autoencoder")
    doc["data"] = {"dataset": "digits", "count": 150}
    doc["training"] = {**doc["training"], "epochs": epochs, "batch_size": 40, "device": "cpu",
                       "schedule": "layerwise"}
    return doc


def curve(run_dir):
    return [(e["epoch"], e.get("stage"), e["train_loss"], e["val_loss"])
            for e in open_run(run_dir).metrics if e["event"] == "epoch"]


class Killed(BaseException):
    """Not an Exception: like kill -9, nothing catches it and no clean-up runs."""


class WriteCounter:
    """Counts the run folder's file writes; the `crash_at`-th is cut off half way and ends the run."""

    def __init__(self, monkeypatch, crash_at=None):
        self.calls, self.crash_at = [], crash_at
        real_file, real_atomic, real_link = run_folder._write_file, run_folder.write_atomic, run_folder._link_or_copy
        real_append = run_folder.RunWriter.append

        def torn(path, data):
            data = data.encode() if isinstance(data, str) else data
            with open(path, "wb") as handle:
                handle.write(data[:len(data) // 2])

        def hooked(name, real, cut):
            def call(*args):
                self.calls.append((name, str(args[-2] if name != "append" else "")))
                if len(self.calls) == self.crash_at:
                    cut(*args)
                    raise Killed
                return real(*args)
            return call

        def torn_atomic(path, data):  # the temporary file is torn; the target is untouched
            torn(path.parent / f".{path.name}.killed.tmp", data)

        def torn_append(writer, event):
            with open(writer.path / "metrics.jsonl", "a") as metrics:
                metrics.write(json.dumps(event)[:20])

        monkeypatch.setattr(run_folder, "_write_file", hooked("file", real_file, torn))
        monkeypatch.setattr(run_folder, "write_atomic", hooked("atomic", real_atomic, torn_atomic))
        monkeypatch.setattr(run_folder, "_link_or_copy", hooked("link", real_link, lambda *a: None))
        monkeypatch.setattr(run_folder.RunWriter, "append", hooked("append", real_append, torn_append))


def run_to_end(project, run_dir):
    events = list(make_trainer(project, run_dir=run_dir).events())
    assert events[-1]["status"] == "finished", events[-1]


def resume_to_end(run_dir):
    events = list(resume_trainer(run_dir).events())
    assert events[-1]["status"] == "finished", events[-1]


@pytest.mark.parametrize("project", [plain_project, layerwise_project], ids=["plain", "layerwise"])
def test_a_crash_at_any_write_of_a_checkpoint_resumes_to_the_uninterrupted_curve(tmp_path, monkeypatch, project):
    run_to_end(project(), tmp_path / "reference")
    expected = curve(tmp_path / "reference")
    with monkeypatch.context() as patch:
        counter = WriteCounter(patch)
        run_to_end(project(), tmp_path / "counted")
    # every write of the second checkpoint (and the appends around it) is a crash point
    second = [i for i, (name, path) in enumerate(counter.calls, 1) if "epoch-000002" in path]
    crash_points = range(second[0] - 1, second[-1] + 4)
    assert len(crash_points) >= 5
    for crash_at in crash_points:
        run_dir = tmp_path / f"crash-{crash_at}"
        with monkeypatch.context() as patch:
            WriteCounter(patch, crash_at)
            with pytest.raises(Killed):
                run_to_end(project(), run_dir)
        resume_to_end(run_dir)
        assert curve(run_dir) == pytest.approx(expected, rel=1e-5), (crash_at, counter.calls[crash_at - 1])
        leftovers = [p.name for p in (run_dir / "checkpoints").iterdir()]
        assert sorted(leftovers) == [open_run(run_dir).state["checkpoint"], "state.json"], leftovers
        assert not list(run_dir.glob(".*.tmp"))


def test_a_checkpoint_is_one_folder_named_by_state_json(tmp_path):
    run_to_end(plain_project(epochs=2), tmp_path / "run")
    run = open_run(tmp_path / "run")
    assert run.state["checkpoint"] == "epoch-000002" and run.checkpoint == tmp_path / "run" / "checkpoints" / "epoch-000002"
    assert sorted(p.name for p in run.checkpoint.iterdir()) == ["best.safetensors", "last.safetensors", "optimizer.pt"]


def test_a_run_folder_of_the_older_layout_still_opens_and_resumes(tmp_path):
    run_dir = tmp_path / "run"
    run_to_end(plain_project(epochs=2), run_dir)
    checkpoints = run_dir / "checkpoints"
    folder = checkpoints / "epoch-000002"
    for path in folder.iterdir():  # the files directly in checkpoints/, as before this layout
        path.rename(checkpoints / path.name)
    folder.rmdir()
    state = json.loads((checkpoints / "state.json").read_text())
    del state["checkpoint"]
    (checkpoints / "state.json").write_text(json.dumps(state))
    assert open_run(run_dir).load_model() is not None
    events = list(resume_trainer(run_dir, epochs=3).events())
    assert events[-1]["status"] == "finished"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch-000003", "state.json"]


def test_an_infinite_validation_loss_is_not_checkpointed_and_metrics_stay_strict_json(tmp_path, monkeypatch):
    trainer = Trainer(plain_project(epochs=3), run_dir=tmp_path / "run")
    evaluate = trainer._evaluate

    def diverged(stage):
        record = evaluate(stage)
        if trainer.epoch == 1:  # the second epoch: weights at 1e9, the validation loss overflows
            with torch.no_grad():
                for p in trainer.model.parameters():
                    p.mul_(1e9)
            record["val_loss"] = math.inf
        return record

    monkeypatch.setattr(trainer, "_evaluate", diverged)
    events = list(trainer.events())
    assert events[-1]["status"] == "failed"
    assert events[-1]["message"].startswith("the validation loss became inf in epoch 2: training stopped; the last "
                                            "good checkpoint is kept")
    run = open_run(tmp_path / "run")
    assert run.state["epoch"] == 1 and [e["epoch"] for e in run.metrics if e["event"] == "epoch"] == [1]
    assert all(torch.isfinite(p).all() and p.abs().max() < 1e3 for p in run.load_model().parameters())
    assert all(p.abs().max() < 1e3 for p in trainer.model.parameters())  # back at the good epoch
    text = (tmp_path / "run" / "metrics.jsonl").read_text()
    for line in text.splitlines():
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} in metrics.jsonl"))


def test_non_finite_weights_with_a_finite_loss_are_not_checkpointed(tmp_path, monkeypatch):
    trainer = Trainer(plain_project(epochs=2), run_dir=tmp_path / "run")
    evaluate = trainer._evaluate

    def poisoned(stage):
        record = evaluate(stage)
        if trainer.epoch == 1:
            with torch.no_grad():
                trainer.model[0].bias[0] = math.nan
        return record

    monkeypatch.setattr(trainer, "_evaluate", poisoned)
    done = list(trainer.events())[-1]
    assert done["status"] == "failed" and "the weights hold NaN or infinite values after epoch 2" in done["message"]
    assert open_run(tmp_path / "run").state["epoch"] == 1


def test_strict_json_writes_non_finite_numbers_as_null():
    assert run_folder.strict_json({"val_loss": math.inf, "x": [math.nan, 1.5]}) == '{"val_loss": null, "x": [null, 1.5]}'


def test_a_learning_rate_given_on_resume_reaches_the_optimizer(tmp_path):
    run_dir = tmp_path / "run"
    run_to_end(plain_project(epochs=1), run_dir)
    trainer = resume_trainer(run_dir, lr=1e-8, weight_decay=0.01, epochs=2)
    assert [g["lr"] for g in trainer.optimizer.param_groups] == [1e-8]
    assert [g["weight_decay"] for g in trainer.optimizer.param_groups] == [0.01]
    assert trainer.optimizer.state  # the checkpoint's moments were loaded all the same
    assert json.loads((run_dir / "config.json").read_text())["training"]["lr"] == 1e-8


def test_a_resume_with_another_optimizer_starts_its_state_afresh(tmp_path):
    run_dir = tmp_path / "run"
    run_to_end(plain_project(epochs=1), run_dir)
    trainer = resume_trainer(run_dir, optimizer="sgd", lr=0.01, epochs=2)
    assert isinstance(trainer.optimizer, torch.optim.SGD) and not trainer.optimizer.state
    assert list(trainer.events())[-1]["status"] == "finished"


def test_a_run_killed_before_its_first_checkpoint_resumes_by_starting_over(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        counter = WriteCounter(patch)
        run_to_end(plain_project(epochs=2), tmp_path / "reference")
    first_checkpoint = next(i for i, (name, path) in enumerate(counter.calls, 1) if name == "file")
    with monkeypatch.context() as patch:
        WriteCounter(patch, first_checkpoint)
        with pytest.raises(Killed):
            run_to_end(plain_project(epochs=2), run_dir)
    with pytest.raises(RunError, match="already holds a run: resume it"):
        Trainer(plain_project(epochs=2), run_dir=run_dir)
    events = list(resume_trainer(run_dir).events())
    assert events[0]["note"].startswith("no checkpoint yet") and events[-1]["status"] == "finished"
    assert curve(run_dir) == pytest.approx(curve(tmp_path / "reference"), rel=1e-5)


def test_deleted_checkpoints_are_named_as_such(tmp_path):
    run_dir = tmp_path / "run"
    run_to_end(plain_project(epochs=2), run_dir)
    for path in sorted((run_dir / "checkpoints").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    with pytest.raises(RunError, match=re.escape("no checkpoint, though metrics.jsonl records 2 epochs (were the "
                                                 "checkpoints deleted?): the trained weights are gone")):
        resume_trainer(run_dir)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    run_to_end(plain_project(epochs=1), run_dir)
    torch.set_num_threads(threads)
    return run_dir


def _damaged(finished_run, tmp_path, change):
    import shutil

    run_dir = tmp_path / "run"
    shutil.copytree(finished_run, run_dir)
    change(run_dir)
    return run_dir


def _rewrite_weights(run_dir, edit):
    from safetensors.torch import load_file, save_file

    path = open_run(run_dir).checkpoint / "last.safetensors"
    weights = edit(load_file(path))
    path.unlink()  # a hard link to best.safetensors: replace it, do not write through it
    save_file(weights, path)


@pytest.mark.parametrize("damage, words", [
    (lambda w: {**w, "0.weight": w["0.weight"].to(torch.int8)},
     "'0.weight' (layer 0, Conv2d) holds int8 values where the network holds float32: not weights workbench wrote"),
    (lambda w: {**w, "0.weight": torch.zeros(4, 1, 3, 3)},
     "'0.weight' (layer 0, Conv2d) is 4×1×3×3 in the checkpoint but 16×1×3×3 in the network: the weights belong "
     "to another network"),
    (lambda w: {**w, "0.bias": w["0.bias"] * math.nan},
     "'0.bias' (layer 0, Conv2d) holds 16 NaN or infinite values: the network had diverged when it was saved"),
    (lambda w: {k: v for k, v in w.items() if k != "0.bias"}, "does not fit the run's network: it lacks '0.bias'"),
])
def test_weights_that_are_not_the_networks_are_refused_naming_file_and_tensor(finished_run, tmp_path, damage, words):
    run_dir = _damaged(finished_run, tmp_path, lambda d: _rewrite_weights(d, damage))
    with pytest.raises(RunError, match="last.safetensors: ") as caught:
        open_run(run_dir).load_model()
    assert words in str(caught.value)
    with pytest.raises(RunError) as resumed:
        resume_trainer(run_dir)
    assert words in str(resumed.value) and "learning rate" not in str(resumed.value)


@pytest.mark.parametrize("change, words", [
    ({"epoch": 10**12}, "'epoch' must be a whole number from 0 to 100000, got 1000000000000"),
    ({"stage_epoch": 5}, "'stage_epoch' (5) cannot exceed 'epoch' (1)"),
    ({"checkpoint": "../../elsewhere"}, "'checkpoint' must be the name of a checkpoint folder"),
])
def test_an_impossible_state_is_refused(finished_run, tmp_path, change, words):
    def edit(run_dir):
        path = run_dir / "checkpoints" / "state.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **change}))

    with pytest.raises(RunError) as caught:
        open_run(_damaged(finished_run, tmp_path, edit))
    assert "state.json: " in str(caught.value) and words in str(caught.value)


@pytest.mark.parametrize("bad_line", [b'{"event": "epoch", "epoch": "1", "global_step": 3, "train_loss": 0.5}',
                                      b'{"event": "batch", "epoch": 1, "global_step": 2, "train_loss": "x"}',
                                      b'\xff\xfe not utf-8 \x80', b'[1, 2]'])
def test_a_damaged_metrics_line_is_skipped_and_the_run_still_plots_and_resumes(finished_run, tmp_path, bad_line):
    def edit(run_dir):
        with open(run_dir / "metrics.jsonl", "ab") as metrics:
            metrics.write(bad_line + b"\n")

    run_dir = _damaged(finished_run, tmp_path, edit)
    run = open_run(run_dir)
    assert [e["epoch"] for e in run.metrics if e["event"] == "epoch"] == [1]
    events = list(resume_trainer(run_dir, epochs=2).events())
    assert events[-1]["status"] == "finished"
    assert [e["epoch"] for e in open_run(run_dir).metrics if e["event"] == "epoch"] == [1, 2]


def test_a_full_disk_while_saving_names_the_epoch_saved_and_the_file(tmp_path, monkeypatch):
    def full(path, data):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(run_folder, "_write_file", full)
    done = list(Trainer(plain_project(epochs=2), run_dir=tmp_path / "run").events())[-1]
    assert done["status"] == "failed"
    assert done["message"].startswith("training failed while saving the checkpoint of epoch 1: No space left on "
                                      f"device ({tmp_path / 'run' / 'checkpoints' / 'epoch-000001'}")


def test_plotting_a_checkpoint_with_nan_weights_is_one_line_not_numpy_warnings(finished_run, tmp_path, capsys):
    from workbench.__main__ import main

    run_dir = _damaged(finished_run, tmp_path, lambda d: _rewrite_weights(d, lambda w: {**w, "0.weight": w["0.weight"] * math.nan}))
    rc = main(["plot", str(run_dir), "--what", "filters", "-o", str(tmp_path / "filters.png")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Warning" not in err
    assert "last.safetensors: '0.weight' (layer 0, Conv2d) holds 144 NaN or infinite values" in err
    assert not (tmp_path / "filters.png").exists()
