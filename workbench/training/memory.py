"""Will a run fit in memory? Asked before the weights are allocated, from the summary's numbers.

A network too large for the machine was killed by the kernel with no word (650M parameters, or ~8 GB
of activations a batch), or failed with torch's "can't allocate memory: 6183480000000 bytes". The
summary already knows the parameters and the activation bytes per sample, so the need is estimated
and compared with the free memory of the device that trains:

    weights, gradients and optimizer state   4 bytes x parameters x (2 + optimizer's moments)
    activations kept for the backward pass   the summary's bytes per sample x batch size

This is a lower bound (torch needs some more), so a run is refused only when even that does not fit;
the batch size suggested leaves room for twice the activations.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from workbench.core.summary import Summary
from workbench.training.config import ConfigError, TrainingConfig

BYTES_PER_VALUE = 4  # float32 weights, gradients and moments


class MemoryShortage(ConfigError):
    """The run needs more memory than the device has free; the message says what, by how much, and
    a batch size that fits (when one does)."""


@dataclass(frozen=True)
class MemoryNeed:
    parameters: int
    states_per_parameter: int  # weights, gradients and the optimizer's moments
    per_sample: int            # activation bytes a sample keeps for the backward pass

    @property
    def fixed(self) -> int:
        return self.parameters * BYTES_PER_VALUE * self.states_per_parameter

    def total(self, batch_size: int) -> int:
        return self.fixed + self.per_sample * batch_size


def memory_need(summary: Summary, config: TrainingConfig) -> MemoryNeed:
    moments = {"sgd": 1 if config.momentum > 0 else 0, "adam": 2, "adamw": 2}[config.optimizer]
    per_sample = summary["total_memory"] + BYTES_PER_VALUE * _numel(summary["input"])
    return MemoryNeed(summary["total_params"], 2 + moments, per_sample)


def free_memory(device: torch.device) -> tuple[int, str] | None:
    """(bytes free, what it is called) for the device, or None where it cannot be told."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free), "GPU memory"
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:  # Linux: what can be had without swapping
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "memory"
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "memory"
    except (ValueError, OSError, AttributeError):
        return None


def fitting_batch_size(need: MemoryNeed, free: int, largest: int) -> int | None:
    """The largest power of two (at most `largest`) whose batch fits with room for twice its
    activations; None when not even one sample does."""
    room = free - need.fixed
    if room < 2 * need.per_sample:
        return None
    batch = 1
    while batch * 2 <= largest and 2 * need.per_sample * batch * 2 <= room:
        batch *= 2
    return batch


def check_memory(summary: Summary, config: TrainingConfig, device: torch.device, processes: int = 1) -> None:
    """MemoryShortage when the run cannot fit in the device's free memory (see the module docstring).
    Under torchrun each of `processes` holds the network and its share of the (global) batch."""
    known = free_memory(device)
    if known is None:
        return
    free, what = known
    need = memory_need(summary, config)
    share = -(-config.batch_size // processes)
    total = need.total(share)
    if total <= free:
        return
    weights = (f"its {need.parameters:,} parameters take {_size(need.parameters * BYTES_PER_VALUE)}, "
               f"{_size(need.fixed)} to train with {config.optimizer}")
    batch_text = f"a batch of {config.batch_size:,}" + (f" ({share:,} in each process)" if processes > 1 else "")
    activations = f"{batch_text} keeps {_size(need.per_sample * share)} of activations ({_size(need.per_sample)} a sample)"
    short = f"{_size(total)} in all, {_size(total - free)} more than the {_size(free)} of {what} free"
    batch = fitting_batch_size(need, free, share)
    if batch is not None:
        advice = f"A batch size of {batch * processes} fits (training.batch_size)"
    elif need.fixed > free:
        advice = f"The weights alone do not fit: make the network smaller{_largest(summary)}"
    else:
        advice = f"Not even one sample fits: make the network or its input smaller{_largest(summary)}"
    raise MemoryShortage(f"the network does not fit in {what}: {weights}, and {activations}: {short}. {advice}")


def _largest(summary: Summary) -> str:
    """What takes the most: a layer's parameters, a layer's output, or the input itself."""
    rows = [r for r in summary["layers"] if r["params"] is not None]
    candidates = [(BYTES_PER_VALUE * _numel(summary["input"]),
                   f" (the input, {'×'.join(map(str, summary['input']))}, is "
                   f"{_size(BYTES_PER_VALUE * _numel(summary['input']))} a sample)")]
    for r in rows:
        candidates.append(((r["params"] or 0) * BYTES_PER_VALUE,
                           f" (layer {r['index']}, {r['label']}, holds {r['params']:,} parameters)"))
        candidates.append((r["memory"] or 0, f" (layer {r['index']}, {r['label']}, outputs {_size(r['memory'] or 0)} "
                                             f"a sample)"))
    return max(candidates, key=lambda c: c[0])[1]


def _numel(shape: list[int]) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


def _size(count: int) -> str:
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count} bytes"
