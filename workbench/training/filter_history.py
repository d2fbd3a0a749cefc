"""Filters forming: a small snapshot of the first layer's filters at each epoch's end (and before the
first step), kept in the run folder so a run's epochs can be scrubbed through afterwards.

    RUN_DIR/filters/epoch-0000-layer-0.npy   layer 0's weights before training, float16
    RUN_DIR/filters/epoch-0001-layer-0.npy   ... after epoch 1, and so on

The first layer is the first Conv2d (its kernels, (K, C, F, F)), or else the first Linear that reads
the flattened input image (each unit's weights as an image, (K, C, H, W)). At most MAX_FILTERS of them
are kept: AlexNet's 96 11×11×3 kernels take 70 kB an epoch.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch import nn

from workbench.core.project import write_atomic

FOLDER = "filters"
MAX_FILTERS = 96
_NAME = re.compile(r"^epoch-(\d{4,})-layer-(\d+)\.npy$")


def first_layer(model: nn.Module, input_shape: list[int]) -> tuple[int, nn.Module] | None:
    """(index, module) of the layer whose filters are kept, or None when there is none."""
    children = list(model.children())
    for i, child in enumerate(children):
        if isinstance(child, nn.Conv2d):
            return i, child
    if len(input_shape) == 3:
        for i, child in enumerate(children):
            if isinstance(child, nn.Linear):
                reads_image = all(isinstance(c, (nn.Flatten, nn.Dropout)) for c in children[:i])
                return (i, child) if reads_image and child.in_features == np.prod(input_shape) else None
    return None


def filters_of(model: nn.Module, input_shape: list[int]) -> tuple[int, np.ndarray] | None:
    """(layer index, (K, C, F, F) float16 filters) of the first layer, at most MAX_FILTERS of them."""
    found = first_layer(model, input_shape)
    if found is None:
        return None
    index, module = found
    weight = module.weight.detach()[:MAX_FILTERS].to("cpu").float().numpy()
    if isinstance(module, nn.Linear):
        weight = weight.reshape(len(weight), *input_shape)
    return index, weight.astype(np.float16)


def save_snapshot(run_dir: str | os.PathLike, epoch: int, model: nn.Module, input_shape: list[int]) -> None:
    """The first layer's filters after `epoch` epochs (0: before training), if the network has one."""
    found = filters_of(model, input_shape)
    if found is None:
        return
    folder = Path(run_dir) / FOLDER
    folder.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, found[1], allow_pickle=False)
    write_atomic(folder / f"epoch-{epoch:04d}-layer-{found[0]}.npy", buffer.getvalue())


@dataclass
class FilterHistory:
    layer: int | None              # the layer the filters belong to (None: no snapshots)
    epochs: list[int]              # in order; 0 is before training
    filters: list[np.ndarray]      # one (K, C, F, F) float32 array per epoch


def read_history(run_dir: str | os.PathLike) -> FilterHistory:
    """The snapshots a run folder holds (none: empty lists), of the layer the latest one is of;
    files that are not a snapshot, or do not load, are skipped."""
    folder = Path(run_dir) / FOLDER
    found: list[tuple[int, int, np.ndarray]] = []
    for path in folder.glob("epoch-*.npy") if folder.is_dir() else []:
        match = _NAME.match(path.name)
        if not match:
            continue
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            continue
        if array.ndim == 4 and array.dtype.kind == "f":
            found.append((int(match.group(1)), int(match.group(2)), array.astype(np.float32)))
    if not found:
        return FilterHistory(None, [], [])
    found.sort(key=lambda item: item[0])
    layer = found[-1][1]
    kept = [(epoch, array) for epoch, at, array in found if at == layer]
    return FilterHistory(layer, [e for e, _ in kept], [a for _, a in kept])
