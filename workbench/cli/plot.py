"""`workbench plot RUN_DIR --what KIND [--layer N] [--sample K] -o FILE.png`: a run folder's filters,
activation maps, latent codes, reconstructions, curves, confusion matrix, health per layer, or where
the network looks (saliency, Grad-CAM at --layer, occlusion, for validation sample --sample) as a picture.

The picture is drawn by the window's own panels (offscreen when there is no display), so a slide
shows exactly what the app shows.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Mapping, NoReturn, cast

from workbench.cli.errors import EXIT_BAD_INPUT, run_cli
from workbench.cli.pictures import offscreen_without_display, parse_size

KINDS = ("filters", "activations", "latent", "reconstructions", "curves", "confusion", "health", "saliency")
# what a probe must contain for each picture, and what to say when the network cannot give it
NEEDS = {
    "filters": ("filters", "has no Conv2d layer, so there are no filters to show"),
    "activations": ("activations", "produced no activations"),
    "latent": ("latent", "has no layer narrower than its output to take codes from"),
    "reconstructions": ("reconstructions", "does not output an image of its input's shape (not an autoencoder)"),
    "confusion": ("confusion", "is not a classifier with labelled validation data"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not the usage block
        print(f"workbench plot: {message} (see workbench plot --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _size(text: str) -> tuple[int, int]:
    try:
        return parse_size(text, option="size")
    except ValueError as exc:  # argparse's own one-line error, with the usage hint
        raise argparse.ArgumentTypeError(str(exc)) from None


def _quiet_offscreen(mode: object, context: object, message: str) -> None:
    """Qt's offscreen platform warns about every window it cannot resize; say only the rest."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def render(run_dir: str, what: str, layer: int | None = None, sample: int = 0,
           size: tuple[int, int] = (1200, 800)) -> bytes:
    """The PNG bytes of one panel showing a saved run; ValueError for anything the run cannot show."""
    offscreen_without_display()
    import shiboken6
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from workbench.core.inference import summarize
    from workbench.training.probes import ProbeRequest, RunProbe
    from workbench.training.run_folder import open_run
    from workbench.ui.shell.pictures import widget_png

    run = open_run(run_dir)
    summary = summarize(run.project)
    if layer is not None and not 0 <= layer < len(summary["layers"]):
        raise ValueError(f"--layer {layer}: the network has layers 0…{len(summary['layers']) - 1}")
    app = QApplication.instance() or QApplication([])
    qInstallMessageHandler(_quiet_offscreen)
    panel = _panel_type(what)()
    panel.resize(*size)
    panel.for_picture()
    panel.set_summary(summary)
    if what == "health":
        records = run.health()
        if not any(r["event"] == "health" for r in records):
            raise ValueError(f"{run_dir}: no health statistics (health.jsonl is missing or empty)")
        panel.set_records(records)  # type: ignore[attr-defined]  # a HealthPanel
    elif what == "saliency":
        _explain(panel, run, run_dir, layer, sample)
    elif what == "curves":
        if not any(e["event"] == "epoch" for e in run.metrics):
            raise ValueError(f"{run_dir}: no finished epoch in metrics.jsonl yet, so no curves")
        panel.set_metrics(run.metrics)
    else:
        prober = RunProbe(run)
        if not 0 <= sample < len(prober.x):
            raise ValueError(f"--sample {sample}: the probe batch has samples 0…{len(prober.x) - 1}")
        result = prober.capture(ProbeRequest.for_panels([what], layer=layer if what == "latent" else None,
                                                        sample=sample))
        key, why = NEEDS[what]
        if len(cast(Mapping[str, Any], result).get(key, ())) == 0:  # NEEDS names the key per panel
            raise ValueError(f"{run_dir}: the network {why}")
        if hasattr(panel, "set_classes"):
            panel.set_classes(prober.classes)
        panel.update_probe(result)
        if layer is not None and hasattr(panel, "set_layer"):
            if what == "filters" and layer not in result["filters"]:
                convs = ", ".join(map(str, sorted(result["filters"])))
                raise ValueError(f"--layer {layer} is not a Conv2d layer (conv layers: {convs})")
            panel.set_layer(layer)
    panel.show()
    app.processEvents()
    try:
        return widget_png(panel)
    finally:
        # Delete the panel's scene while Qt is alive: left to interpreter exit it can crash.
        panel.close()
        shiboken6.delete(panel)


def _panel_type(what: str) -> type:
    from workbench.ui.insight import PANEL_TYPES

    if what == "health":
        from workbench.ui.insight.health import HealthPanel

        return HealthPanel
    if what == "saliency":
        from workbench.ui.insight.saliency import SaliencyPanel

        return SaliencyPanel
    return PANEL_TYPES[what]


def _explain(panel: Any, run: Any, run_dir: str, layer: int | None, sample: int) -> None:
    """Saliency, Grad-CAM (at `layer`, or the last conv layer) and occlusion of one validation sample."""
    from workbench.training.attribution import explain
    from workbench.training.probes import RunProbe
    from workbench.ui.insight.saliency import explanation_title

    prober = RunProbe(run)
    if not 0 <= sample < len(prober.x):
        raise ValueError(f"--sample {sample}: the probe batch has samples 0…{len(prober.x) - 1}")
    x = prober.x[sample]
    explanation = explain(prober.model, x, layer=layer)
    label = prober.classes[int(prober.y[sample])] if int(prober.y[sample]) < len(prober.classes) else "?"
    panel.show_explanation(x.numpy(), explanation,
                           explanation_title(explanation, prober.classes, f"sample {sample} (label {label})"))


def main(argv: list[str]) -> int:
    parser = _Parser(prog="workbench plot", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="a run folder written by `workbench train` or the window")
    parser.add_argument("--what", required=True, choices=KINDS, help="which picture")
    parser.add_argument("--layer", type=int, help="layer index (filters, activations; latent: the code layer; "
                                                  "saliency: the Grad-CAM layer, default the last conv layer)")
    parser.add_argument("--sample", type=int, default=0, help="validation sample for the activation maps")
    parser.add_argument("--size", type=_size, default=(1200, 800), help="picture size WxH (default 1200x800)")
    parser.add_argument("-o", "--output", required=True, help="the PNG file to write")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.core.project import write_atomic

        if not args.output.lower().endswith(".png"):
            raise ValueError(f"{args.output}: the output must be a .png file")
        data = render(args.run_dir, args.what, args.layer, args.sample, args.size)
        write_atomic(args.output, data)
        print(f"wrote {args.output} ({args.what}, {args.size[0]}×{args.size[1]})")
        return 0

    return run_cli("plot", body)
