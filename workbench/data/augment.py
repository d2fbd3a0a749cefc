"""Augmentation of whole batches of images on the training device (no per-sample Python)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from workbench.data.dataset import DataError

MAX_SHIFT = 0.125  # of the image size: 4 px on 32×32, 1 px on 8×8


def check_augment(kinds: list[str], input_shape: list[int]) -> None:
    """Refuse augmentation for a vector input: flipping or shifting a flattened image would be
    silently skipped (or scramble it), which is not what data.augment promises."""
    if kinds and len(input_shape) != 3:
        raise DataError(f"data.augment ({', '.join(kinds)}) needs image inputs (C×H×W) but the project's input is "
                        f"{list(input_shape)}: remove data.augment, or make the input an image and add a Flatten layer")


def augment_batch(x: torch.Tensor, kinds: list[str]) -> torch.Tensor:
    """x: (B, C, H, W) (see check_augment). "flip" mirrors half the images left-right; "shift"
    translates each image by up to MAX_SHIFT of its size (zero fill)."""
    if not kinds:
        return x
    if "flip" in kinds:
        flip = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < 0.5
        x = torch.where(flip, x.flip(-1), x)
    if "shift" in kinds:
        theta = torch.zeros(x.shape[0], 2, 3, device=x.device, dtype=x.dtype)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        # affine_grid works in [-1, 1] coordinates, so a shift of s image-widths is 2s there.
        theta[:, :, 2] = (torch.rand(x.shape[0], 2, device=x.device, dtype=x.dtype) * 2 - 1) * 2 * MAX_SHIFT
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return x
