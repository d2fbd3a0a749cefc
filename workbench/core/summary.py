"""What `workbench.core.inference.summarize` returns, as types: a misspelt key is a type error
(mypy, run by tests/test_types.py). At run time these are plain dicts: `workbench summary --json`
prints them as they are.
"""
from __future__ import annotations

from typing import Literal, TypedDict

from workbench.core.catalogue import fmt_shape
from workbench.core.graph import INPUT

Status = Literal["ok", "warning", "error", "unknown"]


class LayerRow(TypedDict):
    """One layer. A layer downstream of an error has numbers None and status "unknown"."""

    index: int
    id: str
    type: str
    inputs: list[str]       # the ids of the layers it takes ("input": the network's input), in order
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


def input_index(summary: Summary, index: int) -> int:
    """The layer whose output layer `index` takes (a merge's first input); -1: the network's input."""
    first = summary["layers"][index]["inputs"][0]
    return -1 if first == INPUT else next(r["index"] for r in summary["layers"] if r["id"] == first)


def input_shape(summary: Summary, index: int) -> list[int] | None:
    """The shape that flows into layer `index` (None when an error upstream leaves it unknown)."""
    source = input_index(summary, index)
    return list(summary["input"]) if source < 0 else summary["layers"][source]["output"]


def input_shapes(summary: Summary) -> list[tuple[int, ...]]:
    """The shape each layer takes (a merge: its first input's), for a network without errors."""
    outputs = dict(zip((r["id"] for r in summary["layers"]), output_shapes(summary)))
    outputs[INPUT] = summary["input"]
    return [tuple(outputs[r["inputs"][0]]) for r in summary["layers"]]


def row_sources(summary: Summary) -> list[list[int]]:
    """Each layer's inputs as layer indices (-1: the network's input), as graph.source_indices."""
    where = {row["id"]: row["index"] for row in summary["layers"]}
    where[INPUT] = -1
    return [[where.get(s, -1) for s in row["inputs"]] for row in summary["layers"]]


def fmt_count(n: int | None) -> str:
    """A count for people: "34,944", or "?" when an error upstream leaves it unknown."""
    return "?" if n is None else f"{n:,}"


def fmt_output(shape: list[int] | None) -> str:
    """An output shape for people: "27×27×256", or "?" when it is unknown."""
    return "?" if shape is None else fmt_shape(tuple(shape))


def fmt_inputs(summary: Summary, row: LayerRow, volumes: bool = True) -> str:
    """A layer's inputs by card number and volume, for people: "#7 (32×32×16), #2 (32×32×16)"
    (without volumes: "#7, #2")."""
    layers = summary["layers"]

    def text(source: str) -> str:
        if source == INPUT:
            return f"input ({fmt_output(summary['input'])})" if volumes else "input"
        before = row["index"] - 1  # most often the layer just before: no search (1,000-layer tables)
        found = layers[before] if before >= 0 and layers[before]["id"] == source else \
            next((r for r in layers if r["id"] == source), None)
        if found is None:
            return source
        return f"#{found['index']} ({fmt_output(found['output'])})" if volumes else f"#{found['index']}"

    return ", ".join(text(source) for source in row["inputs"])
