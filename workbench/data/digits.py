"""`digits`: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes), offline."""
from __future__ import annotations

import torch

CLASSES = [str(i) for i in range(10)]
COUNT = 1797


def load() -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float32 N×1×8×8 in [0, 1] (the pixels count 0..16) and int64 labels."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = torch.from_numpy(bunch.images).float().div_(16.0).unsqueeze(1)
    return x, torch.from_numpy(bunch.target).long()
