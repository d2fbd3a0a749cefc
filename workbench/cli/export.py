"""`workbench export SPEC --format pytorch|onnx -o FILE`: standalone PyTorch source or ONNX."""
from __future__ import annotations

import argparse

from workbench.cli.errors import run_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench export", description=__doc__)
    parser.add_argument("spec", help="a project file or a built-in template name")
    parser.add_argument("--format", choices=("pytorch", "onnx"), default="pytorch")
    parser.add_argument("-o", "--output", required=True, help="the file to write (model.py or model.onnx)")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.core.export import export

        export(args.spec, args.output, args.format)
        print(f"wrote {args.output}")
        return 0

    return run_cli("export", body)
