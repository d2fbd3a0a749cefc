"""Where batches come from: each rank's share of an epoch, streamed batches equal to resident ones,
and a dataset too large for the device still trains."""
import pytest
import torch

from workbench.core.templates import template
from workbench.data import Dataset
from workbench.training import feed as feed_module
from workbench.training.engine import Trainer
from workbench.training.feed import BatchFeed, place, steps_for


def images(n=50):
    x = torch.arange(n * 2 * 3 * 3, dtype=torch.float32).reshape(n, 2, 3, 3)
    return x, torch.arange(n) % 10


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_the_ranks_shares_of_each_batch_are_what_one_process_trains_on(world_size):
    x, y = images(56)  # 4 batches of 12 and one of 8: 2 or more samples for each of up to 4 ranks
    order = torch.randperm(56, generator=torch.Generator().manual_seed(1))
    alone = list(BatchFeed(x, y, "cpu").batches(order, 12))
    ranks = [list(BatchFeed(x, y, "cpu", rank=r, world_size=world_size).batches(order, 12)) for r in range(world_size)]
    assert len(alone) == 5
    assert {len(batches) for batches in ranks} == {len(alone)}  # every rank takes as many steps
    for step, whole in enumerate(alone):  # the shares, in rank order, make up the one process's batch
        assert torch.equal(torch.cat([batches[step].x for batches in ranks]), whole.x)
        assert torch.equal(torch.cat([batches[step].y for batches in ranks]), whole.y)
        assert all(batches[step].whole == len(whole.x) for batches in ranks)


def test_a_last_batch_too_small_to_share_is_left_out():
    assert steps_for(65, 64) == 1 and steps_for(66, 64) == 2 and steps_for(10, 64) == 1
    assert steps_for(67, 64, world_size=2) == 1 and steps_for(68, 64, world_size=2) == 2  # 2 samples a process
    x, y = images(65)
    batches = list(BatchFeed(x, y, "cpu").batches(torch.arange(65), 64))
    assert [len(b.x) for b in batches] == [64]


def test_streamed_batches_are_the_resident_ones_in_the_layout_asked_for():
    x, y = images(50)
    order = torch.randperm(50)
    resident = list(BatchFeed(x, y, "cpu").batches(order, 16))
    streamed = list(BatchFeed(x, y, "cpu", stream=True, memory_format=torch.channels_last).batches(order, 16))
    assert len(resident) == len(streamed) == 4
    for (xa, ya, _), (xb, yb, _) in zip(resident, streamed):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
        assert xb.is_contiguous(memory_format=torch.channels_last) and not xa.is_contiguous(
            memory_format=torch.channels_last)


def test_data_that_fits_moves_in_the_layout_asked_for_and_too_much_stays_on_the_host(monkeypatch):
    x, y = images(40)
    data = Dataset("t", [str(i) for i in range(10)], x[:30], y[:30], x[30:], y[30:])
    placed, streamed = place(data, torch.device("cpu"), torch.channels_last)
    assert not streamed and placed.train_x.is_contiguous(memory_format=torch.channels_last)
    monkeypatch.setattr(feed_module, "free_bytes", lambda device: 1000)  # a "GPU" with 1 kB free
    placed, streamed = place(data, torch.device("cpu"))
    assert streamed and placed.train_x is data.train_x and placed.val_x is data.val_x


def test_a_dataset_larger_than_the_device_trains_streamed_as_it_would_on_the_device(monkeypatch):
    doc = template("digits-cnn")
    doc["data"] = {"dataset": "digits", "count": 240}
    doc["training"] = {**doc["training"], "epochs": 2, "batch_size": 32, "device": "cpu"}
    on_device = [e for e in Trainer(doc).events() if e["event"] == "epoch"]
    monkeypatch.setattr(feed_module, "free_bytes", lambda device: 1000)
    trainer = Trainer(doc)
    assert trainer.streamed and trainer.feed.streamed
    streamed = [e for e in trainer.events() if e["event"] == "epoch"]
    assert [e["train_loss"] for e in streamed] == pytest.approx([e["train_loss"] for e in on_device], rel=1e-5)
    assert streamed[-1]["val_accuracy"] == pytest.approx(on_device[-1]["val_accuracy"])


def test_a_rank_out_of_range_is_refused():
    x, y = images(10)
    with pytest.raises(ValueError, match="rank 2 is not one of world_size 2 ranks"):
        BatchFeed(x, y, "cpu", rank=2, world_size=2)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_batches_streamed_to_the_gpu_are_the_resident_ones():
    x, y = images(300)
    order = torch.randperm(300)
    device = torch.device("cuda")
    resident = list(BatchFeed(x.to(device), y.to(device), device).batches(order, 64))
    streamed = list(BatchFeed(x, y, device, memory_format=torch.channels_last).batches(order, 64))
    assert len(resident) == len(streamed) == 5
    for (xa, ya, _), (xb, yb, _) in zip(resident, streamed):
        assert xb.device.type == "cuda" and torch.equal(xa, xb) and torch.equal(ya, yb)
