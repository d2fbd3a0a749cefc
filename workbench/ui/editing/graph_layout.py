"""Where the builder puts each card, and the path of each connection between cards.

The core's `graph.lanes` gives every layer a cell: its row (one step after the lowest of its
inputs) and its lane (0: the main line to the output). The builder turns rows into columns that
flow left to right and wrap into bands like text, and stacks the lanes of a band one above the
other, so parallel branches sit side by side in the same columns. A chain is one lane: its cards
flow and wrap exactly as plain text would.

Connections: the plain arrow between neighbours of one lane; an elbow through the gap between two
columns when a branch leaves or joins a lane; a straight run along a lane that is empty between its
ends (an Inception branch reaching its Concat); otherwise a skip arc through a channel above the
lane, on a track of its own (a ResNet shortcut over its block). A connection that leaves its band
is drawn to the band's edge and taken up again at the start of the target's band, each end
labelled with the card at the other end ("→ #30", "#24 →").

Plain geometry in pixels, free of Qt, so it is fast and testable: a 1,000-layer chain lays out in
a few milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from workbench.core.graph import Edge, Place

Point = tuple[float, float]


@dataclass(frozen=True)
class Metrics:
    """Sizes in pixels (they scale with the font)."""

    card_h: int
    gap: int        # between columns, and between bands
    lane_gap: int   # between two lanes of a band (the channel, if any, comes on top)
    margin: int
    top: int        # the first band's top
    track: int      # distance between two skip tracks of a channel
    port_dy: int    # a port's height below its card's top
    port_step: int  # between the input ports of a merge
    tag_char: float = 7.0  # the width of one character of a tag ("→ #30"), for the room it takes


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x < self.right and self.y <= y < self.bottom


@dataclass(frozen=True)
class Route:
    """One drawn connection, or one end of a connection continued across bands. `points` run from
    the source's output (or a band's edge) to the target's input port (or a band's edge)."""

    source: int    # layer index, -1: the network's input
    target: int
    slot: int      # which input of the target
    points: tuple[Point, ...]
    skip: bool     # not the plain arrow between neighbours of one lane
    label: str = ""          # the other end's card ("→ #30" at a band's end, "#24 →" at a band's start)
    arrow: bool = True       # ends in an arrowhead (it reaches its target, or runs on in the next band)
    from_card: bool = True   # starts at its source's output (else at the start of a band)

    def bounds(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class Port:
    """Where input `slot` of layer `target` enters its card (the end of the route that feeds it)."""

    target: int
    slot: int
    source: int
    x: float
    y: float


@dataclass
class Layout:
    boxes: list[Box]       # boxes[0]: the Input card; boxes[i + 1]: layer i
    routes: list[Route]
    ports: list[Port]
    width: int
    height: int

    def box(self, index: int) -> Box:
        """The card of layer `index` (-1: the Input card)."""
        return self.boxes[index + 1]


@dataclass
class _Plan:
    """A connection before coordinates: how it goes, and on which channel tracks."""

    edge: Edge
    kind: str              # "straight", "elbow", "along_source", "along_target", "channel", "wrapped"
    channel: tuple[int, int] = (0, 0)     # (band, lane) of the channel above that lane, if it runs in one
    track: int = 0
    channel_in: tuple[int, int] = (0, 0)  # a wrapped connection's second channel, in the target's band
    track_in: int = 0


def _cut_costs(cells: Sequence[Place], edges: Sequence[Edge], columns: int) -> list[int]:
    """cost[c]: how many connections a band break just before column c would cut."""
    starts, ends = [0] * (columns + 1), [0] * (columns + 1)
    for edge in edges:
        starts[cells[edge.source + 1].row + 1] += 1
        ends[cells[edge.target + 1].row + 1] += 1
    cost, running = [0] * columns, 0
    for c in range(columns):
        running += starts[c] - ends[c]
        cost[c] = running
    return cost


def _bands(col_w: Sequence[int], cost: Sequence[int], m: Metrics, avail: int) -> list[list[int]]:
    """Columns into bands, as words into lines: a band breaks before the first column that does not
    fit, as text does, unless a break in its second half cuts at least two connections fewer (an
    Inception block then starts a band whole, rather than its stem ending one alone); a band of
    three columns or fewer always takes all that fit. A chain breaks as text does."""
    bands: list[list[int]] = []
    start, columns = 0, len(col_w)
    while start < columns:
        x, end = m.margin, start
        while end < columns and (end == start or x + col_w[end] <= avail - m.margin):
            x += col_w[end] + m.gap
            end += 1
        if end < columns and end - start >= 3:  # break before `end`, or earlier where much fewer connections cross
            first = start + max(2, (end - start + 1) // 2)
            best = min(range(first, end + 1), key=lambda c: (cost[c], -c))
            end = best if cost[best] <= cost[end] - 2 else end
        bands.append(list(range(start, end)))
        start = end
    return bands


def layout(places: Sequence[Place], edges: Sequence[Edge], widths: Sequence[int], metrics: Metrics,
           avail: int) -> Layout:
    """Boxes and routes for cards of `widths` (widths[0]: the Input card; widths[i + 1]: layer i),
    wrapping columns into bands at `avail` pixels."""
    m = metrics
    cells = [Place(0, 0), *places]  # cells[k]: card k (0: the Input card)
    columns = 1 + max((p.row for p in places), default=0)
    col_w = [0] * columns
    for k, cell in enumerate(cells):
        col_w[cell.row] = max(col_w[cell.row], widths[k])

    band_cols = _bands(col_w, _cut_costs(cells, edges, columns), m, avail)
    bands = len(band_cols)
    band_of = [0] * columns
    col_x = [0] * columns
    for band, cols in enumerate(band_cols):
        x = m.margin
        for c in cols:
            band_of[c], col_x[c] = band, x
            x += col_w[c] + m.gap
    band_lanes = [1] * bands
    occupied = set()
    for cell in cells:
        band_lanes[band_of[cell.row]] = max(band_lanes[band_of[cell.row]], cell.lane + 1)
        occupied.add((cell.row, cell.lane))

    def x_out(c: int) -> float:  # where a connection leaving column c turns
        return col_x[c] + col_w[c] + m.gap * 0.35

    def x_in(c: int) -> float:  # where a connection entering column c turns
        return col_x[c] - m.gap * 0.35

    def band_end(b: int) -> float:
        last = band_cols[b][-1]
        return min(col_x[last] + col_w[last] + m.gap * 0.8, max(avail, col_x[last] + col_w[last] + m.margin) - 2)

    def band_start(b: int) -> float:
        return max(2.0, col_x[band_cols[b][0]] - m.gap * 0.8)

    def free(lane: int, first: int, last: int) -> bool:
        return not any((c, lane) in occupied for c in range(first, last + 1))

    # how each connection goes; channel intervals per (band, lane)
    plans: list[_Plan] = []
    # a channel's runs: {group: [start, end, (plan, second half?) ...]}; the wrapped connections of one
    # source (at its band's end) or into one target (at its band's start) share a run and a tag
    intervals: dict[tuple[int, int], dict[tuple, list]] = {}

    def run(channel: tuple[int, int], group: tuple, start: float, end: float, plan: _Plan, second: bool) -> None:
        found = intervals.setdefault(channel, {}).setdefault(group, [start, end])
        found[0], found[1] = min(found[0], start), max(found[1], end)
        found.append((plan, second))

    for edge in edges:
        src, dst = cells[edge.source + 1], cells[edge.target + 1]
        ba, bb = band_of[src.row], band_of[dst.row]
        if not edge.skip:
            plans.append(_Plan(edge, "straight" if ba == bb or src.lane == 0 else "wrapped_lane"))
            continue
        if ba != bb:
            plan = _Plan(edge, "wrapped", channel=(ba, src.lane), channel_in=(bb, dst.lane))
        elif dst.row == src.row + 1:
            plan = _Plan(edge, "elbow")
        elif free(src.lane, src.row + 1, dst.row - 1):
            plan = _Plan(edge, "along_source")
        elif free(dst.lane, src.row + 1, dst.row - 1):
            plan = _Plan(edge, "along_target")
        else:
            lane = src.lane if src.lane == dst.lane else max(src.lane, dst.lane)
            plan = _Plan(edge, "channel", channel=(ba, lane))
            run((ba, lane), ("skip", len(plans)), x_out(src.row), x_in(dst.row), plan, False)
        plans.append(plan)

    # the tag of each shared run: "→ #8 #15" at a source's band end, "#4 #8 #12 →" at a target's band start
    feeds: dict[int, list[str]] = {}
    fed_by: dict[int, list[str]] = {}
    for plan in plans:
        if plan.kind == "wrapped":
            e = plan.edge
            feeds.setdefault(e.source, []).append(f"#{e.target}")
            fed_by.setdefault(e.target, []).append("input" if e.source < 0 else f"#{e.source}")
    tags = {("from", k): "→ " + " ".join(names) for k, names in feeds.items()}
    tags.update({("into", k): " ".join(names) + " →" for k, names in fed_by.items()})

    def tag_w(key: tuple) -> float:
        return len(tags[key]) * m.tag_char + 8

    for plan in plans:  # a tag sits left of the corner where its run leaves a card, right of a band's start
        if plan.kind == "wrapped":
            e, src, dst = plan.edge, cells[plan.edge.source + 1], cells[plan.edge.target + 1]
            run(plan.channel, ("from", e.source), x_out(src.row) - tag_w(("from", e.source)) - 3,
                band_end(band_of[src.row]), plan, False)
            run(plan.channel_in, ("into", e.target), band_start(band_of[dst.row]),
                max(x_in(dst.row), band_start(band_of[dst.row]) + tag_w(("into", e.target))), plan, True)

    # tracks: overlapping runs of one channel take different tracks (interval colouring)
    tracks_of: dict[tuple[int, int], int] = {}
    for key, groups in intervals.items():
        ends: list[float] = []
        for start, end, *members in sorted(groups.values(), key=lambda r: (r[0], r[1])):
            track = next((t for t, e in enumerate(ends) if e < start - m.track), len(ends))
            if track == len(ends):
                ends.append(end)
            else:
                ends[track] = end
            for plan, second in members:
                if second:
                    plan.track_in = track
                else:
                    plan.track = track
        tracks_of[key] = len(ends)

    def channel_h(b: int, lane: int) -> int:
        n = tracks_of.get((b, lane), 0)
        return n * m.track + m.track // 2 + 2 if n else 0

    # vertical positions: each band's lanes, each with its channel on top
    lane_top: list[list[int]] = []
    y = m.top
    for b in range(bands):
        tops = []
        for lane in range(band_lanes[b]):
            y += channel_h(b, lane)
            tops.append(y)
            y += m.card_h + (m.lane_gap if lane + 1 < band_lanes[b] else 0)
        lane_top.append(tops)
        y += m.gap

    boxes = []
    for k, cell in enumerate(cells):
        c = cell.row
        boxes.append(Box(col_x[c] + (col_w[c] - widths[k]) // 2, lane_top[band_of[c]][cell.lane], widths[k], m.card_h))

    def track_y(channel: tuple[int, int], track: int) -> float:
        b, lane = channel
        return lane_top[b][lane] - (track + 1) * m.track

    def out_point(source: int) -> Point:
        box = boxes[source + 1]
        return box.right, box.y + m.port_dy

    # the y each connection arrives at before it turns into its target (sorts a merge's ports)
    def approach(plan: _Plan) -> float:
        if plan.kind == "channel":
            return track_y(plan.channel, plan.track)
        if plan.kind == "wrapped":
            return track_y(plan.channel_in, plan.track_in)
        if plan.kind in ("along_target", "wrapped_lane"):
            return boxes[plan.edge.target + 1].y + m.port_dy
        return out_point(plan.edge.source)[1]

    incoming: dict[int, list[_Plan]] = {}
    for plan in plans:
        incoming.setdefault(plan.edge.target, []).append(plan)
    port_y: dict[tuple[int, int], float] = {}
    for target, feeding in incoming.items():
        if len(feeding) > 1:
            feeding.sort(key=lambda p: (approach(p), p.edge.slot))
        box = boxes[target + 1]
        for rank, plan in enumerate(feeding):
            port_y[(target, plan.edge.slot)] = box.y + m.port_dy + (rank - (len(feeding) - 1) / 2) * m.port_step

    routes: list[Route] = []
    ports: list[Port] = []
    for plan in plans:
        e = plan.edge
        src, dst = cells[e.source + 1], cells[e.target + 1]
        sx, sy = out_point(e.source)
        tx, ty = boxes[e.target + 1].x, port_y[(e.target, e.slot)]
        ports.append(Port(e.target, e.slot, e.source, tx, ty))
        if plan.kind == "straight":
            if band_of[src.row] != band_of[dst.row]:
                continue  # a lane wrapping to the next band reads on, as text does
            if abs(sy - ty) < 0.5:
                points: tuple[Point, ...] = ((sx, sy), (tx, ty))
            else:
                mid = (col_x[dst.row] + col_x[src.row] + col_w[src.row]) / 2
                points = ((sx, sy), (mid, sy), (mid, ty), (tx, ty))
        elif plan.kind == "wrapped_lane":  # a branch wrapping to the next band: short stubs at both edges
            routes.append(Route(e.source, e.target, e.slot, ((sx, sy), (band_end(band_of[src.row]), sy)), False))
            routes.append(Route(e.source, e.target, e.slot, ((band_start(band_of[dst.row]), ty), (tx, ty)), False,
                                from_card=False))
            continue
        elif plan.kind == "elbow":
            mid = (col_x[dst.row] + col_x[src.row] + col_w[src.row]) / 2
            points = ((sx, sy), (mid, sy), (mid, ty), (tx, ty))
        elif plan.kind == "along_source":
            turn = x_in(dst.row)
            points = ((sx, sy), (turn, sy), (turn, ty), (tx, ty)) if abs(sy - ty) >= 0.5 else ((sx, sy), (tx, ty))
        elif plan.kind == "along_target":
            turn = x_out(src.row)
            points = ((sx, sy), (turn, sy), (turn, ty), (tx, ty))
        elif plan.kind == "channel":
            cy, x0, x1 = track_y(plan.channel, plan.track), x_out(src.row), x_in(dst.row)
            points = ((sx, sy), (x0, sy), (x0, cy), (x1, cy), (x1, ty), (tx, ty))
        else:  # wrapped: to the end of the source's band, and on from the start of the target's band
            cy, x0, end = track_y(plan.channel, plan.track), x_out(src.row), band_end(band_of[src.row])
            routes.append(Route(e.source, e.target, e.slot, ((sx, sy), (x0, sy), (x0, cy), (end, cy)), True,
                                tags.pop(("from", e.source), "")))
            cy, start, x1 = track_y(plan.channel_in, plan.track_in), band_start(band_of[dst.row]), x_in(dst.row)
            routes.append(Route(e.source, e.target, e.slot, ((start, cy), (x1, cy), (x1, ty), (tx, ty)), True,
                                tags.pop(("into", e.target), ""), from_card=False))
            continue
        routes.append(Route(e.source, e.target, e.slot, points, e.skip))

    width = max((col_x[c] + col_w[c] for c in range(columns)), default=0) + m.margin
    return Layout(boxes, routes, ports, width, y - m.gap + m.margin)
