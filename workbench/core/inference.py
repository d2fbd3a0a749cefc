"""Analytic shape, parameter, MAC and receptive-field inference: no forward pass.

`summarize` runs on every keystroke in the builder, so it only does arithmetic on the catalogue's
rules (well under a millisecond for 50 layers; see benchmarks/inference_speed.py). Tests check the
rules against real torch modules.
"""
from __future__ import annotations

import math

from workbench.core.catalogue import CATALOGUE, LayerError, Shape, fmt_shape
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import LayerRow, Summary, fmt_count, fmt_output

BYTES_PER_VALUE = 4  # float32 activations


def _field_text(rf: float) -> int:
    return max(1, round(rf))


def summarize(project: ProjectSpec) -> Summary:
    """Every layer's output shape, parameters (with and without sharing), MACs, activation memory,
    receptive field, status (ok / warning / error / unknown), message and size formula.

    After the first error, later layers cannot be inferred: their output is None and their status
    "unknown".
    """
    doc = load_spec(project)
    shape: Shape | None = tuple(doc["input"])
    rf, jump = 1.0, 1.0  # receptive field and the input distance between adjacent outputs
    whole = max(doc["input"][1:] or doc["input"])  # a field covering the whole input
    rows: list[LayerRow] = []
    first_error: int | None = None
    for index, layer in enumerate(doc["layers"]):
        kind = CATALOGUE[layer["type"]]
        params = kind.resolve(layer)
        row: LayerRow = {"index": index, "id": layer["id"], "type": kind.name, "label": kind.label(params),
                         "output": None, "params": None, "params_unshared": None, "macs": None,
                         "memory": None, "receptive_field": None, "status": "unknown", "message": "",
                         "formula": ""}
        rows.append(row)
        if shape is None:
            row["message"] = f"shape unknown: layer {first_error} above has an error"
            continue
        try:
            result = kind.infer(shape, params)
        except LayerError as exc:
            row["status"], row["message"] = "error", str(exc)
            first_error = index
            shape = None
            continue
        if isinstance(result.field, str):  # "all"
            rf = whole
        elif result.field is not None:
            kernel, stride = result.field
            rf = min(whole, rf + (kernel - 1) * jump)
            jump *= stride
        shape = result.output
        row["output"] = list(shape)
        row["params"] = result.params
        row["params_unshared"] = result.params if result.params_unshared is None else result.params_unshared
        row["macs"] = result.macs
        row["memory"] = math.prod(shape) * BYTES_PER_VALUE
        row["receptive_field"] = _field_text(rf)
        row["status"] = "warning" if result.warnings else "ok"
        row["message"] = "; ".join(result.warnings)
        row["formula"] = result.formula
    known = [r for r in rows if r["params"] is not None]  # inferred: every number of the row is known
    return {
        "input": list(doc["input"]),
        "layers": rows,
        "total_params": sum(r["params"] or 0 for r in known),
        "total_params_unshared": sum(r["params_unshared"] or 0 for r in known),
        "total_macs": sum(r["macs"] or 0 for r in known),
        "total_memory": sum(r["memory"] or 0 for r in known),
        "output": list(shape) if shape is not None else None,
        "first_error": first_error,
    }


def format_table(summary: Summary) -> str:
    """The summary as a fixed-width text table (the CLI's default output)."""
    header = ("#", "layer", "output", "params", "no sharing", "MACs", "RF", "")
    lines = [("", "Input", fmt_shape(tuple(summary["input"])), "", "", "", "", "")]
    for r in summary["layers"]:
        out = fmt_output(r["output"])
        note = {"ok": "", "warning": "⚠ ", "error": "✖ ", "unknown": ""}[r["status"]] + r["message"]
        lines.append((str(r["index"]), r["label"], out, fmt_count(r["params"]), fmt_count(r["params_unshared"]),
                      fmt_count(r["macs"]), fmt_count(r["receptive_field"]), note))
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header) - 1)]
    right = {0, 3, 4, 5, 6}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells + ([row[-1]] if row[-1] else [])).rstrip()

    out_shape = fmt_output(summary["output"])
    total = (f"Total: {summary['total_params']:,} parameters ({summary['total_params_unshared']:,} without "
             f"sharing), {summary['total_macs']:,} MACs, {summary['total_memory'] / 1e6:.2f} MB activations "
             f"per sample; output {out_shape}")
    rule = "-" * len(fmt(header))
    return "\n".join([fmt(header), rule, *map(fmt, lines), rule, total])

