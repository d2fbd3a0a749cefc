"""Training under torchrun: 2 Gloo processes on the CPU train what one process trains, a stop on
one of them ends both, rank 0 alone writes the run folder, and --resume goes on the same way."""
import json
import shutil

import pytest
import torch

from workbench.core.spec import load_spec
from workbench.training.distributed import World, shard
from workbench.training.engine import Trainer
from workbench.training.run_folder import load_weights, open_run


def test_the_ranks_shares_make_up_each_global_batch_once():
    batch = torch.arange(10, 23)  # 13 samples among 3 ranks: 4, 4 and 5
    shares = [shard(batch, rank, 3) for rank in range(3)]
    assert torch.equal(torch.cat(shares), batch) and [len(s) for s in shares] == [4, 4, 5]
    # DDP averages the ranks' gradients: their mean losses, weighted by their shares, average to the
    # whole batch's mean loss (and so do the gradients)
    losses = torch.rand(len(batch), dtype=torch.float64)
    weighted = [World(rank, 3).share_weight(len(s), len(batch)) * losses[s - 10].mean() for rank, s in enumerate(shares)]
    assert float(sum(weighted) / 3) == pytest.approx(float(losses.mean()))
    assert [World(rank, 3).share_range(7) for rank in range(3)] == [(0, 2), (2, 4), (4, 7)]


def test_a_batch_smaller_than_the_processes_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="training.batch_size 1 is smaller than the 2 processes .* use at least 2"):
        World(0, 2).check_batch(1)


def test_a_stop_on_one_process_ends_both_with_one_message(two_process_run):
    run, _, events, code, _ = two_process_run
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("done") == 1 and code != 0
    assert events[0]["processes"] == 2 and events[0]["train_size"] == 160 and events[0]["steps_per_epoch"] == 5
    done = events[-1]
    assert done["status"] == "stopped" and done["message"].startswith("stopped at epoch")
    recorded = open_run(run)
    assert recorded.config["processes"] == 2 and recorded.config["backend"] == "gloo"
    assert recorded.config["batch_norm"] == "per-process"  # torch's SyncBatchNorm needs GPUs
    epochs = [e["epoch"] for e in recorded.metrics if e["event"] == "epoch"]
    assert epochs == list(range(1, done["epoch"] + 1))  # one writer: every epoch once
    assert [e["event"] for e in recorded.metrics].count("done") == 1


def _single_process_weights(spec, epochs: list[int]) -> dict[int, dict[str, torch.Tensor]]:
    """One process, the same seed and global batch: its weights after each of `epochs`."""
    trainer = Trainer(load_spec(str(spec)), epochs=max(epochs), batch_size=32, lr=0.003, device="cpu")
    weights = {}
    for event in trainer.events():
        if event["event"] == "epoch" and event["epoch"] in epochs:
            weights[event["epoch"]] = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert event["status"] == "finished", event
    return weights


def _assert_same_weights(saved: dict[str, torch.Tensor], single: dict[str, torch.Tensor]) -> None:
    assert saved.keys() == single.keys()
    for key in saved:
        # the shares' gradients are added in another order than one batch's: float rounding only
        assert torch.allclose(saved[key], single[key], rtol=1e-4, atol=1e-5), (key, (saved[key] - single[key]).abs().max())


def test_two_processes_train_the_weights_one_process_trains_and_resume_alike(two_process_run, run_torchrun, tmp_path):
    shared, spec, _, _, _ = two_process_run
    run = tmp_path / "run"
    shutil.copytree(shared, run)  # the session's run stays as it stopped for the other tests
    stopped_at = open_run(run).state["epoch"]  # the last epoch checkpointed before the stop
    assert stopped_at >= 1
    single = _single_process_weights(spec, [stopped_at, stopped_at + 1])
    _assert_same_weights(load_weights(open_run(run).checkpoint / "last.safetensors"), single[stopped_at])
    moved = torch.stack([(single[stopped_at][k] - single[stopped_at + 1][k]).abs().max()
                         for k in single[stopped_at]])
    assert moved.max() > 1e-3  # an epoch changes the weights by far more than the tolerance

    code, events, _ = run_torchrun("--resume", str(run), "--epochs", str(stopped_at + 1))
    assert code == 0 and [e["event"] for e in events] == ["start", "epoch", "done"], events
    assert events[1]["epoch"] == stopped_at + 1 and events[-1]["status"] == "finished"
    _assert_same_weights(load_weights(open_run(run).checkpoint / "last.safetensors"), single[stopped_at + 1])
    assert json.loads((run / "config.json").read_text())["processes"] == 2


def test_the_run_of_two_processes_plots_like_any_other(two_process_run, tmp_path, capsys):
    from workbench.__main__ import main

    run = two_process_run[0]
    for what in ("filters", "curves", "confusion"):
        picture = tmp_path / f"{what}.png"
        assert main(["plot", str(run), "--what", what, "-o", str(picture)]) == 0, capsys.readouterr().err
        assert picture.stat().st_size > 1000
