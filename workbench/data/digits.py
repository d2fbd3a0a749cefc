"""`digits`: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes), offline.

The file is read straight from scikit-learn's package folder: importing scikit-learn to call its
`load_digits` takes about a second, the file 20 ms, and that second is spent by every first run of
the default project. Should the file not be where scikit-learn keeps it, `load_digits` reads it.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

CLASSES = [str(i) for i in range(10)]
COUNT = 1797


def _rows() -> np.ndarray:
    """(1797, 65): 64 pixel counts 0..16 and the label, as scikit-learn's digits.csv.gz holds them."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(folders[0], "datasets", "data", "digits.csv.gz") if folders else None
    if path is not None and path.is_file():
        return np.loadtxt(path, delimiter=",")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.column_stack([bunch.data, bunch.target])


def load() -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float32 N×1×8×8 in [0, 1] (the pixels count 0..16) and int64 labels."""
    import torch

    rows = _rows()
    x = torch.from_numpy(rows[:, :-1].reshape(-1, 1, 8, 8)).float().div_(16.0)
    return x, torch.from_numpy(rows[:, -1].astype(np.int64))
