"""Measured time per layer: each layer's forward and backward time on a training batch, on the run's
device, set beside its share of the network's MACs.

    seconds = time_layers(model, layers, lambda: loss_of(batch))  # [(forward_s, backward_s) per layer]
    layers = compare_with_macs(seconds, summary)              # LayerTiming rows, slow layers flagged

Hooks time each layer (the network's child i is layer i): forward from its pre-hook to its hook; backward
from the moment the gradient reaches its output to the moment it has reached its input and its
weights. On CUDA each hook waits for the device (the numbers are for reading, not for training
speed). A tensor that feeds two layers (a branch) gets its gradient once, when both have run: the
first of them is charged the other's backward time too.

The measurement leaves training as it was: batch-norm statistics, the random stream and gradients
are restored.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from workbench.core.summary import LayerRow
from workbench.training.events import LayerTiming

MIN_PASSES, MAX_PASSES = 2, 25  # passes are repeated up to MAX_PASSES while within the time budget
SLOW_SHARE = 0.10  # a layer taking at least this share of the time ...
SLOW_FACTOR = 3.0  # ... and this many times its share of the MACs is flagged


class _Stopwatch:
    def __init__(self, device: torch.device):
        self.device = device

    def now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()


def time_layers(model: nn.Module, layers: list[nn.Module], loss: Callable[[], Tensor],
                budget_s: float = 0.1) -> list[tuple[float, float]]:
    """(forward seconds, backward seconds) of each of `layers` when `loss()` runs `model` (which calls
    them) on a batch: the median of MIN_PASSES to MAX_PASSES passes, as many as fit in `budget_s`.
    The model should be warm (the engine measures after the first epoch)."""
    children = layers
    parameter = next(model.parameters(), None)
    clock = _Stopwatch(parameter.device if parameter is not None else torch.device("cpu"))
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    devices = [clock.device] if clock.device.type == "cuda" else []
    runs: list[list[tuple[float, float]]] = []
    with torch.random.fork_rng(devices=devices):
        try:
            began = clock.now()
            while len(runs) < MIN_PASSES or (len(runs) < MAX_PASSES and clock.now() - began < budget_s):
                runs.append(_one_pass(children, loss, clock))
        finally:
            with torch.no_grad():
                for buffer, saved in buffers:
                    buffer.copy_(saved)
            model.zero_grad(set_to_none=True)
    return [(statistics.median(r[i][0] for r in runs), statistics.median(r[i][1] for r in runs))
            for i in range(len(children))]


def _one_pass(children: list[nn.Module], loss: Callable[[], Tensor], clock: _Stopwatch) -> list[tuple[float, float]]:
    n = len(children)
    began, forward = [0.0] * n, [0.0] * n
    grad_in: list[float | None] = [None] * n   # when the gradient reached the layer's output
    grad_out: list[float] = [0.0] * n          # when it last reached one of its inputs or weights

    def done_at(i: int) -> Callable[[Any], None]:
        def hook(_: Any) -> None:
            grad_out[i] = max(grad_out[i], clock.now())
        return hook

    def pre(i: int) -> Callable[..., None]:
        def hook(_module: nn.Module, inputs: Any) -> None:
            for x in inputs:
                if isinstance(x, Tensor) and x.requires_grad:
                    x.register_hook(done_at(i))
            began[i] = clock.now()
        return hook

    def post(i: int) -> Callable[..., None]:
        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            forward[i] = clock.now() - began[i]
            if isinstance(output, Tensor) and output.requires_grad:
                output.register_hook(lambda _: grad_in.__setitem__(i, clock.now()))
        return hook

    handles = []
    for i, child in enumerate(children):
        handles.append(child.register_forward_pre_hook(pre(i)))
        handles.append(child.register_forward_hook(post(i)))
        for p in child.parameters():
            if p.requires_grad:
                handles.append(p.register_post_accumulate_grad_hook(done_at(i)))
    try:
        value = loss()
        value.backward()
    finally:
        for handle in handles:
            handle.remove()
    return [(forward[i], max(0.0, grad_out[i] - start) if (start := grad_in[i]) is not None else 0.0)
            for i in range(n)]


def compare_with_macs(seconds: Sequence[tuple[float, float]], rows: Sequence[LayerRow]) -> list[LayerTiming]:
    """Each layer's time beside its share of the MACs; `slow` when it takes at least SLOW_SHARE of the
    time and SLOW_FACTOR times its share of the MACs (memory-bound work: normalization, pooling,
    activations of large volumes, or per-layer overhead on a tiny network)."""
    total_time = sum(f + b for f, b in seconds) or 1.0
    total_macs = sum(row["macs"] or 0 for row in rows)
    out: list[LayerTiming] = []
    for i, (forward, backward) in enumerate(seconds):
        share = (forward + backward) / total_time
        macs = rows[i]["macs"] if i < len(rows) else None
        macs_share = (macs or 0) / total_macs if total_macs else None
        slow = share >= SLOW_SHARE and (macs_share is None or share >= SLOW_FACTOR * macs_share)
        out.append({"layer": i, "forward_s": forward, "backward_s": backward, "time_share": share,
                    "macs_share": macs_share, "slow": slow})
    return out


def slow_message(timing: LayerTiming) -> str:
    """Why a layer is flagged, in words."""
    macs = "no MACs" if not timing["macs_share"] else f"{timing['macs_share'] * 100:.0f} % of the MACs"
    return (f"takes {timing['time_share'] * 100:.0f} % of the time for {macs}: the time goes to moving data, "
            f"not arithmetic")
