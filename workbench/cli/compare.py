"""`workbench compare RUN_DIR RUN_DIR... [--json]`: runs side by side: their final metrics in one
table and each architecture diffed layer by layer against the first run's (volume, parameters, MACs,
receptive field; added and removed layers marked). --json adds every run's curves per epoch.
"""
from __future__ import annotations

import argparse
import json

from workbench.cli.errors import run_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench compare", description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="two or more run folders")
    parser.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.training.compare import compare_runs, format_comparison

        comparison = compare_runs(args.run_dirs)
        print(json.dumps(comparison.to_json(), ensure_ascii=False) if args.json else format_comparison(comparison))
        return 0

    return run_cli("compare", body)
