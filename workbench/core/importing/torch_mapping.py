"""Which torch modules and functions are catalogue layers, and with which parameters.

`module_layers` maps an nn.Module (called on one per-sample tensor) and `function_layers` a function or
tensor method call (as torch.fx records it) to catalogue layer dicts: usually one, two for a mean
over height and width without keepdim (a global average pool, then a Flatten), none for a call that
passes its input through (Identity, contiguous). What has no catalogue kind, or uses an option the
catalogue lacks, comes back as `Unmapped` with the reason, and becomes an opaque card.

Shapes are per sample (no batch dimension), as measured by a forward pass: a reshape is a Flatten
exactly when it turns the input into one vector, whatever arguments spelled it.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from workbench.core.catalogue import CATALOGUE
from workbench.core.importing.assembly import Unmapped

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Sample:
    """A call's argument that is a per-sample tensor (it has the batch dimension), with its shape."""

    shape: Shape


class Computed:
    """A call's argument computed in the graph but not a per-sample tensor (a size, a parameter)."""


COMPUTED = Computed()


Layers = list[dict]  # catalogue layers without ids, chained; [] passes the input through


def layer(type_name: str, /, **values: Any) -> dict:
    """A layer dict with the values that differ from the catalogue's defaults (and the required ones)."""
    out: dict = {"type": type_name}
    for param in CATALOGUE[type_name].params:
        if param.name not in values:
            continue
        value = values[param.name]
        if isinstance(value, tuple):
            value = list(value)
        if param.kind == "pair" and isinstance(value, list) and len(set(value)) == 1:
            value = value[0]
        if param.required or value != param.default:
            out[param.name] = value
    return out


def _pair(value: Any) -> Any:
    """torch's int-or-tuple argument as the catalogue's pair (an int, or [h, w])."""
    if isinstance(value, (tuple, list)):
        return list(value) if len(value) == 2 else value
    return value


def _dim(dim: int, shape: Shape) -> int:
    """A dimension of the batched tensor (the batch is 0), negative ones counted from the end."""
    return dim % (len(shape) + 1)


# ---------------------------------------------------------------------------------------------
# Modules

_SAME = {nn.ReLU: "ReLU", nn.ReLU6: "ReLU6", nn.Sigmoid: "Sigmoid", nn.Tanh: "Tanh", nn.SiLU: "SiLU",
         nn.Hardswish: "Hardswish"}


def module_layers(module: nn.Module, in_shape: Shape, out_shape: Shape) -> Layers | Unmapped:
    """The catalogue layers for `module` applied to one per-sample tensor of `in_shape`."""
    kind = type(module)
    if kind in _SAME:
        return [layer(_SAME[kind])]
    if kind is nn.Identity:
        return []
    if kind is nn.Conv2d or kind is nn.ConvTranspose2d:
        return _conv(module, in_shape)
    if kind is nn.Linear:
        return [layer("Linear", out_features=module.out_features, bias=module.bias is not None)] \
            if len(in_shape) == 1 else Unmapped(f" on a {_rank(in_shape)} (the catalogue's Linear takes vectors)")
    if kind is nn.MaxPool2d:
        if module.return_indices:
            return Unmapped(" with return_indices=True")
        return _on_volume(in_shape, layer("MaxPool2d", kernel_size=_pair(module.kernel_size), stride=_pair(module.stride),
                                          padding=_pair(module.padding), dilation=_pair(module.dilation),
                                          ceil_mode=module.ceil_mode))
    if kind is nn.AvgPool2d:
        if module.divisor_override is not None:
            return Unmapped(" with divisor_override")
        return _on_volume(in_shape, layer("AvgPool2d", kernel_size=_pair(module.kernel_size), stride=_pair(module.stride),
                                          padding=_pair(module.padding), ceil_mode=module.ceil_mode,
                                          count_include_pad=module.count_include_pad))
    if kind is nn.LPPool2d:
        return _on_volume(in_shape, layer("LPPool2d", norm_type=float(module.norm_type),
                                          kernel_size=_pair(module.kernel_size), stride=_pair(module.stride),
                                          ceil_mode=module.ceil_mode))
    if kind is nn.AdaptiveAvgPool2d:
        size = module.output_size
        if isinstance(size, (tuple, list)) and None in size:
            return Unmapped(" keeping a dimension (output_size with None)")
        return _on_volume(in_shape, layer("AdaptiveAvgPool2d", output_size=_pair(size)))
    if kind is nn.Flatten or kind is nn.Unflatten:
        return reshape_layers(in_shape, out_shape)
    if kind is nn.Upsample:
        return _upsample(in_shape, module.size, module.scale_factor, module.mode, module.align_corners,
                         module.recompute_scale_factor)
    if kind is nn.LeakyReLU:
        return [layer("LeakyReLU", negative_slope=module.negative_slope)]
    if kind is nn.GELU:
        return [layer("GELU", approximate=module.approximate)]
    if kind is nn.Softmax:
        return _softmax(module.dim, in_shape)
    if kind is nn.Dropout:
        return [layer("Dropout", p=module.p)]
    if kind is nn.BatchNorm2d or kind is nn.BatchNorm1d:
        return _batchnorm(module, in_shape)
    if kind is nn.LocalResponseNorm:
        return _on_volume(in_shape, layer("LocalResponseNorm", size=module.size, alpha=module.alpha, beta=module.beta,
                                          k=module.k))
    if kind.__name__ == "Corruption" and hasattr(module, "level"):  # workbench's, or an exported copy of it
        return [layer("Corruption", kind=module.kind, level=module.level)]
    return Unmapped()


def _rank(shape: Shape) -> str:
    return {1: "vector", 3: "volume"}.get(len(shape), f"{len(shape)}-D tensor per sample")


def _on_volume(in_shape: Shape, built: dict) -> Layers | Unmapped:
    if len(in_shape) != 3:
        return Unmapped(f" on a {_rank(in_shape)} (the catalogue's {built['type']} takes C×H×W volumes)")
    return [built]


def _conv(module: nn.Module, in_shape: Shape) -> Layers | Unmapped:
    padding = module.padding
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        else:  # "same": (dilation·(kernel − 1)) / 2 on each side, when that is a whole number
            totals = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
            if any(t % 2 for t in totals):
                return Unmapped(" with padding='same' on an even kernel (it pads one side more)")
            padding = tuple(t // 2 for t in totals)
    values = dict(out_channels=module.out_channels, kernel_size=_pair(module.kernel_size), stride=_pair(module.stride),
                  padding=_pair(padding), dilation=_pair(module.dilation), groups=module.groups,
                  bias=module.bias is not None)
    if isinstance(module, nn.ConvTranspose2d):
        if module.padding_mode != "zeros":
            return Unmapped(f" with padding_mode={module.padding_mode!r}")
        return _on_volume(in_shape, layer("ConvTranspose2d", output_padding=_pair(module.output_padding), **values))
    return _on_volume(in_shape, layer("Conv2d", padding_mode=module.padding_mode, **values))


def _batchnorm(module: nn.Module, in_shape: Shape) -> Layers | Unmapped:
    if module.momentum is None:
        return Unmapped(" with momentum=None (a cumulative average)")
    if not module.track_running_stats:
        return Unmapped(" with track_running_stats=False")
    kind = "BatchNorm2d" if isinstance(module, nn.BatchNorm2d) else "BatchNorm1d"
    if len(in_shape) != (3 if kind == "BatchNorm2d" else 1):
        return Unmapped(f" on a {_rank(in_shape)}")
    return [layer(kind, eps=module.eps, momentum=module.momentum, affine=module.affine)]


def reshape_layers(in_shape: Shape, out_shape: Shape) -> Layers | Unmapped:
    """A reshape is a Flatten when it makes one vector of everything, an Unflatten when it folds a
    vector into a volume (or another vector); otherwise the catalogue has no such reshape."""
    if out_shape == in_shape:
        return []
    if out_shape == (math.prod(in_shape),):
        return [layer("Flatten")]
    if len(in_shape) == 1 and len(out_shape) in (1, 3):
        return [layer("Unflatten", unflattened_size=list(out_shape))]
    return Unmapped(f" from {_text(in_shape)} to {_text(out_shape)} per sample")


def _text(shape: Shape) -> str:
    return "×".join(map(str, shape)) or "a scalar"


def _softmax(dim: Any, in_shape: Shape) -> Layers | Unmapped:
    if dim is None:  # torch's legacy implicit dimension: 1 for 2-D and 4-D tensors
        dim = 1 if len(in_shape) + 1 in (2, 4) else 0
    if not isinstance(dim, int) or _dim(dim, in_shape) != 1:
        return Unmapped(f" over dimension {dim} (the catalogue's Softmax is over the channels, dimension 1)")
    return [layer("Softmax")]


def _upsample(in_shape: Shape, size: Any, scale: Any, mode: str, align_corners: Any, recompute: Any) -> Layers | Unmapped:
    if size is not None:
        return Unmapped(" to a fixed size (the catalogue's Upsample takes a scale factor)")
    if isinstance(scale, (tuple, list)):
        if len(set(scale)) != 1:
            return Unmapped(f" with unequal scale factors {tuple(scale)}")
        scale = scale[0]
    if mode not in ("nearest", "bilinear"):
        return Unmapped(f" with mode={mode!r}")
    if align_corners or recompute:
        return Unmapped(" with align_corners=True" if align_corners else " with recompute_scale_factor=True")
    return _on_volume(in_shape, layer("Upsample", scale_factor=float(scale), mode=mode))


# ---------------------------------------------------------------------------------------------
# Functions and tensor methods

# name -> the parameters after the input, with their defaults (as torch.nn.functional spells them)
_SIGNATURES: dict[str, tuple[tuple[str, Any], ...]] = {
    "add": (("other", None), ("alpha", 1)),
    "cat": (("dim", 0),),
    "activation": (("inplace", False),),
    "hardtanh": (("min_val", -1.0), ("max_val", 1.0), ("inplace", False)),
    "gelu": (("approximate", "none"),),
    "leaky_relu": (("negative_slope", 0.01), ("inplace", False)),
    "softmax": (("dim", None), ("_stacklevel", 3), ("dtype", None)),
    "adaptive_avg_pool2d": (("output_size", None),),
    "max_pool2d": (("kernel_size", None), ("stride", None), ("padding", 0), ("dilation", 1), ("ceil_mode", False),
                   ("return_indices", False)),
    "avg_pool2d": (("kernel_size", None), ("stride", None), ("padding", 0), ("ceil_mode", False),
                   ("count_include_pad", True), ("divisor_override", None)),
    "dropout": (("p", 0.5), ("training", True), ("inplace", False)),
    "interpolate": (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
                    ("recompute_scale_factor", None), ("antialias", False)),
    "mean": (("dim", None), ("keepdim", False), ("dtype", None)),
    "reshape": (),
    "same": (),
}

_ACTIVATIONS = {"relu": "ReLU", "relu_": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "sigmoid_": "Sigmoid",
                "tanh": "Tanh", "tanh_": "Tanh", "silu": "SiLU", "hardswish": "Hardswish"}

# call_function targets -> what they do (the key of _SIGNATURES, or an activation's name)
_FUNCTIONS: dict[Callable, str] = {
    operator.add: "add", operator.iadd: "add", torch.add: "add",
    torch.cat: "cat", torch.concat: "cat", torch.concatenate: "cat",
    torch.relu: "relu", torch.relu_: "relu", F.relu: "relu", F.relu_: "relu", F.relu6: "relu6",
    torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", torch.tanh: "tanh", F.tanh: "tanh", F.silu: "silu",
    F.hardswish: "hardswish", F.hardtanh: "hardtanh", F.gelu: "gelu", F.leaky_relu: "leaky_relu",
    F.softmax: "softmax", torch.softmax: "softmax",
    torch.flatten: "reshape", torch.reshape: "reshape",
    F.adaptive_avg_pool2d: "adaptive_avg_pool2d",
    F.max_pool2d: "max_pool2d", torch.max_pool2d: "max_pool2d", F.avg_pool2d: "avg_pool2d",
    F.dropout: "dropout", F.interpolate: "interpolate", torch.mean: "mean",
}
# tensor methods (call_method targets) -> the same
_METHODS: dict[str, str] = {
    "add": "add", "add_": "add", "__add__": "add", "__iadd__": "add", "relu": "relu", "relu_": "relu",
    "sigmoid": "sigmoid", "sigmoid_": "sigmoid", "tanh": "tanh", "tanh_": "tanh", "softmax": "softmax",
    "flatten": "reshape", "view": "reshape", "reshape": "reshape", "mean": "mean",
    "contiguous": "same", "clone": "same",
}


def function_operation(target: Any, method: bool) -> str | None:
    """What a call_function target or a call_method name does, if the catalogue can express it."""
    if method:
        return _METHODS.get(target) if isinstance(target, str) else None
    try:
        return _FUNCTIONS.get(target)
    except TypeError:  # an unhashable target
        return None


def function_layers(operation: str, args: Sequence[Any], kwargs: dict[str, Any], out_shape: Shape) -> Layers | Unmapped:
    """The catalogue layers for a call of `operation` (see `function_operation`). `args` and `kwargs`
    are the call's, with per-sample tensors as `Sample` and other computed values as COMPUTED."""
    if operation == "cat":
        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Sample) for t in tensors):
            return Unmapped(" joining tensors that are not all per-sample")
        if not isinstance(dim, int) or _dim(dim, tensors[0].shape) != 1:
            return Unmapped(f" along dimension {dim} (the catalogue's Concat joins channels, dimension 1)")
        return [] if len(tensors) == 1 else [layer("Concat")]
    signature = _SIGNATURES.get(operation, _SIGNATURES["activation"] if operation in _ACTIVATIONS else ())
    source, values = args[0] if args else None, dict(signature)
    if not isinstance(source, Sample):
        return Unmapped(" on a value that is not a per-sample tensor")
    if operation == "reshape":
        return reshape_layers(source.shape, out_shape)
    names = [name for name, _ in signature]
    for name, value in zip(names, args[1:]):
        values[name] = value
    values.update((k, v) for k, v in kwargs.items() if k in values)
    if any(isinstance(v, Computed) for k, v in values.items() if k != "other"):
        return Unmapped(" with an argument computed in forward()")
    return _call(operation, source.shape, values, out_shape)


def _call(operation: str, shape: Shape, v: dict[str, Any], out_shape: Shape) -> Layers | Unmapped:
    if operation in _ACTIVATIONS:
        return [layer(_ACTIVATIONS[operation])]
    if operation == "same":
        return []
    if operation == "add":
        other = v["other"]
        if not isinstance(other, Sample):
            return Unmapped(" of a tensor that is not per-sample (a parameter or a constant)")
        if other.shape != shape or v["alpha"] != 1:
            return Unmapped(" with broadcasting" if other.shape != shape else " with alpha")
        return [layer("Add")]
    if operation == "hardtanh":
        if (v["min_val"], v["max_val"]) == (0.0, 6.0):
            return [layer("ReLU6")]
        return Unmapped(f" between {v['min_val']:g} and {v['max_val']:g} (the catalogue has ReLU6: 0 to 6)")
    if operation == "gelu":
        return [layer("GELU", approximate=v["approximate"])]
    if operation == "leaky_relu":
        return [layer("LeakyReLU", negative_slope=v["negative_slope"])]
    if operation == "softmax":
        return Unmapped(" with a dtype") if v["dtype"] is not None else _softmax(v["dim"], shape)
    if operation == "adaptive_avg_pool2d":
        size = v["output_size"]
        if isinstance(size, (tuple, list)) and None in size:
            return Unmapped(" keeping a dimension (output_size with None)")
        return _on_volume(shape, layer("AdaptiveAvgPool2d", output_size=_pair(size)))
    if operation == "max_pool2d":
        if v["return_indices"]:
            return Unmapped(" with return_indices=True")
        stride = v["stride"] if v["stride"] not in (None, [], ()) else v["kernel_size"]
        return _on_volume(shape, layer("MaxPool2d", kernel_size=_pair(v["kernel_size"]), stride=_pair(stride),
                                       padding=_pair(v["padding"]), dilation=_pair(v["dilation"]),
                                       ceil_mode=v["ceil_mode"]))
    if operation == "avg_pool2d":
        if v["divisor_override"] is not None:
            return Unmapped(" with divisor_override")
        stride = v["stride"] if v["stride"] not in (None, [], ()) else v["kernel_size"]
        return _on_volume(shape, layer("AvgPool2d", kernel_size=_pair(v["kernel_size"]), stride=_pair(stride),
                                       padding=_pair(v["padding"]), ceil_mode=v["ceil_mode"],
                                       count_include_pad=v["count_include_pad"]))
    if operation == "dropout":
        return [layer("Dropout", p=v["p"])]
    if operation == "interpolate":
        if v["antialias"]:
            return Unmapped(" with antialias=True")
        return _upsample(shape, v["size"], v["scale_factor"], v["mode"], v["align_corners"], v["recompute_scale_factor"])
    if operation == "mean":
        return _mean(shape, v, out_shape)
    return Unmapped()


def _mean(shape: Shape, v: dict[str, Any], out_shape: Shape) -> Layers | Unmapped:
    """A mean over height and width is a global average pool (and a Flatten without keepdim)."""
    dims = v["dim"] if isinstance(v["dim"], (tuple, list)) else [v["dim"]]
    if len(shape) != 3 or v["dtype"] is not None or not all(isinstance(d, int) for d in dims) \
            or sorted(_dim(d, shape) for d in dims) != [2, 3]:
        return Unmapped(f" over dimensions {v['dim']} (the catalogue averages over height and width only)")
    pool = layer("AdaptiveAvgPool2d", output_size=1)
    return [pool] if v["keepdim"] else [pool, layer("Flatten")]
