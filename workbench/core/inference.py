"""Analytic shape, parameter, MAC and receptive-field inference: no forward pass.

`summarize` runs on every keystroke in the builder, so it only does arithmetic on the catalogue's
rules (well under a millisecond for 50 layers; see benchmarks/inference_speed.py). Tests check the
rules against real torch modules.
"""
from __future__ import annotations

import math

from workbench.core.catalogue import CATALOGUE, LayerError, Shape, fmt_shape
from workbench.core.graph import INPUT, declared_inputs
from workbench.core.project import Project
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import LayerRow, Summary, fmt_count, fmt_output

BYTES_PER_VALUE = 4  # float32 activations


def _field_text(rf: float) -> int:
    return max(1, round(rf))


Field = dict[float, float]  # per path: the input distance between adjacent outputs -> receptive field


def _grow(fields: Field, how: tuple[int, float] | str | None, whole: float) -> Field:
    if how is None:
        return fields
    if isinstance(how, str):  # "all"
        return {jump: whole for jump in fields}
    kernel, stride = how
    out: Field = {}
    for jump, rf in fields.items():
        key = jump * stride
        out[key] = max(out.get(key, 0.0), min(whole, rf + (kernel - 1) * jump))
    return out


def _merged(fields: list[Field]) -> Field:
    if len(fields) == 1:
        return fields[0]
    out: Field = {}
    for f in fields:
        for jump, rf in f.items():
            out[jump] = max(out.get(jump, 0.0), rf)
    return out


def _source(source: str, index: dict[str, int]) -> str:
    return "the input" if source == INPUT else f"#{index[source]}"


def summarize(project: ProjectSpec) -> Summary:
    """Every layer's output shape, parameters (with and without sharing), MACs, activation memory,
    receptive field (the largest over all paths from the input), status (ok / warning / error /
    unknown), message, size formula and inputs (layer ids; "input" is the network's input), in the
    project's order, which is a topological order of the graph.

    A layer whose inputs include an error cannot be inferred: its output is None, its status
    "unknown". A layer whose output nothing takes (but the last, the network's output) is an error.
    """
    # The live project is read in place, not copied: this runs on every edit (benchmarks/inference_speed.py).
    doc = project.peek() if isinstance(project, Project) else load_spec(project)
    layers = doc["layers"]
    whole = max(doc["input"][1:] or doc["input"])  # a field covering the whole input
    shapes: dict[str, Shape | None] = {INPUT: tuple(doc["input"])}
    fields: dict[str, Field] = {INPUT: {1.0: 1.0}}
    blocked: dict[str, int] = {}  # layer id -> the erroring layer it depends on
    index_of: dict[str, int] = {}
    used: set[str] = set()
    rows: list[LayerRow] = []
    first_error: int | None = None
    for index, layer in enumerate(layers):
        kind = CATALOGUE[layer["type"]]
        params = kind.resolve(layer)
        inputs = declared_inputs(layers, index)
        row: LayerRow = {"index": index, "id": layer["id"], "type": kind.name, "label": kind.label(params),
                         "inputs": inputs, "output": None, "params": None, "params_unshared": None, "macs": None,
                         "memory": None, "receptive_field": None, "status": "unknown", "message": "",
                         "formula": ""}
        rows.append(row)
        index_of[layer["id"]] = index
        used.update(inputs)
        try:
            missing = next((s for s in inputs if s not in shapes), None)
            if missing is not None:
                raise LayerError(f"its input {missing!r} is not an earlier layer: connect it to an earlier layer")
            if len(inputs) > 1 and kind.combine is None and not kind.opaque:
                raise LayerError(f"takes one input but has {len(inputs)}: merge them with an Add or a Concat first")
            upstream = [blocked[s] for s in inputs if s in blocked]
            if upstream:
                blocked[layer["id"]] = min(upstream)
                shapes[layer["id"]] = None
                row["message"] = f"shape unknown: layer {min(upstream)} above has an error"
                continue
            in_shapes = [shapes[s] for s in inputs]
            if kind.combine is not None and len(inputs) > 1:
                result = kind.combine([s for s in in_shapes if s is not None], [_source(s, index_of) for s in inputs])
            elif in_shapes[0] is not None:
                result = kind.infer(in_shapes[0], params)
        except LayerError as exc:
            row["status"], row["message"] = "error", str(exc)
            first_error = index if first_error is None else first_error
            blocked[layer["id"]] = index
            shapes[layer["id"]] = None
            continue
        field = _grow(_merged([fields[s] for s in inputs]), result.field, whole)
        fields[layer["id"]] = field
        shape = shapes[layer["id"]] = result.output
        row["output"] = list(shape)
        row["params"] = result.params
        row["params_unshared"] = result.params if result.params_unshared is None else result.params_unshared
        row["macs"] = result.macs
        row["memory"] = math.prod(shape) * BYTES_PER_VALUE
        row["receptive_field"] = _field_text(max(field.values()))
        row["status"] = "warning" if result.warnings else "ok"
        row["message"] = "; ".join(result.warnings)
        row["formula"] = result.formula
    for row in rows[:-1]:
        if row["id"] not in used and row["status"] in ("ok", "warning"):
            row["status"] = "error"
            row["message"] = "its output goes nowhere: connect it to a later layer (an Add or a Concat), or delete it"
            first_error = row["index"] if first_error is None else min(first_error, row["index"])
    known = [r for r in rows if r["params"] is not None]  # inferred: every number of the row is known
    last = rows[-1]["output"] if rows else list(doc["input"])
    return {
        "input": list(doc["input"]),
        "layers": rows,
        "total_params": sum(r["params"] or 0 for r in known),
        "total_params_unshared": sum(r["params_unshared"] or 0 for r in known),
        "total_macs": sum(r["macs"] or 0 for r in known),
        "total_memory": sum(r["memory"] or 0 for r in known),
        "output": list(last) if last is not None else None,
        "first_error": first_error,
    }


def format_table(summary: Summary) -> str:
    """The summary as a fixed-width text table (the CLI's default output)."""
    header = ("#", "layer", "inputs", "output", "params", "no sharing", "MACs", "RF", "")
    index = {r["id"]: r["index"] for r in summary["layers"]}
    lines = [("", "Input", "", fmt_shape(tuple(summary["input"])), "", "", "", "", "")]
    for r in summary["layers"]:
        out = fmt_output(r["output"])
        note = {"ok": "", "warning": "⚠ ", "error": "✖ ", "unknown": ""}[r["status"]] + r["message"]
        inputs = ", ".join("input" if s == INPUT else str(index.get(s, s)) for s in r["inputs"])
        lines.append((str(r["index"]), r["label"], inputs, out, fmt_count(r["params"]),
                      fmt_count(r["params_unshared"]), fmt_count(r["macs"]), fmt_count(r["receptive_field"]), note))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header) - 1)]
    right = {0, 4, 5, 6, 7}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells + ([row[-1]] if row[-1] else [])).rstrip()

    out_shape = fmt_output(summary["output"])
    total = (f"Total: {summary['total_params']:,} parameters ({summary['total_params_unshared']:,} without "
             f"sharing), {summary['total_macs']:,} MACs, {summary['total_memory'] / 1e6:.2f} MB activations "
             f"per sample; output {out_shape}")
    rule = "-" * len(fmt(header))
    return "\n".join([fmt(header), rule, *map(fmt, lines), rule, total])

