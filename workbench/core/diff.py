"""Two architectures side by side, layer by layer: which layers are the same, changed, added or removed,
and what changed (volume, parameters, MACs, receptive field, settings).

    rows, matched_by = diff_summaries(summarize(a), summarize(b))

Layers are matched by id: a network edited in the window keeps its layers' ids, so a layer whose
kernel grew is "changed", one inserted is "added". Two networks that share no id (two runs of a
template, each given fresh ids) are matched by type and position instead, and `matched_by` says so.
"""
from __future__ import annotations

import difflib
from typing import Literal, TypedDict

from workbench.core.summary import LayerRow, Summary

DiffStatus = Literal["same", "changed", "added", "removed"]
COMPARED = ("type", "label", "output", "params", "macs", "receptive_field")  # what `changes` may name


class LayerDiff(TypedDict):
    status: DiffStatus
    a: LayerRow | None      # the layer in the first network (None: added)
    b: LayerRow | None      # in the second (None: removed)
    changes: list[str]      # the keys of COMPARED that differ ("label" covers the settings)


def _pair(a: LayerRow, b: LayerRow) -> LayerDiff:
    changes = [key for key in COMPARED if a[key] != b[key]]  # type: ignore[literal-required]  # COMPARED keys
    return {"status": "changed" if changes else "same", "a": a, "b": b, "changes": changes}


def diff_summaries(a: Summary, b: Summary) -> tuple[list[LayerDiff], Literal["id", "type"]]:
    """The layers of both, in order (b's order, a's removed layers where they stood), and how they were
    matched: "id", or "type" when the networks share no layer id."""
    rows_a, rows_b = a["layers"], b["layers"]
    shared_ids = {r["id"] for r in rows_a} & {r["id"] for r in rows_b}
    by: Literal["id", "type"] = "id" if shared_ids else "type"
    keys_a = [r["id"] if by == "id" else r["type"] for r in rows_a]
    keys_b = [r["id"] if by == "id" else r["type"] for r in rows_b]
    out: list[LayerDiff] = []
    matcher = difflib.SequenceMatcher(a=keys_a, b=keys_b, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            out.extend(_pair(rows_a[i], rows_b[j]) for i, j in zip(range(a0, a1), range(b0, b1)))
            continue
        paired = 0
        if by == "type" and op == "replace":  # by position: a layer swapped for another kind is changed
            paired = min(a1 - a0, b1 - b0)
            out.extend(_pair(rows_a[a0 + k], rows_b[b0 + k]) for k in range(paired))
        out.extend({"status": "removed", "a": r, "b": None, "changes": []} for r in rows_a[a0 + paired:a1])
        out.extend({"status": "added", "a": None, "b": r, "changes": []} for r in rows_b[b0 + paired:b1])
    return out, by
