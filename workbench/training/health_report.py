"""A run folder's health as a report: the findings of its last collected steps, its time per layer,
and every collected step's numbers for pictures (`workbench health`, `workbench plot --what health`,
the window's cards for an opened run).

    report = read_report("runs/digits")
    report.findings    # [{"layer": 3, "finding": "dead-units", "level": "red", "message": ...}]
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from workbench.core.inference import summarize
from workbench.core.summary import Summary
from workbench.training.events import Finding, HealthEvent, LayerTiming
from workbench.training.run_folder import RunError, open_run
from workbench.training.timing import slow_message


@dataclass
class HealthReport:
    summary: Summary
    steps: list[HealthEvent]     # every collected step, oldest first
    timing: list[LayerTiming]    # empty: not measured (a run stopped in its first epoch)
    timing_device: str

    @property
    def findings(self) -> list[Finding]:
        return self.steps[-1]["findings"] if self.steps else []

    def text(self) -> str:
        rows = self.summary["layers"]

        def where(layer: int | None) -> str:
            return "network" if layer is None else f"layer {layer} ({rows[layer]['type']})"

        last = self.steps[-1]
        lines = [f"health at step {last['global_step']} (epoch {last['epoch']}):"]
        lines += [f"  {f['level']:<5} {where(f['layer'])}: {f['message']}" for f in self.findings] or ["  healthy: no findings"]
        if self.timing:
            lines += ["", f"time per layer on {self.timing_device} (forward + backward of one batch):",
                      f"  {'#':>3}  {'layer':<18} {'forward':>9} {'backward':>9} {'time':>6} {'MACs':>6}"]
            for t in self.timing:
                macs = "" if t["macs_share"] is None else f"{t['macs_share'] * 100:5.1f}%"
                flag = f"  <- {slow_message(t)}" if t["slow"] else ""
                lines.append(f"  {t['layer']:>3}  {rows[t['layer']]['label'][:18]:<18} {t['forward_s'] * 1e3:7.3f}ms "
                             f"{t['backward_s'] * 1e3:7.3f}ms {t['time_share'] * 100:5.1f}% {macs:>6}{flag}")
        return "\n".join(lines)


def read_report(run_dir: str | os.PathLike) -> HealthReport:
    """RunError when the folder is not a run or holds no health statistics."""
    run = open_run(run_dir)
    records = run.health()
    steps = [r for r in records if r["event"] == "health"]
    if not steps:
        raise RunError(f"{run.path}: no health statistics (health.jsonl is missing or empty: the run was "
                       f"trained without them, or stopped before its first step)")
    timing = next((r for r in reversed(records) if r["event"] == "timing"), None)
    return HealthReport(summarize(run.project), steps, timing["layers"] if timing else [],
                        timing["device"] if timing else "")
