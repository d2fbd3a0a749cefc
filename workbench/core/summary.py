"""What `workbench.core.inference.summarize` returns, as types: a misspelt key is a type error
(mypy, run by tests/test_types.py). At run time these are plain dicts: `workbench summary --json`
prints them as they are.
"""
from __future__ import annotations

from typing import Literal, TypedDict

from workbench.core.catalogue import fmt_shape

Status = Literal["ok", "warning", "error", "unknown"]


class LayerRow(TypedDict):
    """One layer. After the first error, later layers' numbers are None and their status "unknown"."""

    index: int
    id: str
    type: str
    label: str              # "Conv 3×3, 16" : the catalogue's short description
    output: list[int] | None  # [C, H, W] or [N]
    params: int | None
    params_unshared: int | None  # as if no weight were shared (a fully connected equivalent)
    macs: int | None
    memory: int | None      # bytes of the layer's output per sample (float32)
    receptive_field: int | None
    status: Status
    message: str            # the error or warnings, "" when ok
    formula: str            # how the output size follows from the input


class Summary(TypedDict):
    input: list[int]
    layers: list[LayerRow]
    total_params: int
    total_params_unshared: int
    total_macs: int
    total_memory: int
    output: list[int] | None
    first_error: int | None


def output_shapes(summary: Summary) -> list[list[int]]:
    """Each layer's output shape, for a network without errors (callers check `first_error` first;
    a ValueError names the layer whose shape is unknown)."""
    shapes = []
    for row in summary["layers"]:
        if row["output"] is None:
            raise ValueError(f"layer {row['index']} ({row['type']}): output shape unknown: {row['message']}")
        shapes.append(row["output"])
    return shapes


def fmt_count(n: int | None) -> str:
    """A count for people: "34,944", or "?" when an error upstream leaves it unknown."""
    return "?" if n is None else f"{n:,}"


def fmt_output(shape: list[int] | None) -> str:
    """An output shape for people: "27×27×256", or "?" when it is unknown."""
    return "?" if shape is None else fmt_shape(tuple(shape))
