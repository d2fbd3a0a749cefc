"""What a run optimizes: classify (cross-entropy, accuracy, confusion), autoencoder (MSE or BCE
against the input) and denoise (corrupted input, clean target)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.build import layers_into_output
from workbench.core.catalogue import fmt_shape
from workbench.core.layers import Corruption
from workbench.training.config import ConfigError, TrainingConfig


@dataclass
class Task:
    name: str
    loss_kind: str             # "ce", "nll" (network ends in Softmax), "mse", "bce", "bce_logits"
    corruption: Corruption | None = None

    @property
    def classifies(self) -> bool:
        return self.name == "classify"

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """What the network sees: denoising corrupts a fresh noise draw each call."""
        return self.corruption(x) if self.corruption is not None else x

    def targets(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return y if self.classifies else x

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """In float32; the engine calls it outside autocast, which refuses binary_cross_entropy on
        CUDA (unsafe in float16) and would otherwise pick the loss's precision itself."""
        if self.loss_kind == "ce":
            return F.cross_entropy(out.float(), target)
        if self.loss_kind == "nll":  # the network already applies Softmax: take the log ourselves
            return F.nll_loss(torch.log(out.float().clamp_min(1e-12)), target)
        if self.loss_kind == "mse":
            return F.mse_loss(out.float(), target)
        if self.loss_kind == "bce":
            return F.binary_cross_entropy(out.float().clamp(0.0, 1.0), target.clamp(0.0, 1.0))
        return F.binary_cross_entropy_with_logits(out.float(), target.clamp(0.0, 1.0))

    def correct(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
        """Number right in the batch, as a device tensor (no sync); None unless classifying."""
        return (out.argmax(1) == target).sum() if self.classifies else None


def _last_activation(model: nn.Module) -> type | None:
    for layer in layers_into_output(model):
        if isinstance(layer, (nn.Softmax, nn.Sigmoid)):
            return type(layer)
        if not isinstance(layer, (nn.Unflatten, nn.Flatten, nn.Dropout)):
            return None
    return None


def make_task(config: TrainingConfig, model: nn.Module, input_shape: list[int], output_shape: list[int] | None,
              num_classes: int) -> Task:
    """The task for this network, or ConfigError when its output cannot serve it."""
    last = _last_activation(model)
    out = fmt_shape(tuple(output_shape)) if output_shape else "?"
    if config.task == "classify":
        if output_shape is None or len(output_shape) != 1:
            raise ConfigError(f"task classify needs the network to end in a vector of class scores, "
                              f"but it outputs {out}: end with Flatten and a Linear of {num_classes} outputs")
        if output_shape[0] < num_classes:
            raise ConfigError(f"task classify: the network gives {output_shape[0]} outputs but the dataset has "
                              f"{num_classes} classes: set the last Linear's out_features to {num_classes}")
        return Task("classify", "nll" if last is nn.Softmax else "ce")
    if output_shape != list(input_shape):
        raise ConfigError(f"task {config.task} needs the output to match the input ({fmt_shape(tuple(input_shape))}) "
                          f"but the network outputs {out}: end the decoder with the input's shape, "
                          f"or use task classify")
    loss = config.loss if config.loss == "mse" or last is nn.Sigmoid else "bce_logits"
    corruption = Corruption(*config.noise_kind_level) if config.task == "denoise" else None
    return Task(config.task, loss, corruption)
