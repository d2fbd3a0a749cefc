"""Two-dimensional pictures of many values per sample: a scatter of latent codes or of raw inputs.

Numpy only (no torch, no Qt): the window draws them, and the training process makes the probe
batch's once per run, so the window does not (workbench.training.probes.LiveProbe)."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np


def project_2d(values: np.ndarray) -> tuple[np.ndarray, str, str]:
    """(n, 2) points for a scatter, how they were made and the same in short (a narrow title): the
    units themselves up to 2-D, else the first two principal components."""
    n, d = values.shape
    if d == 2:
        return values.astype(np.float32), "the 2 units", "the 2 units"
    if d == 1:
        return np.column_stack([values[:, 0], np.zeros(n)]).astype(np.float32), "the 1 unit", "the 1 unit"
    if n < 2:
        return np.zeros((n, 2), np.float32), "PCA (too few points)", "PCA (too few points)"
    points, share = principal_components(values, 2)
    return (points.astype(np.float32), f"PCA of {d} units ({share:.0%} of the variance)",
            f"PCA, {share:.0%} of variance")


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController  # sklearn's dependency; scans the loaded libraries once

    return ThreadpoolController()


def _one_blas_thread() -> Any:
    """These matrices are small: BLAS's threads only wait for a core that training is using (on 2
    cores beside the training process a 64×64 eigh took 40-170 ms with 2 threads, 0.5 ms with 1)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def principal_components(values: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """The (n, k) projections on the first k principal components and their share of the variance.
    From the eigenvectors of the smaller of the covariance and Gram matrices: a full SVD (sklearn's
    PCA) took 40-300 ms per refresh with multithreaded BLAS beside the training process, this ~1 ms.
    Signs fixed (each component's largest projection is positive), so refreshes do not flip."""
    # float32 inputs stay float32 (half the time of float64 for a 256×3,072 batch; two components
    # on a scatter need no more)
    centred = values.astype(np.result_type(values.dtype, np.float32)) - values.mean(0)
    with _one_blas_thread():
        if centred.shape[1] <= centred.shape[0]:
            eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)
            points = centred @ vectors[:, ::-1][:, :k]
        else:
            eigenvalues, vectors = np.linalg.eigh(centred @ centred.T)
            points = vectors[:, ::-1][:, :k] * np.sqrt(eigenvalues[::-1][:k].clip(0))
    total = float(np.square(centred).sum())
    share = float(eigenvalues[::-1][:k].clip(0).sum()) / total if total > 0 else 0.0
    signs = np.sign(points[np.abs(points).argmax(0), np.arange(points.shape[1])])
    return points * np.where(signs == 0, 1.0, signs), share


def project_inputs(inputs: np.ndarray) -> tuple[np.ndarray, str, str]:
    """A batch of inputs (n, ...) as (n, 2) points beside the codes' scatter: how they were made and
    the same in short (a narrow title)."""
    flat = inputs.reshape(len(inputs), -1)
    if flat.shape[1] <= 2:
        return project_2d(flat)[0], "the raw values", "the raw values"
    points, how, short = project_2d(flat)
    return points, how.replace(" units", " input values"), short
