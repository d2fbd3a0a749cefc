"""`workbench import SOURCE -o PROJECT.json [--input C,H,W] [--weights FILE]`: a network you already
have as a project: its layers as cards, its weights beside it (PROJECT.safetensors) when it has any.

SOURCE is torchvision:NAME (built with weights=None, nothing downloaded), FILE.py:CLASS (built as
CLASS(); weights from --weights or FILE.safetensors/.pt/.pth beside it) or FILE.onnx (its initializers
are the weights). Parts with no catalogue kind become opaque cards, listed one per line.
"""
from __future__ import annotations

import argparse

from workbench.cli.errors import run_cli


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="torchvision:NAME, FILE.py:CLASS or FILE.onnx")
    parser.add_argument("-o", "--output", required=True, help="the project file to write (NAME.json)")
    parser.add_argument("--input", help="one sample's shape C,H,W (or N), when the source does not say it")
    parser.add_argument("--weights", help="a state dict file for the network (.safetensors, .pt, .pth)")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.core.importing import import_source, save_imported
        from workbench.core.importing.sources import parse_shape
        from workbench.core.inference import summarize

        shape = parse_shape(args.input) if args.input else None
        imported = import_source(args.source, shape, args.weights)
        weights = save_imported(imported, args.output)
        summary = summarize(imported.doc)
        print(f"wrote {args.output}: {len(imported.doc['layers'])} layers, {summary['total_params']:,} parameters, "
              f"output {'×'.join(map(str, summary['output'] or []))}"
              + (f"; weights in {weights}" if weights else "; no weights (it starts from fresh ones)"))
        for note in imported.notes:
            print(f"  {note}")
        return 0

    return run_cli("import", body)
