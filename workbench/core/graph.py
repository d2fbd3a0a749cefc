"""A network as a directed acyclic graph over the project's layer list.

A layer may name its inputs (`"inputs": [id, ...]`); without them its input is the previous layer's
output (the network's input, id "input", for the first layer), so a sequential network stays a plain
list. Inputs always come from earlier in the list: the list is a topological order, which is the
order inference, building and export walk. Merge kinds (Add, Concat) take two or more inputs, an
opaque imported part one or more; every other kind exactly one.

Plain functions on lists of layer dicts, free of torch and Qt: the project validates with them, and
inference, build, export, the commands and the builder's drawing (`lanes`, `edges`) read them.
"""
from __future__ import annotations

import builtins
import difflib
import keyword
import re
import uuid
from dataclasses import dataclass
from typing import Iterable, Sequence

INPUT = "input"  # the network's input, as a layer's "inputs" names it
MERGES = ("Add", "Concat")
OPAQUE = "Opaque"  # an imported part with no catalogue kind (catalogue.py): may take several inputs too
SEVERAL_INPUTS = (*MERGES, OPAQUE)
MAX_INPUTS = 64

_AUTO_ID = re.compile(r"^[0-9a-f]{8}$")  # the ids the app makes up (project.new_id): no reading in them
# Short variable names in exported source and the built module (conv1, relu1, add1, ...).
_PREFIX = {"Conv2d": "conv", "ConvTranspose2d": "convt", "MaxPool2d": "pool", "AvgPool2d": "avgpool",
           "LPPool2d": "lppool", "AdaptiveAvgPool2d": "gap", "Linear": "fc", "Flatten": "flat",
           "Unflatten": "unflat", "Upsample": "up", "Corruption": "noise", "LeakyReLU": "lrelu",
           "Dropout": "drop", "BatchNorm1d": "bn", "BatchNorm2d": "bn", "LocalResponseNorm": "lrn",
           "Concat": "cat", "ReLU6": "relu6_"}


def declared_inputs(layers: Sequence[dict], index: int) -> list[str]:
    """The ids layer `index` takes: its "inputs", or the previous layer's id ("input" for the first)."""
    explicit = layers[index].get("inputs")
    if explicit:
        return list(explicit)
    return [layers[index - 1]["id"]] if index > 0 else [INPUT]


def all_inputs(layers: Sequence[dict]) -> list[list[str]]:
    return [declared_inputs(layers, i) for i in range(len(layers))]


def source_indices(layers: Sequence[dict]) -> list[list[int]]:
    """Each layer's inputs as list indices (-1: the network's input). The graph must be valid."""
    where = {layer["id"]: i for i, layer in enumerate(layers)}
    where[INPUT] = -1
    return [[where[s] for s in ids] for ids in all_inputs(layers)]


def is_branched(layers: Sequence[dict]) -> bool:
    """True when the network is more than a chain: some layer names inputs other than its predecessor,
    or merges (an older workbench reads neither, so such a project is written as version 2)."""
    return any(layer["type"] in MERGES or layer.get("inputs") not in (None, _default(layers, i))
               for i, layer in enumerate(layers))


def _default(layers: Sequence[dict], index: int) -> list[str]:
    return [layers[index - 1]["id"]] if index > 0 else [INPUT]


def normalized(layers: Iterable[dict]) -> list[dict]:
    """Copies of the layers without "inputs" where they name just the previous layer (the default)."""
    out = [dict(layer) for layer in layers]
    for i, layer in enumerate(out):
        if "inputs" in layer and layer["inputs"] == _default(out, i):
            del layer["inputs"]
    return out


def structure_error(layers: Sequence[dict]) -> str | None:
    """What makes the list not a valid graph (an unknown or forward input, a cycle, a layer id that
    is the network's input, a non-merge layer with several inputs), naming the layer and the fix;
    None when it is a valid graph. Volumes are inference's business, not this."""
    where = {layer["id"]: i for i, layer in enumerate(layers)}
    for i, layer in enumerate(layers):
        name = f"layer {i} ({layer['type']})"
        if layer["id"] == INPUT:
            return f"{name}: id {INPUT!r} names the network's input; give the layer another id"
        inputs = declared_inputs(layers, i)
        if len(set(inputs)) != len(inputs):
            twice = next(s for s in inputs if inputs.count(s) > 1)
            return f"{name}: input {twice!r} is listed twice; list each input once"
        if layer["type"] not in SEVERAL_INPUTS and len(inputs) != 1:
            return (f"{name}: takes one input but 'inputs' lists {len(inputs)}: merge them with an Add or "
                    f"a Concat first, and give that merge's id here")
        for source in inputs:
            if source == INPUT:
                continue
            j = where.get(source)
            if j is None:
                close = difflib.get_close_matches(source, [*where, INPUT], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return (f"{name}: input {source!r} is no layer of this network{hint}; use {INPUT!r} or the id "
                        f"of an earlier layer")
            if j == i:
                return f"{name}: takes its own output (a cycle); remove {source!r} from its inputs"
            if j > i:
                back = _path(layers, where, j, i)  # j, what j takes, …, i
                if back is not None:
                    loop = " → ".join(f"#{k}" for k in [*reversed(back), i])
                    return (f"{name}: its input {source!r} is layer {j}, which depends on layer {i}: a cycle "
                            f"({loop}); remove one of these connections")
                return (f"{name}: its input {source!r} is layer {j}, which comes after it; a layer takes only "
                        f"earlier layers' outputs: move layer {j} above layer {i}")
    return None


def _path(layers: Sequence[dict], where: dict[str, int], start: int, goal: int) -> list[int] | None:
    """Layer indices from `start` back through inputs to `goal` (start first, goal last), if any."""
    stack, seen = [(start, [start])], {start}
    while stack:
        node, path = stack.pop()
        for source in declared_inputs(layers, node):
            j = where.get(source)
            if j is None or j in seen:
                continue
            if j == goal:
                return [*path, goal]
            seen.add(j)
            stack.append((j, [*path, j]))
    return None


def bypass(sources: Sequence[Sequence[int]], layer: int) -> tuple[int, int] | None:
    """A connection (taker, source) that jumps over layer `layer`: into a later layer from an earlier
    one (-1: the input), as a U-Net's skips jump over its code. None when everything after `layer`
    reads only `layer` and what follows it."""
    return next(((i, j) for i, srcs in enumerate(sources) if i > layer for j in srcs if j < layer), None)


def without(layers: Sequence[dict], ids: Iterable[str]) -> list[dict]:
    """The layers less `ids`, each taker of a removed layer's output reconnected to what that layer
    took (a one-input layer keeps the first of them), normalized. The way to delete a layer on a
    branch: the branch closes over the gap."""
    gone = set(ids)
    inputs = dict(zip((layer["id"] for layer in layers), all_inputs(layers)))

    def through(source: str) -> list[str]:
        if source not in gone:
            return [source]
        return [s for upstream in inputs[source] for s in through(upstream)]

    kept = []
    for layer in layers:
        if layer["id"] in gone:
            continue
        rewired = list(dict.fromkeys(s for source in inputs[layer["id"]] for s in through(source)))
        if layer["type"] not in SEVERAL_INPUTS:
            rewired = rewired[:1]
        kept.append({**layer, "inputs": rewired or [INPUT]})
    return normalized(kept)


def with_inputs(layers: Sequence[dict], index: int, inputs: list[str]) -> list[dict]:
    """The layers with layer `index` taking `inputs`, every other layer keeping its inputs, normalized."""
    explicit = [{**layer, "inputs": declared_inputs(layers, i)} for i, layer in enumerate(layers)]
    explicit[index]["inputs"] = list(inputs)
    return normalized(explicit)


def pinned(layers: Sequence[dict]) -> list[dict]:
    """The layers with every input named: a reordering or insertion then keeps all connections."""
    return [{**layer, "inputs": declared_inputs(layers, i)} for i, layer in enumerate(layers)]


def renew_ids(layers: Sequence[dict], make_id=lambda: uuid.uuid4().hex[:8]) -> list[dict]:
    """Copies with fresh ids, inputs renamed to match (two loads of one template share no id)."""
    fresh = {layer["id"]: make_id() for layer in layers}
    fresh[INPUT] = INPUT
    out = []
    for layer in layers:
        copy = {**layer, "id": fresh[layer["id"]]}
        if "inputs" in layer:
            copy["inputs"] = [fresh[s] for s in layer["inputs"]]
        out.append(copy)
    return out


def variable_names(layers: Sequence[dict], taken: Iterable[str] = ()) -> list[str]:
    """A Python identifier per layer, for exported source and the built module's attributes: the
    layer's id when it reads as a name ("b1_conv1"), else its kind numbered in order ("conv2")."""
    used = {INPUT, "x", "self", "torch", "nn", *taken, *keyword.kwlist, *dir(builtins)}
    names: list[str] = []
    counts: dict[str, int] = {}
    readable = [layer["id"] for layer in layers if layer["id"].isidentifier() and not layer["id"].startswith("_")
                and not _AUTO_ID.match(layer["id"]) and layer["id"] not in used]
    used.update(readable)
    for layer in layers:
        if layer["id"] in readable:
            names.append(layer["id"])
            continue
        prefix = _PREFIX.get(layer["type"], layer["type"].lower())
        while True:
            counts[prefix] = counts.get(prefix, 0) + 1
            name = f"{prefix}{counts[prefix]}"
            if name not in used:
                break
        used.add(name)
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------------
# Drawing: where each card goes, and the connections between them


@dataclass(frozen=True)
class Place:
    """A card's cell in the builder's grid: `row` top to bottom (the input card is row 0), `lane`
    left to right (the main line, which ends at the network's output, is lane 0)."""

    row: int
    lane: int


@dataclass(frozen=True)
class Edge:
    """One connection: layer `source` (-1: the input) feeds input number `slot` of layer `target`.
    `skip` when it is not drawn as the plain arrow between neighbouring cards of one lane."""

    source: int
    target: int
    slot: int
    skip: bool


def lanes(layers: Sequence[dict]) -> list[Place]:
    """Each layer's cell for drawing branches side by side. A layer sits one row below the lowest
    of its inputs, so parallel branches share rows; it stays in its first input's lane when it is
    that input's main successor (the one on the path to the output, else the first to take it),
    and otherwise opens the nearest lane to the right that is free along its rows. A chain is one
    lane, row = index + 1. The graph must be valid."""
    sources = source_indices(layers)
    rows: list[int] = []
    for srcs in sources:
        rows.append(1 + max((rows[j] if j >= 0 else 0) for j in srcs))
    main_line = set()
    node = len(layers) - 1
    while node >= 0:
        main_line.add(node)
        node = sources[node][0]
    successor: dict[int, int] = {}  # first input -> the taker that continues its lane
    for i, srcs in enumerate(sources):
        first = srcs[0]
        if first not in successor or (i in main_line and successor[first] not in main_line):
            successor[first] = i
    taken: set[tuple[int, int]] = {(0, 0)}
    lane_of = {-1: 0}
    places: list[Place] = []
    for i, srcs in enumerate(sources):
        first = srcs[0]
        start = rows[first] + 1 if first >= 0 else 1
        lane = lane_of[first] if successor.get(first) == i else lane_of[first] + 1
        while any((lane, r) in taken for r in range(start, rows[i] + 1)):
            lane += 1
        taken.update((lane, r) for r in range(start, rows[i] + 1))
        lane_of[i] = lane
        places.append(Place(rows[i], lane))
    return places


def edges(layers: Sequence[dict], places: Sequence[Place] | None = None) -> list[Edge]:
    """Every connection, in layer order; `skip` unless source and target are neighbours in one lane."""
    places = list(places) if places is not None else lanes(layers)
    where = [Place(0, 0), *places]  # where[j + 1]: -1 is the input card
    out = []
    for i, srcs in enumerate(source_indices(layers)):
        for slot, j in enumerate(srcs):
            a, b = where[j + 1], places[i]
            out.append(Edge(j, i, slot, not (a.lane == b.lane and b.row == a.row + 1)))
    return out
