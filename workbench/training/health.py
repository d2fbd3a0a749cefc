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
first steps), then every `every` steps (4 × `every` after SLOWER_AFTER), and at least every MAX_GAP_S
seconds; the hooks are attached for that step only; a collected
step's numbers stay on the device (one stacked tensor) until `flush`, the one CPU-GPU sync, which
the engine calls at its logging points. The cost is measured by benchmarks/health_cost.py.

Layer i is the model's child i (a Sequential's or a GraphNet's: the project's layer i). Hooks sit on
those modules, so a staged schedule whose model calls the network's layers is watched as well.
"""
from __future__ import annotations

import collections
import contextlib
import math
import time
from typing import Any, Iterator, Sequence

import torch
from torch import Tensor, nn

from workbench.training.events import BatchEvent, HealthEvent, LayerHealth
from workbench.training.findings import WINDOW, LossTrend, find

HEALTH_EVERY = 50  # steps between collections after the first ones (1, 2, 4, ... up to it) ...
SLOWER_AFTER = 1000  # ... and four times as many after this many steps (health.jsonl stays small) ...
MAX_GAP_S = 2.0      # ... but a slow network's cards hear at least this often (its steps are long: the cost is small)
DIGITS = 4  # significant digits kept of each number
DEAD_WINDOW = 5    # a ReLU unit is dead when it fired in none of the last this many collected batches
SIGMOID_FLAT = 0.01  # sigmoid outputs within this of 0 or 1: its slope is under 4 % of its peak
TANH_FLAT = 0.99     # |tanh| above this: its slope is under 2 % of its peak

# What a collected step records, per layer, on the device; `flush` turns them into LayerHealth on the
# CPU: act_std from the first two moments, grad_ratio as the gradient norm at the layer's output over
# the output layer's (so the batch size and mixed precision's loss scale cancel), update_ratio as
# the update's norm over the weights'.
RAW = ("act_mean", "act_square", "dead", "saturated", "grad", "weight_grad", "weight_norm", "update_norm")
_COLUMN = {name: i for i, name in enumerate(RAW)}


def collects(step: int, every: int) -> bool:
    """Whether statistics are collected on this (0-based, run-wide) step."""
    if every <= 0:
        return False
    if step >= SLOWER_AFTER:
        return step % (4 * every) == 0
    return step % every == 0 or (step < every and step & (step - 1) == 0)


class HealthMonitor:
    """Health statistics of `model`'s layers on some steps (see the module docstring); every=0: never."""

    def __init__(self, model: nn.Module, every: int = HEALTH_EVERY):
        self.layers = list(model.children())
        self.every = every
        self._pending: list[tuple[int, list[tuple[int, int]], Tensor]] = []
        self._active: dict[int, collections.deque[Tensor]] = {
            i: collections.deque(maxlen=DEAD_WINDOW) for i, m in enumerate(self.layers) if isinstance(m, nn.ReLU)}
        self._indices: dict[tuple[torch.device, tuple[int, ...]], Tensor] = {}
        self.collecting = False  # within a collected step (the engine then runs the network uncompiled)
        self._last = time.perf_counter()  # when the last step was collected

    def watch(self, step: int) -> contextlib.AbstractContextManager[Any]:
        """Around one optimizer step (forward, backward, update): collects if the step is due."""
        if self.every <= 0:
            return contextlib.nullcontext()
        now = time.perf_counter()
        if not collects(step, self.every) and now - self._last < MAX_GAP_S:
            return contextlib.nullcontext()
        self._last = now
        return self._collect(step)

    @contextlib.contextmanager
    def _collect(self, step: int) -> Iterator[None]:
        values: list[Tensor] = []        # device tensors (0-d, or one value per layer) ...
        keys: list[tuple[int, int]] = []  # ... and the (layer, column) each of their values goes to

        def put(layer: int, column: str, value: Tensor) -> None:
            keys.append((layer, _COLUMN[column]))
            values.append(value.detach().float().reshape(1))

        # the parameters that train, and the layer each belongs to
        params = [(i, p) for i, m in enumerate(self.layers) for p in m.parameters() if p.requires_grad]
        with torch.no_grad():
            before = [p.detach().clone() for _, p in params]
        handles = [m.register_forward_hook(self._forward_hook(i, put)) for i, m in enumerate(self.layers)]
        self.collecting = True
        try:
            yield
        finally:
            self.collecting = False
            for handle in handles:
                handle.remove()
        if params:
            with torch.no_grad():
                now = [p.detach() for _, p in params]
                owners = [i for i, _ in params]
                with_grad = [(i, p.grad) for i, p in params if p.grad is not None]
                blocks = [("weight_norm", owners, before), ("update_norm", owners, torch._foreach_sub(now, before)),
                          ("weight_grad", [i for i, _ in with_grad], [g for _, g in with_grad])]
                for column, layers, tensors in blocks:
                    if tensors:
                        shown, norms = self._layer_norms(layers, tensors)
                        keys.extend((i, _COLUMN[column]) for i in shown)
                        values.append(norms)
        if values:
            self._pending.append((step, keys, torch.cat(values)))

    def _index(self, device: torch.device, indices: tuple[int, ...]) -> Tensor:
        """A constant index tensor on the device, made once (a copy to the GPU waits for it)."""
        key = (device, indices)
        if key not in self._indices:
            self._indices[key] = torch.tensor(indices, dtype=torch.long, device=device)
        return self._indices[key]

    def _layer_norms(self, owners: list[int], tensors: list[Tensor]) -> tuple[list[int], Tensor]:
        """(the layers, the L2 norm of each one's tensors together), in a few kernels for all layers."""
        # torch._foreach_norm: one call for every tensor, as torch.nn.utils.clip_grad_norm_ does
        squares = torch.stack(torch._foreach_norm(tensors)).float().square()
        device = squares.device
        per_layer = torch.zeros(len(self.layers), device=device).index_add_(0, self._index(device, tuple(owners)),
                                                                            squares)
        shown = sorted(set(owners))
        return shown, per_layer.index_select(0, self._index(device, tuple(shown))).sqrt()

    def _forward_hook(self, index: int, put: Any) -> Any:
        module = self.layers[index]

        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            if not isinstance(output, Tensor) or not output.is_floating_point():
                return
            y = output.detach()
            put(index, "act_mean", y.mean())
            put(index, "act_square", torch.linalg.vector_norm(y, dtype=torch.float32).square() / y.numel())
            if index in self._active and y.dim() >= 2:
                dims = [0, *range(2, y.dim())]  # a unit: a feature of a vector, a channel of a volume
                fired = self._active[index]
                fired.append(y.amax(dim=dims) > 0)
                put(index, "dead", 1.0 - torch.stack(list(fired)).any(0).float().mean())
            elif isinstance(module, nn.Sigmoid):
                put(index, "saturated", ((y - 0.5).abs() > 0.5 - SIGMOID_FLAT).float().mean())
            elif isinstance(module, nn.Tanh):
                put(index, "saturated", (y.abs() > TANH_FLAT).float().mean())
            if output.requires_grad:
                output.register_hook(lambda g: put(index, "grad", torch.linalg.vector_norm(g.detach(), dtype=torch.float32)))

        return hook

    def flush(self) -> list[tuple[int, list[LayerHealth]]]:
        """The steps collected since the last flush, as (global step, each layer's health), oldest first."""
        if not self._pending:
            return []
        pending, self._pending = self._pending, []
        numbers = torch.cat([values for _, _, values in pending]).cpu().tolist()  # the sync point
        out, at = [], 0
        for step, keys, values in pending:
            rows: list[list[float | None]] = [[None] * len(RAW) for _ in self.layers]
            for (layer, column), value in zip(keys, numbers[at:at + len(values)]):
                rows[layer][column] = value if math.isfinite(value) else None
            at += len(values)
            out.append((step, _health(rows)))
        return out


def _short(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.{DIGITS}g}")


def _health(rows: list[list[float | None]]) -> list[LayerHealth]:
    """Each layer's raw numbers (RAW) as LayerHealth, to DIGITS significant digits."""
    raw = [dict(zip(RAW, row)) for row in rows]
    reference = next((r["grad"] for r in reversed(raw) if r["grad"]), None)  # the output layer's gradient
    out: list[LayerHealth] = []
    for i, r in enumerate(raw):
        mean, square, grad, weights, update = r["act_mean"], r["act_square"], r["grad"], r["weight_norm"], r["update_norm"]
        std = math.sqrt(max(square - mean * mean, 0.0)) if mean is not None and square is not None else None
        out.append({"layer": i, "act_mean": _short(mean), "act_std": _short(std), "dead": _short(r["dead"]),
                    "saturated": _short(r["saturated"]),
                    "grad_ratio": _short(grad / reference) if grad is not None and reference else None,
                    "weight_grad": _short(r["weight_grad"]),
                    "update_ratio": _short(update / weights) if update is not None and weights else None})
    return out


class HealthRecorder:
    """The engine's side of health: a monitor on the network, the last WINDOW collected steps and the
    loss trend, turned into "health" events with their findings at each logging point."""

    def __init__(self, model: nn.Module, types: Sequence[str], every: int = HEALTH_EVERY, fresh: bool = True):
        self.monitor = HealthMonitor(model, every)
        self.types = list(types)
        self.window: collections.deque[tuple[int, list[LayerHealth]]] = collections.deque(maxlen=WINDOW)
        self.trend = LossTrend(fresh=fresh)
        self.stage: str | None = None
        self._started = False  # whether a batch event was seen (the first one tells the stage it began in)

    def watch(self, step: int) -> contextlib.AbstractContextManager[Any]:
        return self.monitor.watch(step)

    @property
    def collecting(self) -> bool:
        return self.monitor.collecting

    def events(self, batch: BatchEvent, lr: float) -> list[HealthEvent]:
        """After a batch event: the steps collected since the last one, each with the findings so far."""
        stage = batch.get("stage")
        if self._started and stage != self.stage:  # a new stage's loss is not the last one's: a new trend
            self.trend = LossTrend(fresh=True)
        self.stage, self._started = stage, True
        self.trend.add(batch["global_step"], batch["train_loss"])
        out: list[HealthEvent] = []
        for step, layers in self.monitor.flush():
            self.window.append((step, layers))
            findings = find([layers for _, layers in self.window], self.types, self.trend, lr, self.window[0][0])
            out.append({"event": "health", "epoch": batch["epoch"], "global_step": step + 1, "layers": layers,
                        "findings": findings})
        return out
