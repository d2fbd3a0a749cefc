"""Measured time per layer: every layer timed, training state left as it was, slow layers flagged."""
import torch
import torch.nn.functional as F
from torch import nn

from workbench.training.timing import compare_with_macs, slow_message, time_layers


def test_every_layer_is_timed_and_training_is_left_as_it_was():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Dropout(0.5),
                          nn.Linear(4 * 6 * 6, 3))
    model.train()
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 3, (8,))
    stats = model[1].running_mean.clone()
    rng = torch.get_rng_state()
    seconds = time_layers(model, list(model.children()), lambda: F.cross_entropy(model(x), y))
    assert len(seconds) == 6
    assert all(f > 0 for f, _ in seconds)
    assert all(b > 0 for _, b in seconds[1:]) and seconds[0][1] > 0  # the first conv's weights take time too
    assert torch.equal(model[1].running_mean, stats)
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(p.grad is None for p in model.parameters())
    assert model[0]._forward_hooks == {} and model[0]._forward_pre_hooks == {}


def test_a_layer_far_slower_than_its_share_of_the_macs_is_flagged():
    rows = [{"macs": 900}, {"macs": 0}, {"macs": 100}]
    timing = compare_with_macs([(0.4, 0.4), (0.5, 0.5), (0.1, 0.1)], rows)  # type: ignore[arg-type]
    assert [round(t["time_share"], 2) for t in timing] == [0.4, 0.5, 0.1]
    assert [t["macs_share"] for t in timing] == [0.9, 0.0, 0.1]
    assert [t["slow"] for t in timing] == [False, True, False]
    assert slow_message(timing[1]) == "takes 50 % of the time for no MACs: the time goes to moving data, not arithmetic"
