"""Denoising: how well an autoencoder cleans its input as the noise grows.

    rows = denoise_sweep(model, val_x, "gaussian", [0.0, 0.1, 0.2, 0.4])
    clean, noisy, denoised = denoise_examples(model, val_x[:8], "masking", 0.3)

The noise is the Corruption layer's (gaussian std, or the fraction of values masked / set to salt
and pepper), drawn from a fixed seed so a sweep is repeatable; the network runs in eval mode, so its
own Corruption layer (if any) is off. Errors: mean squared error per value against the clean image.
"""
from __future__ import annotations

from typing import Callable, TypedDict

import numpy as np
import torch
from torch import nn

from workbench.core.layers import Corruption
from workbench.training.compression import mse
from workbench.training.pca_compare import reconstruct

NOISE_SEED = 0
DEFAULT_LEVELS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)


def corrupt(x: torch.Tensor, kind: str, level: float, seed: int = NOISE_SEED) -> torch.Tensor:
    """x with `kind` noise at `level`, the same draw for the same seed (the global stream untouched)."""
    noise = Corruption(kind, level).train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return noise(x)


def denoise_examples(model: nn.Module, x: torch.Tensor, kind: str, level: float,
                     output: Callable[[torch.Tensor], torch.Tensor] = lambda out: out
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clean, noisy, denoised) images as numpy arrays (n, C, H, W)."""
    noisy = corrupt(x, kind, level)
    return x.numpy(), noisy.numpy(), reconstruct(model, noisy, output).numpy()


class SweepRow(TypedDict):
    kind: str
    level: float
    noisy_mse: float     # the corrupted input against the clean one: doing nothing
    denoised_mse: float  # the network's output against the clean input


def denoise_sweep(model: nn.Module, x: torch.Tensor, kind: str, levels: tuple[float, ...] = DEFAULT_LEVELS,
                  output: Callable[[torch.Tensor], torch.Tensor] = lambda out: out) -> list[SweepRow]:
    """One row per noise level."""
    rows: list[SweepRow] = []
    for level in levels:
        noisy = corrupt(x, kind, level)
        rows.append({"kind": kind, "level": float(level), "noisy_mse": mse(noisy, x),
                     "denoised_mse": mse(reconstruct(model, noisy, output), x)})
    return rows
