"""Greedy layer-wise pretraining: earlier blocks really stay frozen, every event names its stage,
the mirrored decoders reconstruct what their block receives, and the comparison with scratch."""
import json

import pytest
import torch

from workbench.core.templates import template
from workbench.training.engine import Trainer
from workbench.training.layerwise import LayerwiseTrainer, compare_with_scratch, pretrain_blocks
from workbench.training.run_folder import open_run
from workbench.training.schedules import make_trainer, resume_trainer

FAST = {"device": "cpu", "batch_size": 256}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _weights(model, layers):
    return {i: model[i].weight.detach().clone() for i in layers}


def test_earlier_blocks_stay_frozen_while_later_ones_train():
    trainer = LayerwiseTrainer("stacked-autoencoder", epochs=8, **FAST)
    assert [s.name for s in trainer.stages()] == ["pretrain-1", "pretrain-2", "pretrain-3", "finetune"]
    encoder, decoder = (1, 3, 5), (7, 9, 11)
    after = {"initial": _weights(trainer.model, encoder + decoder)}
    last_stage = None
    for event in trainer.events():
        if event["event"] == "epoch":
            last_stage = event["stage"]
            after[last_stage] = _weights(trainer.model, encoder + decoder)
    assert last_stage == "finetune"
    same = torch.equal
    # pretrain-2 leaves block 1 alone and trains block 2; pretrain-3 leaves blocks 1-2 alone
    assert same(after["pretrain-2"][1], after["pretrain-1"][1])
    assert not same(after["pretrain-2"][3], after["pretrain-1"][3])
    assert same(after["pretrain-3"][1], after["pretrain-1"][1])
    assert same(after["pretrain-3"][3], after["pretrain-2"][3])
    assert not same(after["pretrain-3"][5], after["pretrain-2"][5])
    # the network's own decoder is not touched by pretraining (mirrors are separate), then fine-tuning trains it all
    for i in decoder:
        assert same(after["pretrain-3"][i], after["initial"][i])
    for i in encoder + decoder:
        assert not same(after["finetune"][i], after["pretrain-3"][i])


def test_every_json_line_carries_its_stage(tmp_path):
    trainer = make_trainer("stacked-autoencoder", "layerwise", run_dir=tmp_path / "run", epochs=6, **FAST)
    printed = [json.loads(json.dumps(e)) for e in trainer.events() if e["event"] in ("start", "epoch", "done")]
    assert all("stage" in e for e in printed)
    assert printed[0]["stage"] == "pretrain-1" and printed[-1]["stage"] == "finetune"
    assert printed[-1]["status"] == "finished"
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    stages = [e["stage"] for e in logged if e["event"] == "epoch"]
    assert stages == ["pretrain-1", "pretrain-2", "pretrain-3", "finetune", "finetune", "finetune"]
    assert all("stage" in e for e in logged)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["schedule"]["name"] == "layerwise" and config["schedule"]["pretrain_epochs"] == 1
    # the checkpoint is the network being built, so a run folder opens like any other
    model = open_run(tmp_path / "run").load_model()
    assert torch.equal(model[1].weight, trainer.model[1].weight.cpu())


@pytest.mark.parametrize("name", ["digits-cnn", "denoising-conv-autoencoder", "deep-autoencoder", "mlp-cifar10"])
def test_mirrored_decoders_reconstruct_what_their_block_receives(name):
    doc = template(name)
    doc["data"] = {**doc["data"], "count": 64} if doc["data"]["dataset"] != "digits" else doc["data"]
    trainer = LayerwiseTrainer(doc, epochs=4, device="cpu")
    x = trainer.data.val_x[:4]
    for stage in trainer.stages()[:-1]:
        assert stage.model(x).shape == stage.task.targets(x, None).shape
    classify = doc["training"]["task"] == "classify"
    last_weight = max(i for i, layer in enumerate(doc["layers"]) if layer["type"] in ("Linear", "Conv2d"))
    blocks = pretrain_blocks(doc, doc["training"]["task"])
    assert blocks[0].start == 0 and all(a.end == b.start for a, b in zip(blocks, blocks[1:]))
    if classify:  # every weight layer but the output layer
        assert blocks[-1].end == last_weight


def test_a_network_without_an_encoder_layer_is_refused_clearly():
    doc = template("digits-cnn")
    doc["layers"] = [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}]
    with pytest.raises(ValueError, match="needs a Linear or Conv2d layer before the output layer"):
        LayerwiseTrainer(doc, device="cpu")
    with pytest.raises(ValueError, match="schedule 'greedy' is not known: use one of plain, layerwise"):
        make_trainer(doc, "greedy")
    assert type(make_trainer("digits-cnn", "plain", device="cpu", epochs=1)) is Trainer


def test_comparison_with_scratch_uses_the_same_budget():
    doc = template("stacked-autoencoder")
    result = compare_with_scratch(doc, epochs=8, **FAST)
    assert result["budget"] == 8 and result["pretrain_epochs"] == 3
    lw, sc = result["layerwise"], result["scratch"]
    assert len(lw["val_loss"]) == len(sc["val_loss"]) == 8
    assert lw["stage"] == ["pretrain-1", "pretrain-2", "pretrain-3"] + ["finetune"] * 5
    assert set(sc["stage"]) == {""}
    assert all(v > 0 for v in lw["val_loss"] + sc["val_loss"])


def _stop_at(trainer, stage, stage_epoch):
    for event in trainer.events():
        if event["event"] == "epoch" and (event["stage"], event["stage_epoch"]) == (stage, stage_epoch):
            trainer.stop()


@pytest.mark.parametrize("stage,stage_epoch", [("pretrain-1", 1), ("pretrain-2", 2)])
def test_a_run_stopped_mid_pretraining_resumes_to_where_an_uninterrupted_one_gets(tmp_path, stage, stage_epoch):
    """12 epochs: pretrain-1..3 have 2 each, finetune 6. The resumed run needs the stage's own
    optimizer and mirrored decoder back, or its weights would differ from the uninterrupted run's."""
    whole = make_trainer("stacked-autoencoder", run_dir=tmp_path / "whole", epochs=12, **FAST)
    events_whole = list(whole.events())
    _stop_at(make_trainer("stacked-autoencoder", run_dir=tmp_path / "run", epochs=12, **FAST), stage, stage_epoch)
    resumed = resume_trainer(tmp_path / "run")
    assert isinstance(resumed, LayerwiseTrainer) and list(resumed.events())[-1]["status"] == "finished"
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b.cpu())
    metrics = open_run(tmp_path / "run").metrics
    epochs = [(e["epoch"], e["stage"], e["stage_epoch"]) for e in metrics if e["event"] == "epoch"]
    assert epochs == [(e["epoch"], e["stage"], e["stage_epoch"]) for e in events_whole if e["event"] == "epoch"]
    assert [e[0] for e in epochs] == list(range(1, 13))  # one axis across stages
    assert [e[2] for e in epochs] == [1, 2, 1, 2, 1, 2, 1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("poison_after", [("pretrain-1", 1), ("pretrain-1", 2)])
def test_a_non_finite_loss_while_pretraining_fails_cleanly_and_the_run_can_go_on(tmp_path, poison_after):
    """After pretrain-1's epoch 1 the failing stage has a checkpoint of its own; after its last epoch
    the failure is in pretrain-2, whose checkpoint does not exist yet: it starts that stage afresh."""
    trainer = make_trainer("stacked-autoencoder", run_dir=tmp_path / "run", epochs=12, **FAST)
    events = []
    for event in trainer.events():
        events.append(event)
        if event["event"] == "epoch" and (event["stage"], event["stage_epoch"]) == poison_after:
            with torch.no_grad():
                trainer.model[1].weight.fill_(float("nan"))
    done = events[-1]
    assert done["status"] == "failed" and "the loss became nan" in done["message"]
    assert done["epoch"] == poison_after[1]
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    again = list(trainer.events())
    assert again[-1]["status"] == "finished" and again[-1]["epoch"] == 12
    assert all(e["train_loss"] == e["train_loss"] for e in again if e["event"] == "epoch")  # no NaN
