"""Where a project's data lives while it trains, from the builder's per-sample estimate: the whole
dataset on the GPU, or streamed to it batch by batch from pinned host memory (training.feed)
(and, under torchrun, each process its share of every batch); on the CPU it is in memory.

    placement = data_placement(project, "auto")
    placement.case     # "device" | "streamed" | "memory"
    placement.text     # "1,797 samples × 264 B = 463.3 KiB: kept on NVIDIA H200 (139.8 GiB)"

Qt-free and quick (no data is loaded, no CUDA context made), so the window can show it as the project
changes. The rule is the one training applies (a dataset stays on the GPU when it takes at most
FIT_SHARE of the memory, the rest being for the network, its activations and the optimizer); a run
measures the GPU's free memory, this estimate its total.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from workbench.core.inference import BYTES_PER_VALUE
from workbench.core.spec import ProjectSpec, load_spec
from workbench.data import sample_count, validate_data
from workbench.training.feed import FIT_SHARE  # the rule a run applies (feed.place), estimated here
LABEL_BYTES = 8  # an int64 class label per sample
Case = Literal["device", "streamed", "memory"]


@dataclass(frozen=True)
class DataPlacement:
    case: Case
    samples: int | None         # None: an image folder that is not there (yet)
    sample_bytes: int           # one input (float32, as the summary's Input row counts it) and its label
    device_bytes: int | None    # the GPU's memory; None when training on the CPU
    text: str

    @property
    def dataset_bytes(self) -> int | None:
        return None if self.samples is None else self.samples * self.sample_bytes


def data_placement(project: ProjectSpec, device: str = "auto", device_bytes: int | None = None,
                   device_label: str = "the GPU") -> DataPlacement:
    """`device`: the training section's choice ("auto" is the GPU when there is one); `device_bytes`:
    that GPU's memory (None: asked of torch when a CUDA GPU is there)."""
    doc = load_spec(project)
    samples = sample_count(validate_data(doc.get("data", {})))
    sample_bytes = BYTES_PER_VALUE * math.prod(doc["input"]) + LABEL_BYTES
    if device in ("auto", "cuda") and device_bytes is None:
        device_bytes, device_label = _cuda_memory(device_label)
    size = "an unknown number of samples" if samples is None else \
        f"{samples:,} samples × {_bytes(sample_bytes)} = {_bytes(samples * sample_bytes)}"
    if device_bytes is None or device in ("cpu", "mps"):
        case: Case = "memory"
        text = f"{size}: in memory, batches indexed there"
    elif samples is not None and samples * sample_bytes <= FIT_SHARE * device_bytes:
        case = "device"
        text = f"{size}: kept on {device_label} ({_bytes(device_bytes)})"
    else:
        case = "streamed"
        text = (f"{size}: more than {FIT_SHARE:.0%} of {device_label}'s {_bytes(device_bytes)}, so batches "
                f"stream from pinned host memory")
    return DataPlacement(case, samples, sample_bytes, device_bytes, text)


def _cuda_memory(label: str) -> tuple[int | None, str]:
    """The first CUDA GPU's memory and name, read from its properties (no context is created)."""
    import torch

    if not torch.cuda.is_available():
        return None, label
    properties = torch.cuda.get_device_properties(0)
    return int(properties.total_memory), properties.name


def _bytes(n: float) -> str:
    """1,023 B, 463.3 KiB, 188.2 MiB, 139.8 GiB: binary units, as the summary table's Memory column."""
    if n < 1024:
        return f"{n:,.0f} B"
    for unit in ("KiB", "MiB"):
        n /= 1024
        if n < 1024:
            return f"{n:,.1f} {unit}"
    return f"{n / 1024:,.1f} GiB"
