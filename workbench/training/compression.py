"""Compression by an autoencoder: where its code is, how small it is, and what it costs to store.

    info = code_info(project)                     # input size, code size k, code layer
    rows = compression_table(model, info, train_x, val_x)

A row per storage precision (float32, then 8/4/2 bits per code unit): the code's size in bytes,
the compression ratio against the input stored at 8 bits per value, and the validation
reconstruction error after really quantizing the code (each unit's range taken from the training
codes) and decoding it. Images are [0, 1] values; errors are mean squared error per value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, TypedDict

import torch
from torch import nn

from workbench.core.build import GraphNet
from workbench.core.inference import summarize
from workbench.core.summary import output_shapes
from workbench.training.probes import bottleneck

QUANTIZED_BITS = (8, 4, 2)
EVAL_BATCH = 1024


@dataclass(frozen=True)
class CodeInfo:
    input_size: int   # values per input sample
    code_size: int    # k: values per sample at the code layer
    layer: int        # index of the code layer (the bottleneck)

    @property
    def ratio(self) -> float:
        return self.input_size / self.code_size


def code_info(project: dict) -> CodeInfo:
    """The bottleneck of an autoencoder project (the probes' rule: the narrowest layer but the last);
    ValueError when the network has no code (an error in it, or a single layer)."""
    summary = summarize(project)
    rows = summary["layers"]
    if summary["first_error"] is not None or not rows:
        raise ValueError("the network has an error (see `workbench summary`): it has no code layer to compare")
    sizes = [math.prod(shape) for shape in output_shapes(summary)]
    layer = bottleneck(sizes)
    if layer is None:
        raise ValueError("the network has a single layer: an autoencoder needs an encoder and a decoder")
    return CodeInfo(math.prod(summary["input"]), sizes[layer], layer)


def encoder(model: nn.Module, layer: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The network up to and with `layer` (a chain's first layers, or a graph run up to it)."""
    if isinstance(model, GraphNet):
        return lambda x: model.forward_to(x, layer)
    return model[:layer + 1]


def decoder(model: nn.Module, layer: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The network after `layer`, fed `layer`'s output. ValueError for a graph whose later layers
    also read earlier ones (a U-Net's skip connections): its code alone does not decode."""
    if isinstance(model, GraphNet):
        model.check_decodable(layer)
        return lambda code: model.forward_from(code, layer)
    return model[layer + 1:]


@torch.no_grad()
def encode(model: nn.Module, x: torch.Tensor, layer: int) -> torch.Tensor:
    """Codes (n, k) at `layer`, in batches, with the model in eval mode."""
    model.eval()
    run = encoder(model, layer)
    return torch.cat([run(x[i:i + EVAL_BATCH]).flatten(1) for i in range(0, len(x), EVAL_BATCH)])


@torch.no_grad()
def decode(model: nn.Module, codes: torch.Tensor, layer: int, code_shape: torch.Size) -> torch.Tensor:
    model.eval()
    run = decoder(model, layer)
    return torch.cat([run(codes[i:i + EVAL_BATCH].reshape(-1, *code_shape))
                      for i in range(0, len(codes), EVAL_BATCH)])


def quantize(codes: torch.Tensor, low: torch.Tensor, high: torch.Tensor, bits: int) -> torch.Tensor:
    """Round each unit to one of 2^bits levels spread over [low, high] (values outside are clipped),
    and return the values those levels stand for: what a decoder receives from a stored code."""
    levels = 2 ** bits - 1
    span = (high - low).clamp_min(1e-12)
    steps = ((codes - low) / span * levels).round().clamp(0, levels)
    return low + steps / levels * span


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean squared error per value (the scale of the [0, 1] images)."""
    return float(((a.float() - b.float()) ** 2).mean())


class CompressionRow(TypedDict):
    bits: int            # per code value (32: float32, not quantized)
    code_size: int       # values per code
    code_bytes: float
    input_bytes: int     # the input at 8 bits per value
    byte_ratio: float    # input_bytes / code_bytes
    val_mse: float       # validation reconstruction error from the quantized code


def compression_table(model: nn.Module, info: CodeInfo, train_x: torch.Tensor, val_x: torch.Tensor,
                      bits: tuple[int, ...] = QUANTIZED_BITS,
                      output: Callable[[torch.Tensor], torch.Tensor] | None = None) -> list[CompressionRow]:
    """One row per precision. `output` maps the network's output to [0, 1] images (see pca_compare.image_output)."""
    with torch.no_grad():
        model.eval()
        code_shape = encoder(model, info.layer)(val_x[:1]).shape[1:]
    train_codes = encode(model, train_x, info.layer)
    val_codes = encode(model, val_x, info.layer)
    low, high = train_codes.min(0).values, train_codes.max(0).values
    input_bytes = info.input_size  # the input at 8 bits per value, as images are stored
    rows: list[CompressionRow] = []
    for b in (32, *bits):
        codes = val_codes if b == 32 else quantize(val_codes, low, high, b)
        recon = decode(model, codes, info.layer, code_shape)
        recon = output(recon) if output is not None else recon
        code_bytes = info.code_size * b / 8
        rows.append({"bits": b, "code_size": info.code_size, "code_bytes": code_bytes, "input_bytes": input_bytes,
                     "byte_ratio": input_bytes / code_bytes, "val_mse": mse(recon, val_x)})
    return rows
