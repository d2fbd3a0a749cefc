"""The builder's view of a network with branches: where its cards and connections go (graph_layout),
which connection a drop at a point lands on, and what a merge card says.

Free of widgets: the builder asks it with points in its content coordinates and paints what it
returns. A chain never gets here; the builder lays it out as text, as it always has.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from workbench.core import graph
from workbench.core.summary import LayerRow, Summary, fmt_output
from workbench.ui.editing.graph_edits import Spot
from workbench.ui.editing.graph_layout import Box, Layout, Metrics, Route, layout


def drawn_as_graph(rows: Sequence[LayerRow]) -> bool:
    """A network with branches or merges, and a valid graph (the core refuses any other edit)."""
    return graph.is_branched(rows) and graph.structure_error(rows) is None  # type: ignore[arg-type]


@dataclass
class GraphView:
    """The geometry of one summary at one width; made again after each edit or resize."""

    rows: list[LayerRow]
    edges: list[graph.Edge]
    layout: Layout
    metrics: Metrics

    @classmethod
    def arrange(cls, summary: Summary, widths: Sequence[int], metrics: Metrics, avail: int) -> GraphView:
        """`widths[0]`: the Input card's width, `widths[i + 1]`: layer i's."""
        rows = summary["layers"]
        places = graph.lanes(rows)  # type: ignore[arg-type]
        edges = graph.edges(rows, places)  # type: ignore[arg-type]
        return cls(list(rows), edges, layout(places, edges, widths, metrics, avail), metrics)

    def id_of(self, index: int) -> str:
        return graph.INPUT if index < 0 else self.rows[index]["id"]

    def box_at(self, x: float, y: float) -> int | None:
        """The card (layer index, -1: the Input card) whose column, widened by half the gap on each
        side, holds the point."""
        half = self.metrics.gap / 2
        for k, box in enumerate(self.layout.boxes):
            if box.x - half <= x < box.right + half and box.y <= y < box.bottom:
                return k - 1
        return None

    def spot_at(self, x: float, y: float) -> Spot | None:
        """Where a drop at a point goes: before a card, on its input nearest the pointer; after a card,
        on the connection to the card that continues its lane (or its only one); past every card,
        after the network's last layer. None between lanes, where a drop would be a guess."""
        index = self.box_at(x, y)
        if index is None:
            last = self.layout.boxes[-1]
            if not self.rows or y >= last.bottom or (y >= last.y and x >= last.right):
                return Spot(self.id_of(len(self.rows) - 1), None)
            return None
        box = self.layout.box(index)
        if index >= 0 and x < box.x + box.w / 2:
            port = min((p for p in self.layout.ports if p.target == index), key=lambda p: abs(p.y - y))
            return Spot(self.id_of(port.source), self.id_of(index))
        return self.spot_after(index)

    def spot_after(self, index: int) -> Spot:
        """Just after layer `index` (-1: the input): on the connection that continues its lane."""
        leaving = [e for e in self.edges if e.source == index]
        plain = [e for e in leaving if not e.skip] or leaving
        return Spot(self.id_of(index), self.id_of(plain[0].target) if plain else None)

    def routes_of(self, spot: Spot) -> list[Route]:
        """The drawn pieces of the connection a spot lies on (none for a spot after the last layer)."""
        if spot.target is None:
            return []
        source = -1 if spot.source == graph.INPUT else self._index(spot.source)
        target = self._index(spot.target)
        return [r for r in self.layout.routes if r.source == source and r.target == target]

    def _index(self, layer_id: str) -> int:
        return next(r["index"] for r in self.rows if r["id"] == layer_id)

    def end_box(self, spot: Spot) -> Box:
        return self.layout.box(-1 if spot.source == graph.INPUT else self._index(spot.source))


def merge_text(row: LayerRow, summary: Summary) -> str:
    """What a merge card says under its volume: the volumes it takes. An Add of equal volumes
    "2 × 32×32×16"; a Concat of equal H×W "28×28×(64+128+32+32)"; else each volume."""
    shape_of = {r["id"]: r["output"] for r in summary["layers"]}
    shape_of[graph.INPUT] = summary["input"]
    shapes = [shape_of.get(source) for source in row["inputs"]]
    known = [shape for shape in shapes if shape is not None]
    if len(known) < len(shapes):
        return "inputs ?"
    texts = [fmt_output(shape) for shape in known]
    if row["type"] == "Add" and len(set(texts)) == 1:
        return f"{len(texts)} × {texts[0]}"
    if row["type"] == "Concat" and all(len(s) == 3 for s in known) and len({tuple(s[1:]) for s in known}) == 1:
        h, w = known[0][1:]
        return f"{h}×{w}×(" + "+".join(str(s[0]) for s in known) + ")"
    return (" + " if row["type"] == "Add" else ", ").join(texts)
