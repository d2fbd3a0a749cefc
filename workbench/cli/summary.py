"""`workbench summary SPEC [--json]`: every layer's output volume, parameters, MACs and formula."""
from __future__ import annotations

import argparse
import json

from workbench.cli.errors import run_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench summary", description=__doc__)
    parser.add_argument("spec", help="a project file or a built-in template name (see `workbench templates`)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.core.inference import format_table, summarize

        summary = summarize(args.spec)
        print(json.dumps(summary, indent=2, ensure_ascii=False) if args.json else format_table(summary))
        return 1 if summary["first_error"] is not None else 0

    return run_cli("summary", body)
