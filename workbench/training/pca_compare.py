"""PCA against an autoencoder with the same code size k, on the same split and the same scale.

    result = compare_run(open_run("runs/linear-ae"))
    result.to_json()     # {"k": 8, "pca_val_mse": 0.0240, "ae_val_mse": 0.0251, ...}

PCA is fitted on the training split; both errors are the mean squared error per value of [0, 1]
images on the validation split, so the autoencoder's point sits on PCA's error-vs-k curve. A linear
autoencoder trained well spans PCA's subspace and lands on the curve; a non-linear one can go below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from workbench.core.inference import summarize
from workbench.data import Dataset
from workbench.training.compression import CodeInfo, code_info, encode, mse
from workbench.training.config import validate_training
from workbench.training.tasks import make_task

SHOWN = 8          # reconstructions side by side
SCATTER = 500      # validation codes in the latent scatters
CURVE_POINTS = 40


@dataclass
class PcaComparison:
    name: str
    k: int
    input_size: int
    code_layer: int
    pca_val_mse: float
    ae_val_mse: float
    ks: np.ndarray           # PCA's error-vs-k curve: code sizes …
    pca_curve: np.ndarray    # … and PCA's validation error at each
    inputs: np.ndarray       # (SHOWN, C, H, W) validation images
    pca_images: np.ndarray   # their PCA reconstructions with k components
    ae_images: np.ndarray    # their autoencoder reconstructions
    codes: np.ndarray        # (n, k) the autoencoder's codes of the first n validation images …
    code_inputs: np.ndarray  # … those images (n, C, H, W) …
    labels: np.ndarray       # … and their classes (n,)

    @property
    def ae_over_pca(self) -> float:
        return self.ae_val_mse / self.pca_val_mse if self.pca_val_mse > 0 else float("inf")

    def to_json(self) -> dict:
        return {"k": self.k, "pca_val_mse": self.pca_val_mse, "ae_val_mse": self.ae_val_mse,
                "ae_over_pca": self.ae_over_pca, "input_size": self.input_size, "code_layer": self.code_layer}


def curve_ks(k: int, limit: int) -> np.ndarray:
    """Code sizes for PCA's curve: every size up to 2k (where the autoencoder's point sits), then a
    geometric sweep up to `limit`, always including k."""
    dense = np.arange(1, min(2 * k, limit) + 1)
    sparse = np.geomspace(max(2 * k, 1), limit, CURVE_POINTS).round().astype(int) if limit > 2 * k else []
    return np.unique(np.concatenate([dense, sparse, [min(k, limit)]])).astype(int)


def pca_errors(train_x: torch.Tensor, val_x: torch.Tensor, ks: np.ndarray) -> tuple[np.ndarray, PCA]:
    """Validation MSE per value of PCA with each k of `ks` components (fitted once on the training
    split, with max(ks) components: the error with k is what the first k of them leave out)."""
    train = train_x.flatten(1).double().numpy()
    val = val_x.flatten(1).double().numpy()
    pca = PCA(n_components=int(max(ks)), svd_solver="full" if train.shape[1] <= 1024 else "randomized",
              random_state=0).fit(train)
    centred = val - pca.mean_
    captured = np.cumsum(((centred @ pca.components_.T) ** 2).sum(0))  # components are orthonormal
    total = (centred ** 2).sum()
    errors = (total - captured[np.asarray(ks) - 1]) / centred.size
    return np.maximum(errors, 0.0), pca


def image_output(project: dict, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """Maps the network's output to [0, 1] images: a sigmoid when it was trained on logits (BCE
    without a final Sigmoid), else unchanged."""
    config = validate_training(project.get("training", {}), task="autoencoder")
    task = make_task(config, model, project["input"], project["input"], 0)
    return torch.sigmoid if task.loss_kind == "bce_logits" else (lambda out: out)


@torch.no_grad()
def reconstruct(model: nn.Module, x: torch.Tensor, output: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    model.eval()
    return torch.cat([output(model(x[i:i + 1024])) for i in range(0, len(x), 1024)])


def compare(project: dict, model: nn.Module, data: Dataset, name: str = "") -> PcaComparison:
    """PCA with k = the autoencoder's code size, beside the trained autoencoder `model` of `project`."""
    info: CodeInfo = code_info(project)
    output_shape = summarize(project)["output"]
    if output_shape != list(project["input"]):
        raise ValueError(f"not an autoencoder: the network outputs {output_shape}, not its input's shape "
                         f"{project['input']}, so there is no reconstruction to compare with PCA")
    if list(project["input"]) != list(data.input_shape):
        raise ValueError(f"the dataset's images are {data.input_shape} but the network takes {project['input']}")
    limit = min(info.input_size, len(data.train_x))
    ks = curve_ks(info.code_size, limit)
    curve, pca = pca_errors(data.train_x, data.val_x, ks)
    output = image_output(project, model)
    ae_val = reconstruct(model, data.val_x, output)
    val = data.val_x.flatten(1).double().numpy()
    k = min(info.code_size, limit)
    pca_codes = (val - pca.mean_) @ pca.components_[:k].T
    pca_images = (pca_codes[:SHOWN] @ pca.components_[:k] + pca.mean_).reshape(-1, *data.input_shape)
    return PcaComparison(
        name=name or project.get("name", ""), k=info.code_size, input_size=info.input_size, code_layer=info.layer,
        pca_val_mse=float(curve[list(ks).index(k)]), ae_val_mse=mse(ae_val, data.val_x), ks=ks, pca_curve=curve,
        inputs=data.val_x[:SHOWN].numpy(), pca_images=np.clip(pca_images, 0, 1).astype(np.float32),
        ae_images=ae_val[:SHOWN].numpy(), codes=encode(model, data.val_x[:SCATTER], info.layer).numpy(),
        code_inputs=data.val_x[:SCATTER].numpy(), labels=data.val_y[:SCATTER].numpy())


def compare_run(run, which: str = "last") -> PcaComparison:
    """The comparison for a run folder (workbench.training.run_folder.Run) of an autoencoder."""
    project = run.project
    return compare(project, run.load_model(which), run.dataset(), name=project.get("name") or run.path.name)
