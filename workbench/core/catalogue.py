"""The one registry of layer kinds.

Every kind declares its category, a one-line description, a parameter schema (type, default,
range), a shape rule, a parameter-count rule and a torch builder. The palette, the inspector,
inference, building and export all read `CATALOGUE`; adding a layer kind touches only this file.

Shapes are per sample: `(C, H, W)` for volumes, `(N,)` for vectors. Keys mirror the torch
constructor's keyword arguments; in-size arguments (in_channels, in_features, num_features) are
never stored: the builder takes them from the incoming shape.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from torch import nn

from workbench.core.layers import Add, Concat, Corruption

Shape = tuple[int, ...]

# Limits that keep absurd files from hanging inference or allocating terabytes.
MAX_CHANNELS = 65_536
MAX_FEATURES = 10_000_000
MAX_KERNEL = 1_024
MAX_SIZE = 100_000

CATEGORIES = (
    "Convolution",
    "Pooling",
    "Fully connected",
    "Activation",
    "Normalization & regularization",
    "Reshape & autoencoder",
    "Merge",
)


class LayerError(Exception):
    """The layer cannot apply to its input; the message says why and what to change."""


@dataclass(frozen=True)
class Param:
    """One constructor argument: what it accepts, its default and its range.

    kind: "int", "float", "bool", "choice", "pair" (an int or [h, w]), "ints" (a list of ints) or "text"
    (a short string: what an opaque imported part is and where it came from).
    required: torch has no default for it; `default` is then only what a new layer starts with.
    optional: None is allowed (e.g. a pooling stride of None means "= kernel_size").
    """

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    optional: bool = False
    help: str = ""

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = {"int": "an integer", "float": "a number", "bool": "true or false",
                "pair": "an integer or a pair [h, w] of integers", "ints": "a list of integers",
                "text": "a text of up to 200 characters"}[self.kind]
        if self.low is not None and self.high is not None:
            noun += f" in {self.low:g}…{self.high:g}"
        return noun + (" or null" if self.optional else "")

    def validate(self, value: Any) -> Any:
        """Return the value normalized, or raise ValueError with a message naming the rule."""
        if value is None and self.optional:
            return None
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
        elif self.kind == "choice":
            if value in self.choices:
                return value
        elif self.kind == "int":
            if _is_int(value):
                return self._in_range(value)
        elif self.kind == "float":
            if _is_number(value):
                return self._in_range(float(value))
        elif self.kind == "pair":
            if _is_int(value):
                return self._in_range(value)
            if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_int(v) for v in value):
                h, w = (self._in_range(v) for v in value)
                return h if h == w else [h, w]
        elif self.kind == "ints":
            if isinstance(value, (list, tuple)) and 0 < len(value) <= 3 and all(_is_int(v) for v in value):
                return [self._in_range(v) for v in value]
        elif self.kind == "text":
            if isinstance(value, str) and 0 < len(value) <= 200:
                return value
        raise ValueError(f"must be {self.describe()}, got {brief(value)}")

    def _in_range(self, value: float) -> Any:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueError(f"= {brief(value)} is out of range ({self.low:g}…{self.high:g})")
        return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) and math.isfinite(value)


def brief(value: Any) -> str:
    """A value as a message quotes it: JSON spelling, cut short, containers by kind."""
    if isinstance(value, (dict, list, tuple)):
        text = json.dumps(value) if len(str(value)) <= 40 else ("a list" if isinstance(value, (list, tuple)) else "an object")
    elif isinstance(value, (str, int, float, bool, type(None))):
        text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    else:
        text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class LayerResult:
    """What one layer does to one sample."""

    output: Shape
    params: int = 0
    params_unshared: int | None = None  # None: same as params (nothing is shared)
    macs: int = 0
    formula: str = ""
    warnings: list[str] = field(default_factory=list)
    # How the layer grows the receptive field: (effective kernel, stride), "all" (every input
    # value reaches every output: Flatten, Linear) or None (unchanged: element-wise layers).
    field: tuple[int, float] | str | None = None


@dataclass(frozen=True)
class LayerKind:
    name: str
    category: str
    description: str
    params: tuple[Param, ...]
    infer: Callable[[Shape, dict], LayerResult]
    module: type  # the torch.nn class (or one of workbench.core.layers) the layer builds
    label: Callable[[dict], str]  # short card text on the resolved parameters
    sized: bool = False  # the first argument is the incoming size (in_channels, in_features, num_features)
    fixed: tuple[tuple[str, Any], ...] = ()  # arguments the app fixes, e.g. Softmax over channels (dim=1)
    # Merge kinds only (Add, Concat): the rule for two or more inputs, given their shapes and how a
    # message names each input's source ("#7", "the input"). `infer` is then the one-input case.
    combine: Callable[[list[Shape], list[str]], LayerResult] | None = None
    # An imported part with no catalogue kind (Opaque): shown and counted as measured, never built.
    opaque: bool = False

    def arguments(self, shape: Shape, params: dict) -> tuple[list[Any], dict[str, Any]]:
        """The constructor call for an input of `shape`: building and export both use it."""
        args = [shape[0]] if self.sized else []
        kwargs = dict(self.fixed)
        kwargs.update({k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        return args, kwargs

    def build(self, shape: Shape, params: dict) -> nn.Module:
        args, kwargs = self.arguments(shape, params)
        return self.module(*args, **kwargs)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def resolve(self, layer: dict) -> dict:
        """The layer's parameters with torch's defaults filled in for missing keys."""
        return {p.name: layer.get(p.name, p.default) for p in self.params}

    def new_layer(self) -> dict:
        """What the palette inserts: the required keys with their starting values."""
        return {"type": self.name, **{p.name: p.default for p in self.params if p.required}}


# ---------------------------------------------------------------------------------------------
# Helpers shared by the rules


def pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def fmt_pair(value: int | list[int]) -> str:
    h, w = pair(value)
    return f"{h}×{w}"


def fmt_shape(shape: Shape | None) -> str:
    """The lecture's notation: 55×55×96 (W×H×D) for volumes, 4096 for vectors."""
    if shape is None:
        return "?"
    if len(shape) == 3:
        c, h, w = shape
        return f"{w}×{h}×{c}" if h != w else f"{h}×{w}×{c}"
    return "×".join(str(s) for s in shape)


def _need_volume(shape: Shape, name: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerError(f"{name} needs a C×H×W volume but gets a vector of {shape[0]}: "
                         "insert an Unflatten before it, or remove the Flatten above it")
    return shape  # type: ignore[return-value]


def _need_vector(shape: Shape, name: str) -> int:
    if len(shape) != 1:
        raise LayerError(f"{name} needs a vector but gets a {fmt_shape(shape)} volume: "
                         "insert a Flatten before it")
    return shape[0]


def _window_dim(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool,
                axis: str, pooling: bool) -> tuple[int, str, str | None]:
    """One spatial axis of a sliding window: the output size, the formula, a tiling warning."""
    span = dilation * (kernel - 1) + 1
    num = size - span + 2 * padding
    out = (-(-num // stride) if ceil else num // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:  # torch: the last window must start inside
        out -= 1
    if out < 1:
        raise LayerError(f"the {span}×{span} window is larger than the padded input along {axis} "
                         f"({size} + 2·{padding} = {size + 2 * padding}): reduce the kernel or add padding")
    f_text = str(kernel) if dilation == 1 else f"{span}"
    inner = f"{size} − {f_text}" + (f" + 2·{padding}" if (padding or not pooling) else "")
    formula = f"1 + ({inner})/{stride} = "
    formula += f"{out}" if num % stride == 0 else f"{1 + num / stride:.4g} → {out} ({'ceil' if ceil else 'floor'})"
    if dilation != 1:
        formula = f"F = {dilation}·({kernel} − 1) + 1 = {span}; " + formula
    warning = None
    if num % stride and not ceil:
        unseen = num % stride
        fix_p = next((p for p in range(padding + 1, padding + stride + 1) if (size - span + 2 * p) % stride == 0), None)
        fix_s = [s for s in range(1, max(stride, kernel) + 1) if num % s == 0 and s != stride]
        hints = []
        if fix_p is not None and not pooling:
            hints.append(f"P = {fix_p}")
        if fix_s:
            hints.append(f"S = {max(fix_s, key=lambda s: (s <= stride, s))}")
        lines = "rows" if axis == "height" else "columns"
        warning = (f"({size} − {f_text} + 2·{padding})/{stride} is not an integer: torch floors it, so the last "
                   f"{unseen} {lines if unseen > 1 else lines[:-1]} of the padded input "
                   f"{'are' if unseen > 1 else 'is'} never seen"
                   + (f"; {' or '.join(hints)} would tile exactly" if hints else ""))
    return out, formula, warning


def _window(shape: Shape, name: str, kernel: Any, stride: Any, padding: Any, dilation: Any = 1,
            ceil: bool = False, pooling: bool = False) -> tuple[int, int, int, str, list[str], tuple[int, int]]:
    c, h, w = _need_volume(shape, name)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = pair(kernel), pair(stride), pair(padding), pair(dilation)
    ho, fh, warn_h = _window_dim(h, kh, sh, ph, dh, ceil, "height", pooling)
    wo, fw, warn_w = _window_dim(w, kw, sw, pw, dw, ceil, "width", pooling)
    formula = fh if fh == fw else f"H: {fh}; W: {fw}"
    if warn_h and warn_h.replace("row", "column") == warn_w:  # a square case: say it once
        both = " rows and columns " if " rows " in warn_h else " row and column "
        warn_h, warn_w = warn_h.replace(" rows ", both).replace(" row ", both), None
    warnings = [x for x in (warn_h, warn_w) if x]
    return c, ho, wo, formula, warnings, (dh * (kh - 1) + 1, sh)


def _check_pool_padding(kernel: Any, padding: Any) -> None:
    (kh, kw), (ph, pw) = pair(kernel), pair(padding)
    if ph > kh // 2 or pw > kw // 2:
        raise LayerError(f"padding {fmt_pair(padding)} must be at most half the kernel ({fmt_pair(kernel)}): "
                         "torch refuses larger pooling padding")


# ---------------------------------------------------------------------------------------------
# Convolution


def _conv_infer(shape: Shape, p: dict) -> LayerResult:
    c_in = _need_volume(shape, "Conv2d")[0]
    k_out, groups = p["out_channels"], p["groups"]
    if c_in % groups or k_out % groups:
        raise LayerError(f"groups = {groups} must divide both the input depth ({c_in}) and out_channels ({k_out})")
    _check_padding_mode(shape, p["padding"], p["padding_mode"])
    _, ho, wo, formula, warnings, fld = _window(shape, "Conv2d", p["kernel_size"], p["stride"], p["padding"],
                                                p["dilation"])
    kh, kw = pair(p["kernel_size"])
    per_filter = kh * kw * (c_in // groups)
    bias = 1 if p["bias"] else 0
    return LayerResult(
        output=(k_out, ho, wo),
        params=k_out * (per_filter + bias),
        params_unshared=ho * wo * k_out * (per_filter + bias),
        macs=ho * wo * k_out * per_filter,
        formula=formula,
        warnings=warnings,
        field=fld,
    )


def _check_padding_mode(shape: Shape, padding: Any, mode: str) -> None:
    """reflect padding mirrors inside the image, so it must be smaller than the image (circular: at most)."""
    if mode not in ("reflect", "circular"):
        return
    (ph, pw), (_, h, w) = pair(padding), shape
    too_big = (ph >= h or pw >= w) if mode == "reflect" else (ph > h or pw > w)
    if too_big:
        limit = "smaller than" if mode == "reflect" else "at most"
        raise LayerError(f"{mode} padding {fmt_pair(padding)} must be {limit} the input ({h}×{w}): "
                         "use zeros padding or less padding")


def _conv_transpose_infer(shape: Shape, p: dict) -> LayerResult:
    c_in, h, w = _need_volume(shape, "ConvTranspose2d")
    k_out, groups = p["out_channels"], p["groups"]
    if c_in % groups or k_out % groups:
        raise LayerError(f"groups = {groups} must divide both the input depth ({c_in}) and out_channels ({k_out})")
    (kh, kw), (sh, sw) = pair(p["kernel_size"]), pair(p["stride"])
    (ph, pw), (oph, opw), (dh, dw) = pair(p["padding"]), pair(p["output_padding"]), pair(p["dilation"])
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise LayerError(f"output_padding {fmt_pair(p['output_padding'])} must be smaller than the stride "
                         f"or the dilation ({fmt_pair(p['stride'])})")
    ho = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    wo = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    if ho < 1 or wo < 1:
        raise LayerError(f"output would be {ho}×{wo}: reduce the padding")

    def text(n: int, s: int, pad: int, k: int, d: int, op: int, out: int) -> str:
        f_text = str(k) if d == 1 else f"{d}·({k} − 1) + 1"
        return f"({n} − 1)·{s} − 2·{pad} + {f_text}" + (f" + {op}" if op else "") + f" = {out}"

    fh, fw = text(h, sh, ph, kh, dh, oph, ho), text(w, sw, pw, kw, dw, opw, wo)
    bias = 1 if p["bias"] else 0
    weights = c_in * (k_out // groups) * kh * kw
    return LayerResult(
        output=(k_out, ho, wo),
        params=weights + bias * k_out,
        params_unshared=h * w * weights + ho * wo * k_out * bias,
        macs=h * w * weights,
        formula=fh if fh == fw else f"H: {fh}; W: {fw}",
        # An output sees ceil(F/S) positions of its input grid, which are 1/S output steps apart.
        field=(-(-(dh * (kh - 1) + 1) // sh), 1 / sh),
    )


def _conv_label(p: dict) -> str:
    return f"Conv {p['out_channels']} @ {fmt_pair(p['kernel_size'])}, s{_short(p['stride'])}, p{_short(p['padding'])}"


def _short(value: Any) -> str:
    h, w = pair(value)
    return str(h) if h == w else f"{h},{w}"


# ---------------------------------------------------------------------------------------------
# Pooling


def _pool_infer(name: str, dilation_key: str | None) -> Callable[[Shape, dict], LayerResult]:
    def infer(shape: Shape, p: dict) -> LayerResult:
        stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
        padding = p.get("padding", 0)
        _check_pool_padding(p["kernel_size"], padding)
        c, ho, wo, formula, warnings, fld = _window(shape, name, p["kernel_size"], stride, padding,
                                                    p[dilation_key] if dilation_key else 1,
                                                    ceil=p["ceil_mode"], pooling=True)
        return LayerResult(output=(c, ho, wo), formula=formula, warnings=warnings, field=fld)

    return infer


def _pool_label(short: str) -> Callable[[dict], str]:
    def label(p: dict) -> str:
        stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
        return f"{short} {fmt_pair(p['kernel_size'])}, s{_short(stride)}"

    return label


def _adaptive_infer(shape: Shape, p: dict) -> LayerResult:
    c, h, w = _need_volume(shape, "AdaptiveAvgPool2d")
    oh, ow = pair(p["output_size"])
    # torch's window i spans floor(i·H/oh) … ceil((i+1)·H/oh): up to ceil(H/oh) + 1 rows, H/oh apart.
    span = -(-h // oh) + (1 if h % oh else 0)
    fld: tuple[int, float] | str = "all" if (oh, ow) == (1, 1) else (span, h / oh)
    return LayerResult(output=(c, oh, ow), formula=f"{h}×{w} → {oh}×{ow} (windows sized to fit)", field=fld)


# ---------------------------------------------------------------------------------------------
# Fully connected, reshape


def _linear_infer(shape: Shape, p: dict) -> LayerResult:
    n = _need_vector(shape, "Linear")
    out, bias = p["out_features"], 1 if p["bias"] else 0
    return LayerResult(output=(out,), params=out * (n + bias), macs=n * out,
                       formula=f"{out} neurons × ({n} weights + {bias} bias)", field="all")


def _flatten_infer(shape: Shape, p: dict) -> LayerResult:
    n = math.prod(shape)
    text = "·".join(str(s) for s in shape)
    return LayerResult(output=(n,), formula=f"{text} = {n}" if len(shape) > 1 else "already a vector",
                       field="all" if len(shape) > 1 else None)


def _unflatten_infer(shape: Shape, p: dict) -> LayerResult:
    n = _need_vector(shape, "Unflatten")
    sizes = tuple(p["unflattened_size"])
    if math.prod(sizes) != n:
        raise LayerError(f"unflattened_size {list(sizes)} holds {'·'.join(map(str, sizes))} = {math.prod(sizes)} "
                         f"values but the input has {n}")
    if len(sizes) not in (1, 3):
        raise LayerError("unflattened_size must be [C, H, W] (a volume) or [N]")
    return LayerResult(output=sizes, formula=f"{n} = {'·'.join(map(str, sizes))}")


def _same_shape(shape: Shape, p: dict) -> LayerResult:
    return LayerResult(output=shape)


def _upsample_infer(shape: Shape, p: dict) -> LayerResult:
    c, h, w = _need_volume(shape, "Upsample")
    s = p["scale_factor"]
    ho, wo = math.floor(h * s), math.floor(w * s)
    if ho < 1 or wo < 1:
        raise LayerError(f"scale_factor {s:g} shrinks {h}×{w} to nothing")
    return LayerResult(output=(c, ho, wo), formula=f"⌊{h}·{s:g}⌋ = {ho}" + ("" if h == w else f"; ⌊{w}·{s:g}⌋ = {wo}"),
                       field=(1 if p["mode"] == "nearest" else 2, 1 / s))  # bilinear blends 2 neighbours


def _bn_infer(dims: int) -> Callable[[Shape, dict], LayerResult]:
    def infer(shape: Shape, p: dict) -> LayerResult:
        if dims == 1:
            _need_vector(shape, "BatchNorm1d")
        elif len(shape) != 3:
            raise LayerError(f"BatchNorm2d needs a C×H×W volume but gets a vector of {shape[0]}: use BatchNorm1d")
        n = shape[0]
        return LayerResult(output=shape, params=2 * n if p["affine"] else 0,
                           formula=f"γ and β for each of {n} {'features' if dims == 1 else 'channels'}")

    return infer


def _lrn_infer(shape: Shape, p: dict) -> LayerResult:
    _need_volume(shape, "LocalResponseNorm")
    return LayerResult(output=shape, formula=f"each value divided by its {p['size']} depth neighbours' energy")


# ---------------------------------------------------------------------------------------------
# Merges: several inputs, one output, no parameters


def _one_input(name: str) -> Callable[[Shape, dict], LayerResult]:
    def infer(shape: Shape, p: dict) -> LayerResult:
        raise LayerError(f"{name} merges two or more inputs but has one: connect another layer's output to it "
                         "(a skip connection from an earlier layer)")
    return infer


def projection(shape: Shape, target: Shape) -> dict | None:
    """The layer that turns `shape` into `target` for an Add: a 1×1 Conv2d with target's depth and the
    stride that shrinks to target's height and width (ResNet's projection shortcut), a Linear for
    vectors; None when no such layer exists (it would have to enlarge)."""
    if len(shape) == 1 and len(target) == 1:
        return {"type": "Linear", "out_features": target[0]}
    if len(shape) != 3 or len(target) != 3:
        return None
    (_, h, w), (c, th, tw) = shape, target
    stride = next((s for s in range((h - 1) // th + 1, min(h, MAX_KERNEL) + 1)
                   if (h - 1) // s + 1 == th and (w - 1) // s + 1 == tw), None)
    if stride is None:
        return None
    layer = {"type": "Conv2d", "out_channels": c, "kernel_size": 1}
    return {**layer, "stride": stride} if stride > 1 else layer


def _projection_text(layer: dict | None, source: str, target: Shape) -> str:
    if layer is None:
        return f"change the layers before {source} so that it gives {fmt_shape(target)}"
    if layer["type"] == "Linear":
        return f"insert a Linear with {layer['out_features']} outputs after {source}"
    stride = f" and stride {layer['stride']}" if layer.get("stride", 1) > 1 else ""
    return f"insert a 1×1 Conv2d with {layer['out_channels']} filters{stride} after {source}"


def _add_combine(shapes: list[Shape], sources: list[str]) -> LayerResult:
    ref = shapes[0]
    for shape, source in zip(shapes[1:], sources[1:]):
        if shape != ref:
            what = "volume" if len(ref) == 3 else "shape"
            raise LayerError(f"Add needs one {what}: {fmt_shape(ref)} from {sources[0]} and {fmt_shape(shape)} from "
                             f"{source} — {_projection_text(projection(shape, ref), source, ref)}")
    return LayerResult(output=ref, formula=" + ".join(fmt_shape(s) for s in shapes) + ", value by value")


def _concat_combine(shapes: list[Shape], sources: list[str]) -> LayerResult:
    ref = shapes[0]
    for shape, source in zip(shapes[1:], sources[1:]):
        if len(shape) != len(ref):
            volume = sources[0] if len(ref) == 3 else source
            raise LayerError(f"Concat joins volumes or vectors, not both: {fmt_shape(ref)} from {sources[0]} and "
                             f"{fmt_shape(shape)} from {source} — insert a Flatten after {volume}")
        if len(ref) == 3 and shape[1:] != ref[1:]:
            raise LayerError(f"Concat needs equal H×W: {fmt_pair(list(ref[1:]))} from {sources[0]} and "
                             f"{fmt_pair(list(shape[1:]))} from {source} — "
                             f"{_resize_text(shape[1:], ref[1:], source, sources[0])}")
    total = sum(s[0] for s in shapes)
    depths = " + ".join(str(s[0]) for s in shapes)
    return LayerResult(output=(total, *ref[1:]),
                       formula=f"depth {depths} = {total}" if len(ref) == 3 else f"{depths} = {total}")


def _resize_text(size: tuple[int, ...], ref: tuple[int, ...], source: str, ref_source: str) -> str:
    """How to bring two heights and widths together: pool the larger, or upsample the smaller."""
    (h, w), (rh, rw) = size, ref
    for big, small, big_src, small_src in (((h, w), (rh, rw), source, ref_source), ((rh, rw), (h, w), ref_source, source)):
        if big[0] % small[0] == 0 and big[1] % small[1] == 0 and big[0] // small[0] == big[1] // small[1] > 1:
            r = big[0] // small[0]
            return f"insert a MaxPool2d with kernel {r} after {big_src}, or an Upsample ×{r} after {small_src}"
    return "change the layers before them (stride, padding) so that their sizes agree"


# ---------------------------------------------------------------------------------------------
# Opaque: an imported part with no catalogue kind (workbench.core.importing)

OPAQUE_CATEGORY = "Imported"  # not in CATEGORIES: the palette offers no opaque card


def _opaque_result(shape: Shape, p: dict) -> LayerResult:
    """What a forward pass measured at import: valid only while its (first) input has the shape it had.
    An opaque part may take several inputs; inference then passes the first one's shape."""
    measured = tuple(p["in_shape"])
    if tuple(shape) != measured:
        raise LayerError(f"{p['module']} was measured at import on a {fmt_shape(measured)} input but now gets "
                         f"{fmt_shape(shape)}: an opaque part's output is known only for the input it was "
                         "imported with; set the network's input back, or import again with that input")
    return LayerResult(output=tuple(p["output"]), params=p["parameters"],
                       formula="measured by a forward pass at import; receptive field taken as the whole input",
                       warnings=[f"{p['module']} is not in the catalogue: its output and parameters are as measured "
                                 "at import, and the network cannot be built, trained or exported until this part "
                                 "is replaced by catalogue layers"],
                       field="all")


class _Unbuildable(nn.Module):
    """The module an opaque kind names: never constructed, as build_model refuses opaque parts first."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise LayerError("an opaque imported part has no module to build")


def _fixed(label: str) -> Callable[[dict], str]:
    return lambda p: label


def _kind(name: str, category: str, description: str, params: tuple[Param, ...],
          infer: Callable[[Shape, dict], LayerResult], module: type, label: Callable[[dict], str],
          sized: bool = False, **fixed: Any) -> LayerKind:
    return LayerKind(name, category, description, params, infer, module, label, sized, tuple(fixed.items()))


def _pair_param(name: str, default: int, low: int, required: bool = False, help: str = "") -> Param:
    return Param(name, "pair", default, low, MAX_KERNEL, required=required, help=help)


_OUT_CHANNELS = Param("out_channels", "int", 16, 1, MAX_CHANNELS, required=True,
                      help="number of filters k: the output depth")
_KERNEL = _pair_param("kernel_size", 3, 1, required=True, help="receptive field F (F×F)")
_STRIDE = _pair_param("stride", 1, 1, help="stride S: how far the window moves")
_PADDING = _pair_param("padding", 0, 0, help="zero padding P around the border")
_DILATION = _pair_param("dilation", 1, 1, help="spacing between kernel taps")
_GROUPS = Param("groups", "int", 1, 1, MAX_CHANNELS, help="split channels into independent groups")
_BIAS = Param("bias", "bool", True, help="add a learned bias per output")
_POOL_STRIDE = Param("stride", "pair", None, 1, MAX_KERNEL, optional=True,
                     help="stride S (empty: equal to the kernel size)")
_CEIL = Param("ceil_mode", "bool", False, help="round the output size up instead of down")
# eps > 0: torch refuses eps = 0 only when the layer runs (2.14 while training, 2.11 always), so the
# catalogue's range says it up front; 1e-7 is the smallest value the inspector's 7 decimals can show.
_BATCHNORM = (Param("eps", "float", 1e-5, 1e-7, 1.0, help="added to the variance (must be above 0)"),
              Param("momentum", "float", 0.1, 0.0, 1.0, help="running statistics update rate"),
              Param("affine", "bool", True, help="learn a scale γ and shift β"))

CATALOGUE: dict[str, LayerKind] = {k.name: k for k in (
    _kind("Conv2d", "Convolution",
          "Slides k learned F×F×D filters over the input volume; each filter makes one depth slice.",
          (_OUT_CHANNELS, _KERNEL, _STRIDE, _PADDING, _DILATION, _GROUPS, _BIAS,
           Param("padding_mode", "choice", "zeros", choices=("zeros", "reflect", "replicate", "circular"),
                 help="what the border is filled with")),
          _conv_infer, nn.Conv2d, _conv_label, sized=True),
    _kind("ConvTranspose2d", "Convolution",
          "Transposed convolution: upsamples a volume with learned filters (decoders).",
          (_OUT_CHANNELS, _KERNEL, _STRIDE, _PADDING,
           _pair_param("output_padding", 0, 0, help="extra rows/columns added to one side of the output"),
           _GROUPS, _BIAS, _DILATION),
          _conv_transpose_infer, nn.ConvTranspose2d,
          lambda p: f"ConvT {p['out_channels']} @ {fmt_pair(p['kernel_size'])}, s{_short(p['stride'])}", sized=True),
    _kind("MaxPool2d", "Pooling",
          "Keeps the largest value in each F×F window of every depth slice; no parameters.",
          (Param("kernel_size", "pair", 2, 1, MAX_KERNEL, required=True, help="window size F"), _POOL_STRIDE,
           _pair_param("padding", 0, 0, help="implicit −∞ padding (at most F/2)"), _DILATION, _CEIL),
          _pool_infer("MaxPool2d", "dilation"), nn.MaxPool2d, _pool_label("MaxPool")),
    _kind("AvgPool2d", "Pooling",
          "Averages each F×F window of every depth slice; no parameters.",
          (Param("kernel_size", "pair", 2, 1, MAX_KERNEL, required=True, help="window size F"), _POOL_STRIDE,
           _pair_param("padding", 0, 0, help="zero padding (at most F/2)"), _CEIL,
           Param("count_include_pad", "bool", True, help="count padded zeros in the average")),
          _pool_infer("AvgPool2d", None), nn.AvgPool2d, _pool_label("AvgPool")),
    _kind("LPPool2d", "Pooling",
          "Lp-norm of each window (p = 2: L2-norm pooling); no parameters.",
          (Param("norm_type", "float", 2.0, 1.0, 100.0, help="p of the norm (2: L2 pooling)"),
           Param("kernel_size", "pair", 2, 1, MAX_KERNEL, required=True, help="window size F"), _POOL_STRIDE, _CEIL),
          _pool_infer("LPPool2d", None), nn.LPPool2d,
          lambda p: f"L{p['norm_type']:g}Pool {fmt_pair(p['kernel_size'])}, s{_short(p['stride'] or p['kernel_size'])}"),
    _kind("AdaptiveAvgPool2d", "Pooling",
          "Averages into a fixed output size whatever the input size.",
          (Param("output_size", "pair", 1, 1, MAX_SIZE, required=True, help="output height and width"),),
          _adaptive_infer, nn.AdaptiveAvgPool2d, lambda p: f"AdaptiveAvg → {fmt_pair(p['output_size'])}"),
    _kind("Linear", "Fully connected",
          "Fully connected: every output neuron has a weight for every input value, plus a bias.",
          (Param("out_features", "int", 64, 1, MAX_FEATURES, required=True, help="number of neurons"), _BIAS),
          _linear_infer, nn.Linear, lambda p: f"FC {p['out_features']}", sized=True),
    _kind("Flatten", "Reshape & autoencoder",
          "Unrolls a C×H×W volume into a vector of C·H·W values (needed before a fully connected layer).",
          (), _flatten_infer, nn.Flatten, _fixed("Flatten")),
    _kind("Unflatten", "Reshape & autoencoder",
          "Folds a vector back into a C×H×W volume (decoders).",
          (Param("unflattened_size", "ints", [16, 4, 4], 1, MAX_SIZE, required=True, help="[C, H, W]"),),
          _unflatten_infer, nn.Unflatten, lambda p: "Unflatten → " + fmt_shape(tuple(p["unflattened_size"])), dim=1),
    _kind("Upsample", "Reshape & autoencoder",
          "Enlarges each depth slice by a scale factor (nearest or bilinear); no parameters.",
          (Param("scale_factor", "float", 2.0, 0.01, 64.0, help="size multiplier"),
           Param("mode", "choice", "nearest", choices=("nearest", "bilinear"), help="interpolation")),
          _upsample_infer, nn.Upsample, lambda p: f"Upsample ×{p['scale_factor']:g}"),
    _kind("Corruption", "Reshape & autoencoder",
          "Corrupts the input while training (denoising autoencoder); passes it unchanged otherwise.",
          (Param("kind", "choice", "gaussian", choices=("gaussian", "masking", "salt_pepper"), help="noise type"),
           Param("level", "float", 0.3, 0.0, 1.0, help="noise std, or fraction of values hit")),
          _same_shape, Corruption, lambda p: f"Noise {p['kind']} {p['level']:g}"),
    _kind("ReLU", "Activation", "max(0, x), element-wise.", (), _same_shape, nn.ReLU, _fixed("ReLU")),
    _kind("LeakyReLU", "Activation", "x for x > 0, a·x otherwise.",
          (Param("negative_slope", "float", 0.01, 0.0, 1.0, help="slope a for negative inputs"),),
          _same_shape, nn.LeakyReLU, lambda p: f"LeakyReLU {p['negative_slope']:g}"),
    _kind("ReLU6", "Activation", "min(max(0, x), 6): a ReLU capped at 6 (MobileNet).", (), _same_shape, nn.ReLU6,
          _fixed("ReLU6")),
    _kind("Hardswish", "Activation", "x·ReLU6(x + 3)/6: a cheap swish (MobileNetV3).", (), _same_shape, nn.Hardswish,
          _fixed("Hardswish")),
    _kind("SiLU", "Activation", "x·σ(x), the swish (EfficientNet).", (), _same_shape, nn.SiLU, _fixed("SiLU")),
    _kind("Sigmoid", "Activation", "1 / (1 + e^−x): squashes to (0, 1).", (), _same_shape, nn.Sigmoid,
          _fixed("Sigmoid")),
    _kind("Tanh", "Activation", "tanh(x): squashes to (−1, 1).", (), _same_shape, nn.Tanh, _fixed("Tanh")),
    _kind("GELU", "Activation", "x·Φ(x): a smooth ReLU.",
          (Param("approximate", "choice", "none", choices=("none", "tanh"), help="exact or tanh approximation"),),
          _same_shape, nn.GELU, _fixed("GELU")),
    _kind("Softmax", "Activation", "Turns scores into class probabilities that sum to 1 (over channels).",
          (), _same_shape, nn.Softmax, _fixed("Softmax"), dim=1),
    _kind("Dropout", "Normalization & regularization",
          "Zeroes each value with probability p while training (regularization).",
          (Param("p", "float", 0.5, 0.0, 1.0, help="drop probability"),),
          _same_shape, nn.Dropout, lambda p: f"Dropout {p['p']:g}"),
    _kind("BatchNorm1d", "Normalization & regularization",
          "Normalizes each feature of a vector over the batch, then scales and shifts it.",
          _BATCHNORM,
          _bn_infer(1), nn.BatchNorm1d, _fixed("BatchNorm"), sized=True),
    _kind("BatchNorm2d", "Normalization & regularization",
          "Normalizes each channel of a volume over the batch, then scales and shifts it.",
          _BATCHNORM,
          _bn_infer(2), nn.BatchNorm2d, _fixed("BatchNorm"), sized=True),
    _kind("LocalResponseNorm", "Normalization & regularization",
          "AlexNet's local response normalization across neighbouring depth slices; no parameters.",
          (Param("size", "int", 5, 1, MAX_CHANNELS, required=True, help="neighbouring channels"),
           Param("alpha", "float", 1e-4, 0.0, 100.0), Param("beta", "float", 0.75, 0.0, 100.0),
           Param("k", "float", 1.0, 0.0, 100.0)),
          _lrn_infer, nn.LocalResponseNorm, _fixed("LRN")),
    LayerKind("Add", "Merge", "Adds its inputs value by value (a residual or skip connection): all of one volume.",
              (), _one_input("Add"), Add, _fixed("Add"), combine=_add_combine),
    LayerKind("Concat", "Merge", "Stacks its inputs along the depth (U-Net and Inception skips): equal H×W.",
              (), _one_input("Concat"), Concat, _fixed("Concat"), combine=_concat_combine),
    LayerKind("Opaque", OPAQUE_CATEGORY,
              "An imported part with no catalogue kind: its output and parameters as a forward pass measured them. "
              "Replace it with catalogue layers to train or export the network.",
              (Param("module", "text", "unknown", required=True, help="what the part is in its source"),
               Param("source", "text", "?", optional=True, help="where the part sits in its source"),
               Param("in_shape", "ints", [1], 1, MAX_SIZE, required=True,
                     help="the shape of its (first) input at import, one sample"),
               Param("output", "ints", [1], 1, MAX_SIZE, required=True, help="its output shape at import, one sample"),
               Param("parameters", "int", 0, 0, 10**12, required=True, help="its parameters, counted at import")),
              _opaque_result, _Unbuildable,
              lambda p: f"{p['module'].rsplit('.', 1)[-1]} (opaque)", opaque=True),
)}

# In-size arguments: derived from the previous layer, never written in a project file.
DERIVED_KEYS = ("in_channels", "in_features", "num_features")
