"""The arithmetic behind a conv or pooling layer, one window at a time, on real numbers.

`step_through` slides an F×F window with stride S over a zero-padded 2-D grid and records, for every
output cell in the order the window visits them, the window's values, the products with the kernel
(convolution) and the sum / max / mean / L2 norm written out on the numbers. The arithmetic view paints
it; lessons carry the course's grids; tests check every output grid against torch's conv2d, max_pool2d,
avg_pool2d and lp_pool2d on the same numbers.

Padding follows torch so that the two always agree: convolution, average and L2 pooling pad with zeros
(average pooling counts them, like torch's default count_include_pad=True); max pooling pads with −∞,
so a padded cell never wins.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence, TypeAlias

import numpy as np

from workbench.core.catalogue import CATALOGUE, LayerError

POOLINGS = ("max", "average", "l2")
POOLING_NAMES = {"max": "max pooling", "average": "average pooling", "l2": "L2-norm pooling"}
MAX_GRID = 64  # the step-through is for numbers a person reads; larger crops are refused
MAX_PADDING = 16

GridLike: TypeAlias = "Sequence[Sequence[float]] | np.ndarray"


def fmt_number(value: float) -> str:
    """A number as the lecture writes it: 139, 3.25, 0.432, −1, −∞ (a real minus sign)."""
    if math.isinf(value):
        text = "∞" if value > 0 else "-∞"
    elif float(value).is_integer() and abs(value) < 1e9:
        text = str(int(value))
    elif abs(value) >= 1000:
        text = f"{value:.0f}"
    else:
        text = f"{value:.3g}"
    return text.replace("-", "−")


def _factor(value: float) -> str:
    """A factor inside a sum: negative numbers in parentheses, as in 85·(−1)."""
    text = fmt_number(value)
    return f"({text})" if value < 0 else text


@dataclass(frozen=True)
class Window:
    """One position of the sliding window and the output cell it computes."""

    row: int  # the output cell
    col: int
    top: int  # the window's top-left corner in the padded grid
    left: int
    values: np.ndarray  # F×F, from the padded grid
    products: np.ndarray | None  # values × kernel (convolution only)
    value: float  # the output cell's value
    terms: tuple[str, ...]  # "139·0", "85·(−1)", … (pooling: the values, or their squares for L2)
    operation: str  # "conv", "max", "average" or "l2"
    bias: float = 0.0

    def equation(self, max_terms: int | None = None) -> str:
        """The computation written out: "139·0 + 85·(−1) + … = 89"; with max_terms, the middle is elided."""
        terms = list(self.terms)
        if max_terms is not None and len(terms) > max_terms:
            head = max(1, max_terms - 1)
            terms = terms[:head] + ["…"] + terms[-1:]
        result = fmt_number(self.value)
        if self.operation == "conv":
            text = " + ".join(terms) + (f" + {_factor(self.bias)}" if self.bias else "")
        elif self.operation == "max":
            text = f"max({', '.join(terms)})"
        elif self.operation == "average":
            text = f"({' + '.join(terms)})/{self.values.size}"
        else:
            text = f"√({' + '.join(terms)})"
        return f"{text} = {result}"


@dataclass(frozen=True)
class StepThrough:
    """Every window of one conv or pooling pass over a 2-D grid, in the order the window slides."""

    grid: np.ndarray  # the input, H×W
    padded: np.ndarray  # (H + 2P)×(W + 2P)
    kernel: np.ndarray | None  # F×F for a convolution, None for pooling
    pooling: str | None  # "max", "average", "l2" or None for a convolution
    size: int  # F
    stride: int  # S
    padding: int  # P
    bias: float
    windows: tuple[Window, ...]
    output: np.ndarray  # Ho×Wo

    @property
    def operation(self) -> str:
        return self.pooling or "conv"

    @property
    def name(self) -> str:
        return POOLING_NAMES[self.pooling] if self.pooling else "convolution"

    def partial_output(self, steps: int) -> np.ndarray:
        """The output grid after the first `steps` windows: cells not computed yet are NaN."""
        out = np.full(self.output.shape, np.nan)
        for window in self.windows[:max(0, steps)]:
            out[window.row, window.col] = window.value
        return out

    def size_formula(self) -> str:
        """The course's 1 + (W − F + 2P)/S for each axis, on these numbers."""
        h, w = self.grid.shape
        ho, wo = self.output.shape
        # written as the catalogue writes it: pooling without padding leaves out the "+ 2·0"
        pad = f" + 2·{self.padding}" if self.padding or not self.pooling else ""
        texts = [f"1 + ({n} − {self.size}{pad})/{self.stride} = " + _rounded(n - self.size + 2 * self.padding,
                                                                            self.stride, out)
                 for n, out in ((h, ho), (w, wo))]
        return texts[0] if texts[0] == texts[1] else f"H: {texts[0]}; W: {texts[1]}"


def _rounded(num: int, stride: int, out: int) -> str:
    """The result as the inspector writes it: "3", or "3.5 → 3 (floor)" when torch floors a fraction."""
    return f"{out}" if num % stride == 0 else f"{1 + num / stride:.4g} → {out} (floor)"


def as_grid(values: GridLike, what: str = "input") -> np.ndarray:
    """A finite 2-D float array of at most MAX_GRID × MAX_GRID, or ValueError naming `what`."""
    try:
        array = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be rows of numbers of equal length") from None
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{what} must be a 2-D grid of numbers, got shape {tuple(array.shape)}")
    if max(array.shape) > MAX_GRID:
        raise ValueError(f"{what} is {array.shape[0]}×{array.shape[1]}: the step-through shows at most "
                         f"{MAX_GRID}×{MAX_GRID} numbers (crop it)")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains a value that is not a finite number")
    return array


def _positive(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in {low}…{high}, got {value!r}")
    return int(value)


def step_through(grid: GridLike, *, kernel: GridLike | None = None, pooling: str | None = None,
                 size: int | None = None, stride: int = 1, padding: int = 0, bias: float = 0.0) -> StepThrough:
    """Slide the window over `grid`: a convolution with `kernel` (F = its size), or `pooling`
    ("max", "average", "l2") with an F = `size` window. Raises ValueError naming what is wrong."""
    x = as_grid(grid)
    if (kernel is None) == (pooling is None):
        raise ValueError("give either a kernel (convolution) or a pooling kind (max, average, l2)")
    k: np.ndarray | None = None
    if kernel is not None:
        k = as_grid(kernel, "kernel")
        if k.shape[0] != k.shape[1]:
            raise ValueError(f"kernel must be square (F×F), got {k.shape[0]}×{k.shape[1]}")
        if size is not None and size != k.shape[0]:
            raise ValueError(f"F = {size} does not match the {k.shape[0]}×{k.shape[0]} kernel")
        size = k.shape[0]
    else:
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        if size is None:
            raise ValueError("pooling needs a window size F")
    size = _positive("F (window size)", size, 1, MAX_GRID)
    stride = _positive("S (stride)", stride, 1, MAX_GRID)
    padding = _positive("P (padding)", padding, 0, MAX_PADDING)
    if pooling and padding > size // 2:
        raise ValueError(f"pooling padding P = {padding} must be at most half the window (F = {size}): "
                         "torch refuses more")
    if not math.isfinite(bias):
        raise ValueError("bias must be a finite number")
    fill = -math.inf if pooling == "max" else 0.0
    padded = np.pad(x, padding, constant_values=fill)
    hp, wp = padded.shape
    if size > min(hp, wp):
        raise ValueError(f"the {size}×{size} window is larger than the padded input ({hp}×{wp}): "
                         "reduce F or add padding")
    ho, wo = (hp - size) // stride + 1, (wp - size) // stride + 1
    windows = []
    output = np.empty((ho, wo))
    for r in range(ho):
        for c in range(wo):
            top, left = r * stride, c * stride
            values = padded[top:top + size, left:left + size].copy()
            window = _compute(r, c, top, left, values, k, pooling, bias)
            windows.append(window)
            output[r, c] = window.value
    return StepThrough(x, padded, k, pooling, size, stride, padding, float(bias), tuple(windows), output)


def _compute(row: int, col: int, top: int, left: int, values: np.ndarray, kernel: np.ndarray | None,
             pooling: str | None, bias: float) -> Window:
    flat = values.ravel()
    products = None
    if kernel is not None:
        products = values * kernel
        value = float(products.sum() + bias)
        terms = tuple(f"{_factor(v)}·{_factor(w)}" for v, w in zip(flat, kernel.ravel()))
    elif pooling == "max":
        value = float(flat.max())
        terms = tuple(fmt_number(v) for v in flat)
    elif pooling == "average":
        value = float(flat.mean())
        terms = tuple(fmt_number(v) for v in flat)
    else:
        value = float(math.sqrt((flat ** 2).sum()))
        terms = tuple(f"{_factor(v)}²" for v in flat)
    return Window(row, col, top, left, values, products, value, terms, pooling or "conv", bias)


# ---------------------------------------------------------------------------------------------
# Parameter sharing


@dataclass(frozen=True)
class ParameterCount:
    """A conv layer's parameters with and without sharing, on the course's example numbers."""

    input: tuple[int, int, int]  # C, H, W
    output: tuple[int, int, int]  # k, Ho, Wo
    size: int
    per_neuron: int  # F·F·D + 1: one neuron's weights and bias
    shared: int  # k filters × per_neuron
    unshared: int  # every one of Ho·Wo·k neurons with its own per_neuron parameters
    bias: bool = True

    @property
    def per_slice_unshared(self) -> int:
        return self.output[1] * self.output[2] * self.per_neuron

    def lines(self) -> list[str]:
        """The counts written out: "each neuron: 11·11·3 + 1 = 364", "with sharing: …", "without …"."""
        (c, _, _), (k, ho, wo), f = self.input, self.output, self.size
        neuron = f"{f}·{f}·{c}" + (" + 1" if self.bias else "")
        return [f"each neuron: {neuron} = {self.per_neuron:,} parameters",
                f"with sharing: {k} filter{'s' if k > 1 else ''} × {self.per_neuron:,} = {self.shared:,}",
                f"without sharing: {ho}·{wo}·{k} neurons × {self.per_neuron:,} = {self.unshared:,}"]


def conv_parameters(input_shape: Sequence[int], size: int, stride: int, padding: int, filters: int,
                    bias: bool = True) -> ParameterCount:
    """Parameter counts of a conv layer with `filters` F×F filters on a C×H×W input (the catalogue's rule)."""
    c, h, w = (int(v) for v in input_shape)
    kind = CATALOGUE["Conv2d"]
    params = kind.resolve({"out_channels": filters, "kernel_size": size, "stride": stride, "padding": padding,
                           "bias": bias})
    try:
        result = kind.infer((c, h, w), params)
    except LayerError as exc:
        raise ValueError(str(exc)) from None
    per_neuron = size * size * c + (1 if bias else 0)
    return ParameterCount((c, h, w), tuple(result.output), size, per_neuron, result.params,  # type: ignore[arg-type]
                          result.params_unshared or result.params, bias)


# ---------------------------------------------------------------------------------------------
# Numbers a person types, and crops of real activations

_SPLIT_ROWS = re.compile(r"[;\n]+")
_SPLIT_NUMBERS = re.compile(r"[\s,]+")


def parse_grid(text: str, what: str = "input") -> np.ndarray:
    """Rows of numbers separated by newlines or ';', numbers by spaces or commas ("1 2; 3 4")."""
    rows = [row.strip() for row in _SPLIT_ROWS.split(text.replace("−", "-")) if row.strip()]
    if not rows:
        raise ValueError(f"{what} is empty: type rows of numbers, e.g. 1 2 3; 4 5 6")
    parsed: list[list[float]] = []
    for i, row in enumerate(rows, 1):
        numbers = []
        for token in _SPLIT_NUMBERS.split(row.strip("[] ")):
            token = token.strip("[]")
            if not token:
                continue
            try:
                numbers.append(float(token))
            except ValueError:
                raise ValueError(f"{what}, row {i}: {token!r} is not a number") from None
        if parsed and len(numbers) != len(parsed[0]):
            raise ValueError(f"{what}, row {i} has {len(numbers)} numbers but row 1 has {len(parsed[0])}")
        parsed.append(numbers)
    return as_grid(parsed, what)


def format_grid(grid: GridLike) -> str:
    """The inverse of parse_grid: one line per row, numbers as fmt_number writes them."""
    return "\n".join(" ".join(fmt_number(v).replace("−", "-") for v in row) for row in np.asarray(grid))


def activation_crop(activations: np.ndarray, channel: int = 0, size: int = 7) -> np.ndarray:
    """A centred size×size crop of one depth slice of a (C, H, W) or (H, W) activation volume."""
    array = np.asarray(activations, dtype=float)
    if array.ndim == 3:
        if not 0 <= channel < array.shape[0]:
            raise ValueError(f"channel {channel} is out of range (the volume has {array.shape[0]})")
        array = array[channel]
    if array.ndim != 2:
        raise ValueError(f"activations must be C×H×W or H×W, got shape {tuple(array.shape)}")
    h, w = array.shape
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return as_grid(array[top:top + size, left:left + size], "activation crop")
