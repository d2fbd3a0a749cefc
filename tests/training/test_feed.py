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
def test_the_ranks_shares_never_overlap_and_cover_the_epoch(world_size):
    x, y = images(50)
    order = torch.randperm(50, generator=torch.Generator().manual_seed(1))
    feeds = [BatchFeed(x, y, "cpu", rank=r, world_size=world_size) for r in range(world_size)]
    shares = [f.share(order) for f in feeds]
    together = torch.cat(shares)
    assert len(set(together.tolist())) == len(together) >= 50 - (world_size - 1)  # none twice, few left out
    assert {len(s) for s in shares} == {50 // world_size} and len({f.steps(8) for f in feeds}) == 1
    for f, share in zip(feeds, shares):  # each rank's batches are its share, in the epoch's order
        xs, ys = zip(*f.batches(order, 8))
        trained = share[:sum(map(len, ys))]
        assert torch.equal(torch.cat(xs), x[trained]) and torch.equal(torch.cat(ys), y[trained])


def test_a_last_batch_of_one_sample_is_left_out():
    assert steps_for(65, 64) == 1 and steps_for(66, 64) == 2 and steps_for(10, 64) == 1
    x, y = images(65)
    batches = list(BatchFeed(x, y, "cpu").batches(torch.arange(65), 64))
    assert [len(b[0]) for b in batches] == [64]


def test_streamed_batches_are_the_resident_ones_in_the_layout_asked_for():
    x, y = images(50)
    order = torch.randperm(50)
    resident = list(BatchFeed(x, y, "cpu").batches(order, 16))
    streamed = list(BatchFeed(x, y, "cpu", stream=True, memory_format=torch.channels_last).batches(order, 16))
    assert len(resident) == len(streamed) == 4
    for (xa, ya), (xb, yb) in zip(resident, streamed):
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
    for (xa, ya), (xb, yb) in zip(resident, streamed):
        assert xb.device.type == "cuda" and torch.equal(xa, xb) and torch.equal(ya, yb)
