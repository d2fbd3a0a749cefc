"""The autoencoder lab's jobs, headless: what the training process runs for the lab panel."""
from __future__ import annotations

import pytest

from workbench.core.templates import template
from workbench.training.lab import AnalyseJob, AnalyseRunJob, CompareJob, DenoiseExamples, SweepJob
from workbench.training.remote import job_events


class Controls:
    """The training process's controls, as a job sees them."""

    def __init__(self) -> None:
        self.stopped = False
        self.workshop: dict = {}
        self.trainer = None
        self.lock = __import__("threading").Lock()

    def attach(self, trainer) -> None:
        self.trainer = trainer


def _doc(name: str, **training) -> dict:
    doc = template(name)
    doc["training"] = {**doc["training"], "device": "cpu", **training}
    return doc


def test_train_and_analyse_gives_pca_compression_and_keeps_the_network_for_denoising(one_torch_thread):
    controls = Controls()
    events = list(job_events(AnalyseJob(_doc("linear-autoencoder", epochs=20), "plain"), controls))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds.count("epoch") == 20 and kinds[-2:] == ["analysis", "done"]
    assert "done" not in kinds[:-1]  # the training's own end is not the job's
    analysis = events[-2]
    assert analysis["pca"].k == 8 and analysis["info"].code_size == 8 and analysis["val_size"] > 100
    assert [row["bits"] for row in analysis["compression"]] == [32, 8, 4, 2]
    assert events[-1]["status"] == "finished"

    clean, noisy, denoised = DenoiseExamples(0, 8, "masking", 0.4).answer(controls)
    assert clean.shape == noisy.shape == denoised.shape == (8, 1, 8, 8)
    assert (noisy == 0).mean() > (clean == 0).mean()  # masking sets values to zero
    sweep = list(job_events(SweepJob("gaussian"), controls))
    rows = sweep[0]["rows"]
    assert [r["level"] for r in rows] == [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert rows[-1]["noisy_mse"] > rows[0]["noisy_mse"] and sweep[-1]["status"] == "finished"


def test_a_saved_run_is_analysed(tiny_run):
    controls = Controls()
    events = list(job_events(AnalyseRunJob(str(tiny_run("autoencoder"))), controls))
    assert [e["event"] for e in events] == ["analysis", "done"]
    assert events[0]["name"] == "autoencoder" and events[0]["pca"].k == 16
    assert controls.workshop["analysis"].name == "autoencoder"


def test_a_classifier_or_no_network_gets_a_message_not_a_traceback(one_torch_thread):
    doc = _doc("digits-cnn", epochs=1, batch_size=512)
    doc["data"]["count"] = 200
    events = list(job_events(AnalyseJob(doc, "plain"), Controls()))
    assert events[-1]["status"] == "failed" and "not an autoencoder" in events[-1]["message"]
    events = list(job_events(SweepJob("gaussian"), Controls()))
    assert events == [{"event": "done", "status": "failed", "message": "train an autoencoder or open a run first",
                       "run_dir": None}]
    with pytest.raises(ValueError, match="first"):
        DenoiseExamples(0, 8, "gaussian", 0.3).answer(Controls())


def test_layerwise_against_scratch_ends_once_with_both_curves(one_torch_thread):
    events = list(job_events(CompareJob(_doc("stacked-autoencoder", epochs=8, batch_size=256)), Controls()))
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["schedule"] for e in epochs] == ["layerwise"] * 8 + ["scratch"] * 8
    assert [e["event"] for e in events[-2:]] == ["comparison", "done"] and events[-1]["status"] == "finished"
    assert [e["event"] for e in events].count("done") == 1
    comparison = events[-2]
    assert comparison["budget"] == 8 and len(comparison["scratch"]["val_loss"]) == 8


def test_a_stop_acts_between_steps_not_at_the_end_of_an_epoch(one_torch_thread):
    """One long epoch (many small batches): the stop is seen at the next batch event."""
    doc = _doc("stacked-autoencoder", epochs=50, batch_size=1)
    controls = Controls()
    compare = job_events(CompareJob(doc), controls)
    for event in compare:
        if event["event"] == "batch":
            controls.stopped = True
            break
    rest = list(compare)
    assert rest[-1]["status"] == "stopped" and not any(e["event"] == "epoch" for e in rest)

    controls = Controls()
    train = job_events(AnalyseJob(doc, "plain"), controls)
    for event in train:
        if event["event"] == "batch":
            controls.trainer.stop()
            break
    rest = list(train)
    assert [e["event"] for e in rest] == ["done"] and rest[0]["status"] == "stopped"
