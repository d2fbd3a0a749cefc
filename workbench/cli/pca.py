"""`workbench pca RUN_DIR [--json] [-o FILE.png]`: an autoencoder run's validation reconstruction
error next to PCA's with the same code size k (PCA fitted on the run's training split).

--json prints {"k", "pca_val_mse", "ae_val_mse", "ae_over_pca", "input_size", "code_layer"}; -o
writes the picture: PCA's error-vs-k curve with the autoencoder's point, reconstructions side by
side, the latent codes beside a PCA of the inputs.
"""
from __future__ import annotations

import argparse
import json

from workbench.cli.errors import run_cli
from workbench.cli.pictures import offscreen_without_display, parse_size


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench pca", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a run folder of an autoencoder (from `workbench train`)")
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON object")
    parser.add_argument("-o", "--output", help="write the comparison picture to this PNG")
    parser.add_argument("--checkpoint", choices=("last", "best"), default="last", help="which weights (default last)")
    parser.add_argument("--size", default="1400x900", help="picture size WIDTHxHEIGHT (default 1400x900)")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.training.pca_compare import compare_run
        from workbench.training.run_folder import open_run

        size = parse_size(args.size, (400, 300))
        result = compare_run(open_run(args.run_dir), args.checkpoint)
        if args.json:
            print(json.dumps(result.to_json()))
        else:
            print(f"k = {result.k} (code of layer {result.code_layer}, {result.input_size} input values): "
                  f"PCA {result.pca_val_mse:.5f}, autoencoder {result.ae_val_mse:.5f} "
                  f"({result.ae_over_pca:.3f}× PCA's validation MSE per value)")
        if args.output:
            _render(result, args.output, size)
        return 0

    return run_cli("pca", body)


def _render(result, output: str, size: tuple[int, int]) -> None:
    offscreen_without_display()
    from PySide6.QtWidgets import QApplication

    from workbench.core.project import write_atomic
    from workbench.ui.lab.panel import PcaView
    from workbench.ui.shell.pictures import widget_png

    app = QApplication.instance() or QApplication(["workbench pca"])  # noqa: F841 (kept alive while painting)
    view = PcaView()
    view.show_comparison(result)
    write_atomic(output, widget_png(view, size))
