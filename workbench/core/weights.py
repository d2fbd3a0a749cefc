"""Initial weights a project carries (an imported network's), stored by layer id.

A project's "weights" names a safetensors file whose tensors are called "<layer id>.<name>", the name
as the layer's torch module has it in its state dict ("conv1.weight", "bn1.running_mean"). By id,
not by position: when the network is edited, every layer keeps its weights (insert, delete or move
layers around it), and a layer whose parameters no longer fit (more filters, another kernel) starts
from fresh weights, which `apply_weights` says. A fresh training run and ONNX export start from them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from workbench.core.project import WEIGHTS, ProjectError, write_atomic

# BatchNorm's step counter: a file without it (ONNX initializers) still gives the layer all its weights.
OPTIONAL = ("num_batches_tracked",)


def read_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors; a ProjectError (one line) when it is missing or not one."""
    path = Path(path)
    try:
        return load_safetensors(path.read_bytes())
    except FileNotFoundError:
        raise ProjectError(f"{path}: the project's weights file is missing: put it back beside the project, or "
                           f"remove '{WEIGHTS}' from the project to start from fresh weights") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read the weights ({exc.strerror or exc})") from None
    except (SafetensorError, ValueError) as exc:
        raise ProjectError(f"{path}: not a safetensors weights file ({exc})") from None


def write_weights(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor]) -> None:
    """Atomically: a failed write leaves no half-written file."""
    write_atomic(path, save_safetensors({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}))


def by_layer_id(model: nn.Module, layers: Sequence[dict]) -> dict[str, torch.Tensor]:
    """A built network's state (child i is layer i, as build_model makes it) keyed by layer id."""
    return {f"{layer['id']}.{key}": value for layer, module in zip(layers, model.children())
            for key, value in module.state_dict().items()}


def apply_weights(model: nn.Module, layers: Sequence[dict], tensors: Mapping[str, torch.Tensor]) -> list[str]:
    """Load each layer's tensors into the built network (child i is layer i). A layer gets all of its
    weights or none: the notes name each layer with parameters that starts fresh, and why."""
    notes = []
    for index, (layer, module) in enumerate(zip(layers, model.children())):
        state = module.state_dict()
        if not state:
            continue
        where = f"layer {index} ({layer['id']})"
        found = {key: tensors[f"{layer['id']}.{key}"] for key in state if f"{layer['id']}.{key}" in tensors}
        missing = [key for key in state if key not in found and key.rsplit(".", 1)[-1] not in OPTIONAL]
        if missing:
            notes.append(f"{where}: no {', '.join(missing)} in the weights file: it starts from fresh weights")
            continue
        wrong = next((key for key, value in found.items() if value.shape != state[key].shape), None)
        if wrong is not None:
            notes.append(f"{where}: the file's {wrong} is {_shape(found[wrong])} but the layer needs "
                         f"{_shape(state[wrong])}: it starts from fresh weights")
            continue
        module.load_state_dict({**state, **found})
    return notes


def load_initial_weights(model: nn.Module, doc: dict) -> list[str]:
    """The project's initial weights (its "weights" file) loaded into its built network; the notes
    of `apply_weights`. Nothing to do for a project without weights."""
    if WEIGHTS not in doc:
        return []
    return apply_weights(model, doc["layers"], read_weights(doc[WEIGHTS]))


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(map(str, tensor.shape)) or "a scalar"
