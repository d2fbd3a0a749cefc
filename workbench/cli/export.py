"""`workbench export SPEC --format pytorch|onnx|script -o FILE`: standalone PyTorch source, ONNX, or a
standalone training script (`python train.py`, or under torchrun)."""
from __future__ import annotations

import argparse

from workbench.cli.errors import run_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench export", description=__doc__)
    parser.add_argument("spec", help="a project file or a built-in template name")
    parser.add_argument("--format", choices=("pytorch", "onnx", "script"), default="pytorch",
                        help="pytorch: the network's source; onnx: the network for other runtimes; script: a "
                             "training script with the data loading and the project's training settings")
    parser.add_argument("-o", "--output", required=True, help="the file to write (model.py, model.onnx or train.py)")
    args = parser.parse_args(argv)

    def body() -> int:
        if args.format == "script":
            from workbench.training.script_export import export_script

            export_script(args.spec, args.output)
        else:
            from workbench.core.export import export

            export(args.spec, args.output, args.format)
        print(f"wrote {args.output}")
        return 0

    return run_cli("export", body)
