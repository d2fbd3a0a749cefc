"""`workbench health RUN_DIR [--json]`: what the run's health statistics say, in words.

--json prints the findings of the run's last collected steps as a list of
{"layer": index (null: the whole network), "finding": short name, "level": "amber" | "red",
"message": the sentence the window shows}; the list is empty when the run is healthy. Without --json
each finding is a line, followed by the time per layer beside its share of the MACs.
"""
from __future__ import annotations

import argparse
import json

from workbench.cli.errors import run_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench health", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a run folder written by `workbench train` or the window")
    parser.add_argument("--json", action="store_true", help="print the findings as a JSON list")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.training.health_report import read_report

        report = read_report(args.run_dir)
        if args.json:
            print(json.dumps(report.findings, ensure_ascii=False))
            return 0
        print(report.text())
        return 0

    return run_cli("health", body)
