"""Training health, collected while training: for each layer, how strong the gradient reaching it is
(relative to the output layer's), how much a step changes its weights, how many ReLU units never
fire or Sigmoid/Tanh outputs sit in their flat ends, and its activations' mean and spread.

    monitor = HealthMonitor(model, every=25)
    with monitor.watch(global_step):     # collects on a few steps; on the others it does nothing
        ...forward, backward, optimizer step...
    for step, layers in monitor.flush():  # at logging points: the collected steps, on the CPU
        ...

The engine holds a `HealthRecorder`, which adds the findings (workbench.training.findings) and
makes the "health" events written to the run folder's health.jsonl.

Cheap by design. Statistics are collected on steps 0, 1, 2, 4, 8, ... (a bad setting shows in the
first steps) and then every `every` steps; the hooks are attached for that step only; a collected
step's numbers stay on the device (one stacked tensor) until `flush`, the one CPU-GPU sync, which
the engine calls at its logging points. The cost is measured by benchmarks/health_cost.py.

Layer i is the model's child i (a Sequential's or a GraphNet's: the project's layer i). Hooks sit on
those modules, so a staged schedule whose model calls the network's layers is watched as well.
"""
from __future__ import annotations

import collections
import contextlib
import math
from typing import Any, Iterator, Sequence

import torch
from torch import Tensor, nn

from workbench.training.events import BatchEvent, HealthEvent, LayerHealth
from workbench.training.findings import WINDOW, LossTrend, find

HEALTH_EVERY = 25  # steps between collections after the first ones (1, 2, 4, ... up to it)
DEAD_WINDOW = 5    # a ReLU unit is dead when it fired in none of the last this many collected batches
SIGMOID_FLAT = 0.01  # sigmoid outputs within this of 0 or 1: its slope is under 4 % of its peak
TANH_FLAT = 0.99     # |tanh| above this: its slope is under 2 % of its peak

# the columns of a collected step's numbers; the gradient is the absolute norm at the layer's output
# until `flush` turns it into the ratio to the output layer's
STATS = ("act_mean", "act_std", "dead", "saturated", "grad_ratio", "weight_grad", "update_ratio")
_COLUMN = {name: i for i, name in enumerate(STATS)}


def collects(step: int, every: int) -> bool:
    """Whether statistics are collected on this (0-based, run-wide) step."""
    if every <= 0:
        return False
    return step % every == 0 or (step < every and step & (step - 1) == 0)


class HealthMonitor:
    """Health statistics of `model`'s layers on some steps (see the module docstring); every=0: never."""

    def __init__(self, model: nn.Module, every: int = HEALTH_EVERY):
        self.layers = list(model.children())
        self.every = every
        self._pending: list[tuple[int, list[tuple[int, int]], Tensor]] = []
        self._active: dict[int, collections.deque[Tensor]] = {
            i: collections.deque(maxlen=DEAD_WINDOW) for i, m in enumerate(self.layers) if isinstance(m, nn.ReLU)}

    def watch(self, step: int) -> contextlib.AbstractContextManager[Any]:
        """Around one optimizer step (forward, backward, update): collects if the step is due."""
        if not collects(step, self.every):
            return contextlib.nullcontext()
        return self._collect(step)

    @contextlib.contextmanager
    def _collect(self, step: int) -> Iterator[None]:
        values: list[Tensor] = []        # 0-d device tensors ...
        keys: list[tuple[int, int]] = []  # ... and the (layer, column) each one goes to

        def put(layer: int, column: str, value: Tensor) -> None:
            keys.append((layer, _COLUMN[column]))
            values.append(value.detach().float())

        weighted = [(i, [p for p in m.parameters() if p.requires_grad]) for i, m in enumerate(self.layers)]
        weighted = [(i, params) for i, params in weighted if params]
        with torch.no_grad():
            before = {i: [p.detach().clone() for p in params] for i, params in weighted}
        handles = [m.register_forward_hook(self._forward_hook(i, put)) for i, m in enumerate(self.layers)]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()
        with torch.no_grad():
            for i, params in weighted:
                grads = [p.grad for p in params if p.grad is not None]
                if grads:
                    put(i, "weight_grad", _norm(grads))
                weights = _norm(before[i])
                put(i, "update_ratio", _norm([p.detach() - b for p, b in zip(params, before[i])])
                    / weights.clamp_min(1e-12))
        if values:
            self._pending.append((step, keys, torch.stack(values)))

    def _forward_hook(self, index: int, put: Any) -> Any:
        module = self.layers[index]

        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            if not isinstance(output, Tensor) or not output.is_floating_point():
                return
            y = output.detach()
            put(index, "act_mean", y.float().mean())
            if y.numel() > 1:
                put(index, "act_std", y.float().std())
            if index in self._active and y.dim() >= 2:
                dims = [0, *range(2, y.dim())]  # a unit: a feature of a vector, a channel of a volume
                fired = self._active[index]
                fired.append(y.amax(dim=dims) > 0)
                put(index, "dead", 1.0 - torch.stack(list(fired)).any(0).float().mean())
            elif isinstance(module, nn.Sigmoid):
                put(index, "saturated", ((y < SIGMOID_FLAT) | (y > 1 - SIGMOID_FLAT)).float().mean())
            elif isinstance(module, nn.Tanh):
                put(index, "saturated", (y.abs() > TANH_FLAT).float().mean())
            if output.requires_grad:
                samples = max(len(y), 1)
                # per-sample gradient norm (root mean square over the batch): widths do not skew it
                output.register_hook(lambda g: put(index, "grad_ratio", g.detach().float().pow(2).sum().div(samples).sqrt()))

        return hook

    def flush(self) -> list[tuple[int, list[LayerHealth]]]:
        """The steps collected since the last flush, as (global step, each layer's health), oldest first."""
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        numbers = torch.cat([values for _, _, values in pending]).cpu().tolist()  # the sync point
        out, at = [], 0
        for step, keys, values in pending:
            rows: list[list[float | None]] = [[None] * len(STATS) for _ in self.layers]
            for (layer, column), value in zip(keys, numbers[at:at + len(values)]):
                rows[layer][column] = value if math.isfinite(value) else None
            at += len(values)
            out.append((step, _relative_gradients([_layer_health(i, row) for i, row in enumerate(rows)])))
        return out


def _norm(tensors: Sequence[Tensor]) -> Tensor:
    """The L2 norm of several tensors taken together (on their device, no sync)."""
    return torch.stack([t.float().norm() for t in tensors]).norm()


def _layer_health(index: int, row: list[float | None]) -> LayerHealth:
    health: dict[str, Any] = {"layer": index, **dict(zip(STATS, row))}
    return health  # type: ignore[return-value]  # the keys are STATS, in LayerHealth's order


def _relative_gradients(layers: list[LayerHealth]) -> list[LayerHealth]:
    """`layers` with grad_ratio (until now the norm at each output) divided by the output layer's: the
    last layer a gradient reached (a staged schedule may run only part of the network). Relative, so
    mixed precision's loss scaling cancels out."""
    reference = next((h["grad_ratio"] for h in reversed(layers) if h["grad_ratio"]), None)
    if reference is None:
        return [{**h, "grad_ratio": None} for h in layers]
    return [{**h, "grad_ratio": None if h["grad_ratio"] is None else h["grad_ratio"] / reference} for h in layers]


class HealthRecorder:
    """The engine's side of health: a monitor on the network, the last WINDOW collected steps and the
    loss trend, turned into "health" events with their findings at each logging point."""

    def __init__(self, model: nn.Module, types: Sequence[str], every: int = HEALTH_EVERY, fresh: bool = True):
        self.monitor = HealthMonitor(model, every)
        self.types = list(types)
        self.window: collections.deque[list[LayerHealth]] = collections.deque(maxlen=WINDOW)
        self.trend = LossTrend(fresh=fresh)

    def watch(self, step: int) -> contextlib.AbstractContextManager[Any]:
        return self.monitor.watch(step)

    def events(self, batch: BatchEvent, lr: float) -> list[HealthEvent]:
        """After a batch event: the steps collected since the last one, each with the findings so far."""
        self.trend.add(batch["global_step"], batch["train_loss"])
        out: list[HealthEvent] = []
        for step, layers in self.monitor.flush():
            self.window.append(layers)
            out.append({"event": "health", "epoch": batch["epoch"], "global_step": step + 1, "layers": layers,
                        "findings": find(self.window, self.types, self.trend, lr)})
        return out
