"""The in-memory dataset every task trains on, its deterministic split, and shape fitting.

Small datasets live as whole tensors (float32 images N×C×H×W in [0, 1], int64 labels), so the
engine indexes batches straight out of them on the training device: no per-sample DataLoader.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from workbench.core.catalogue import fmt_shape

if TYPE_CHECKING:  # torch is imported where tensors are made: the window validates data sections without it
    import torch


class DataError(ValueError):
    """A dataset cannot be loaded or does not fit the project; the message says what to do."""


class InputMismatch(DataError):
    """The dataset's images don't fit the project's input. The fixes the message names, which the
    window offers as one click each: `suggested_input`, the input that fits the images, and
    `suggested_resize`, the `data.resize` that fits the images to the input (None when resizing
    can't: another number of channels)."""

    def __init__(self, message: str, suggested_input: list[int], suggested_resize: int | list[int] | None = None):
        super().__init__(message)
        self.suggested_input = suggested_input
        self.suggested_resize = suggested_resize


@dataclass(frozen=True)
class Dataset:
    name: str
    classes: list[str]
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor

    @property
    def input_shape(self) -> list[int]:
        return list(self.train_x.shape[1:])

    def to(self, device: torch.device | str) -> "Dataset":
        return replace(self, train_x=self.train_x.to(device), train_y=self.train_y.to(device),
                       val_x=self.val_x.to(device), val_y=self.val_y.to(device))


def split(name: str, classes: list[str], x: torch.Tensor, y: torch.Tensor,
          val_fraction: float, split_seed: int) -> Dataset:
    """A seeded permutation: the first `val_fraction` of it validates, the rest trains. Both parts
    must hold a sample (an empty validation set would report a loss of 0)."""
    import torch

    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(split_seed))
    n_val = int(round(len(x) * val_fraction))
    if n_val < 1 or n_val >= len(x):
        raise DataError(f"{name}: {len(x)} samples with data.val_fraction = {val_fraction:g} give {n_val} validation "
                        f"and {len(x) - n_val} training samples; both need at least one: use more samples "
                        f"(data.count) or a val_fraction of at least {1 / max(len(x), 1):.2g}")
    val, train = order[:n_val], order[n_val:]
    return Dataset(name, classes, x[train], y[train], x[val], y[val])


def resize_images(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Whole-tensor resize (antialiased when shrinking), kept in [0, 1]."""
    import torch.nn.functional as F

    if tuple(x.shape[-2:]) == tuple(size):
        return x
    out = F.interpolate(x, size=size, mode="bilinear", align_corners=False,
                        antialias=size[0] < x.shape[-2] or size[1] < x.shape[-1])
    return out.clamp_(0.0, 1.0)


def fit_to_input(data: Dataset, input_shape: list[int]) -> Dataset:
    """Match the project's input: flatten for vector inputs [N], else the shapes must agree.

    A mismatch raises DataError naming both shapes and the two ways to fix it.
    """
    have = data.input_shape
    if list(input_shape) == have:
        return data
    numel = have[0] * have[1] * have[2]
    if len(input_shape) == 1 and input_shape[0] == numel:
        return replace(data, train_x=data.train_x.flatten(1), val_x=data.val_x.flatten(1))
    want = fmt_shape(tuple(input_shape))
    got = fmt_shape(tuple(have))
    fixes = [f"set the input to {have} ({got})"]
    resize = None
    if len(input_shape) == 3 and input_shape[0] == have[0]:
        resize = input_shape[1] if input_shape[1] == input_shape[2] else list(input_shape[1:])
        fixes.append(f"resize {data.name} to {input_shape[1]}×{input_shape[2]} with data.resize = {resize}")
    elif len(input_shape) == 3:
        fixes.append(f"use a dataset with {input_shape[0]} channel{'s' if input_shape[0] > 1 else ''}")
    elif len(input_shape) == 1:
        fixes.append(f"make the input [{numel}] (the images flattened)")
    raise InputMismatch(f"{data.name} images are {got} but the project's input is {want}: "
                        + ", or ".join(fixes), list(have), resize)
