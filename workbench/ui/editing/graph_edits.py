"""What the builder's gestures mean on a network with branches, as core commands.

A drop lands on a connection (`Spot`): before a card, on the input nearest the pointer; after a
card, on the connection to the card that continues its lane. A new layer goes onto that
connection (`InsertOnEdge`), moved cards are taken out where they were and put there
(`MoveOnEdge`): list order alone would leave a layer dangling between two branches. A connection
dragged from a card's output ends on a merge (`Connect`) or on a later card, which gets a new merge
after it (`AddSkip`: an Add for the same volume, a Concat when only H×W agree).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from workbench.core import graph
from workbench.core.commands import AddSkip, Command, Connect, InsertLayers, InsertOnEdge, MoveOnEdge
from workbench.core.project import Project
from workbench.core.summary import Summary

Build = Callable[[Project], Command]


@dataclass(frozen=True)
class Spot:
    """A place for layers: on the connection `source` → `target`; with `target` None, just after
    `source` (the network's last layer, or the end of a branch that goes nowhere yet)."""

    source: str  # a layer id, or graph.INPUT
    target: str | None


def insert(spot: Spot, layer: dict) -> Build:
    if spot.target is not None:
        return lambda p: InsertOnEdge(p, spot.source, spot.target, [layer])  # type: ignore[arg-type]

    def after(p: Project) -> Command:
        at = 0 if spot.source == graph.INPUT else p.index_of(spot.source) + 1
        return InsertLayers(p, at, [{**layer, "inputs": [spot.source]}])
    return after


def move(ids: list[str], spot: Spot) -> Build | None:
    """None when the layers are already there (a drop next to itself changes nothing)."""
    if spot.source in ids or spot.target in ids:
        return None
    return lambda p: MoveOnEdge(p, ids, spot.source, spot.target)


def connect(summary: Summary, source: int, target: int) -> Build:
    """Layer `source`'s output (-1: the input) into layer `target`: a merge takes it as one more
    input; any other layer gets a skip connection, merged just after it."""
    rows = summary["layers"]
    source_id = graph.INPUT if source < 0 else rows[source]["id"]
    row = rows[target]
    if row["type"] in graph.MERGES:
        return lambda p: Connect(p, source_id, row["id"])
    given = summary["input"] if source < 0 else rows[source]["output"]
    here = row["output"]
    concat = (given is not None and here is not None and given != here and len(given) == len(here) == 3
              and given[1:] == here[1:])
    return lambda p: AddSkip(p, source_id, row["id"], "Concat" if concat else "Add")


def made(command: Command) -> list[str]:
    """The layer ids a command made or moved, to select them (a new merge, inserted layers)."""
    if isinstance(command, AddSkip):
        return [command.merge_layer]
    if isinstance(command, (InsertLayers, InsertOnEdge)):
        return list(command.ids)
    return []
