"""Runs side by side: their curves, their final metrics in one table, and each architecture diffed
layer by layer against the first run's (workbench.core.diff).

    comparison = compare_runs(["runs/a", "runs/b"])
    comparison.runs[i].curves, comparison.runs[i].metrics, comparison.diffs[i - 1]
    comparison.to_json()     # what `workbench compare --json` prints
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

from workbench.core.diff import LayerDiff, diff_summaries
from workbench.core.inference import summarize
from workbench.core.summary import Summary
from workbench.training.events import EpochEvent
from workbench.training.run_folder import Run, open_run

# the final metrics, in table order: key -> heading
METRICS = {"epochs": "epochs", "val_loss": "val loss", "best_val_loss": "best val loss",
           "val_accuracy": "val accuracy", "best_val_accuracy": "best val accuracy", "train_loss": "train loss",
           "time_s": "time (s)", "samples_per_s": "samples/s", "params": "parameters", "macs": "MACs"}


@dataclass
class Curves:
    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)


@dataclass
class RunSide:
    """One run of a comparison."""

    name: str                 # the folder's name (its parent's too when two runs share a name)
    path: Path
    summary: Summary
    curves: Curves
    metrics: dict[str, float | int | None]  # METRICS' keys
    status: str               # the last "done" message, or "no finished epoch"


@dataclass
class Comparison:
    runs: list[RunSide]
    diffs: list[list[LayerDiff]]          # diffs[i]: run i + 1 against run 0
    matched_by: list[Literal["id", "type"]]

    def to_json(self) -> dict[str, Any]:
        return {"runs": [{"name": r.name, "path": str(r.path), "status": r.status, "metrics": r.metrics,
                          "curves": vars(r.curves)} for r in self.runs],
                "diffs": [{"against": self.runs[0].name, "run": self.runs[i + 1].name, "matched_by": self.matched_by[i],
                           "layers": [_diff_json(d) for d in diff]} for i, diff in enumerate(self.diffs)]}


def _diff_json(diff: LayerDiff) -> dict[str, Any]:
    def side(row: Any) -> dict[str, Any] | None:
        if row is None:
            return None
        return {k: row[k] for k in ("index", "id", "type", "label", "output", "params", "macs", "receptive_field")}

    return {"status": diff["status"], "a": side(diff["a"]), "b": side(diff["b"]), "changes": diff["changes"]}


def _curves(run: Run) -> Curves:
    curves = Curves()
    epochs: dict[int, EpochEvent] = {}
    for event in run.metrics:
        if event["event"] == "epoch":
            epochs[event["epoch"]] = event  # a resumed run's repeated epoch: the later one counts
    for number in sorted(epochs):
        event = epochs[number]
        curves.epoch.append(number)
        curves.train_loss.append(event["train_loss"])
        curves.val_loss.append(event["val_loss"])
        curves.val_accuracy.append(event.get("val_accuracy"))
    return curves


def _metrics(run: Run, curves: Curves, summary: Summary) -> dict[str, float | int | None]:
    last = next((e for e in reversed(run.metrics) if e["event"] == "epoch"), None)
    accuracies = [a for a in curves.val_accuracy if a is not None]
    return {"epochs": curves.epoch[-1] if curves.epoch else 0,
            "val_loss": curves.val_loss[-1] if curves.val_loss else None,
            "best_val_loss": min(curves.val_loss) if curves.val_loss else None,
            "val_accuracy": accuracies[-1] if accuracies and curves.val_accuracy[-1] is not None else None,
            "best_val_accuracy": max(accuracies) if accuracies else None,
            "train_loss": curves.train_loss[-1] if curves.train_loss else None,
            "time_s": last["time_s"] if last else None,
            "samples_per_s": last["samples_per_s"] if last else None,
            "params": summary["total_params"], "macs": summary["total_macs"]}


def _names(paths: list[Path]) -> list[str]:
    names = [p.name for p in paths]
    return [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]


def compare_runs(paths: Sequence[str | os.PathLike]) -> Comparison:
    """Two or more run folders; RunError (a ValueError) names a folder that is not a run."""
    if len(paths) < 2:
        raise ValueError("compare needs two or more run folders")
    runs = [open_run(p) for p in paths]
    sides = []
    for run, name in zip(runs, _names([r.path for r in runs])):
        summary: Summary = summarize(run.project)  # type: ignore[assignment]  # summarize returns a Summary
        curves = _curves(run)
        done = next((e for e in reversed(run.metrics) if e["event"] == "done"), None)
        status = done["message"] if done else ("training (or stopped unexpectedly)" if curves.epoch
                                                else "no finished epoch")
        sides.append(RunSide(name, run.path, summary, curves, _metrics(run, curves, summary), status))
    diffs, matched = [], []
    for side in sides[1:]:
        diff, by = diff_summaries(sides[0].summary, side.summary)
        diffs.append(diff)
        matched.append(by)
    return Comparison(sides, diffs, matched)


def format_metric(key: str, value: float | int | None) -> str:
    """A metric as the table shows it."""
    if value is None:
        return "—"
    if key in ("val_accuracy", "best_val_accuracy"):
        return f"{value * 100:.1f} %"
    if key in ("epochs", "params", "macs"):
        return f"{int(value):,}"
    if key in ("time_s", "samples_per_s"):
        return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
    return f"{value:.4g}"


def describe_change(diff: LayerDiff) -> str:
    """One layer's row of the diff in words: "Conv 16 @ 3×3 → Conv 32 @ 3×3: output 8×8×16 → 8×8×32"."""
    from workbench.core.catalogue import fmt_shape

    a, b = diff["a"], diff["b"]
    if a is None or b is None:
        row = b if a is None else a
        assert row is not None
        return f"{row['label']} ({'added' if a is None else 'removed'}): output " \
               f"{fmt_shape(tuple(row['output'])) if row['output'] else '?'}, {row['params'] or 0:,} parameters"
    if diff["status"] == "same":
        return a["label"]
    parts = []
    for key, name in (("output", "output"), ("params", "parameters"), ("macs", "MACs"),
                      ("receptive_field", "receptive field")):
        if key in diff["changes"]:
            old, new = a[key], b[key]  # type: ignore[literal-required]  # LayerRow keys
            if key == "output":
                old, new = (fmt_shape(tuple(v)) if v else "?" for v in (old, new))
            else:
                old, new = (f"{v:,}" if v is not None else "?" for v in (old, new))
            parts.append(f"{name} {old} → {new}")
    head = f"{a['label']} → {b['label']}" if a["label"] != b["label"] else a["label"]
    return f"{head}: {', '.join(parts)}" if parts else head


MARKS = {"same": "=", "changed": "~", "added": "+", "removed": "-"}


def format_comparison(comparison: Comparison) -> str:
    """The comparison as text: the metrics table, then each diff."""
    names = [r.name for r in comparison.runs]
    width = max(12, *(len(n) for n in names))
    lines = [f"{'':<18}" + "".join(f"{n:>{width + 2}}" for n in names)]
    for key, heading in METRICS.items():
        lines.append(f"{heading:<18}" + "".join(f"{format_metric(key, r.metrics[key]):>{width + 2}}"
                                                for r in comparison.runs))
    lines += [f"{r.name}: {r.status}" for r in comparison.runs]
    for i, diff in enumerate(comparison.diffs):
        by = "layer id" if comparison.matched_by[i] == "id" else "type and position (the runs share no layer id)"
        lines += ["", f"{names[i + 1]} against {names[0]} (layers matched by {by}):"]
        for d in diff:  # the layer's index in the later run (a removed one's in the first, marked "was")
            index = f"{d['b']['index']}" if d["b"] is not None else f"was {d['a']['index']}" if d["a"] else "?"
            lines.append(f"  {MARKS[d['status']]} {index:>6}  {describe_change(d)}")
    return "\n".join(lines)
