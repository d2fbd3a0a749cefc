"""One edit in the window, from the command to the repainted window, on networks of 50, 1,000 and
10,000 layers (the window as a user has it: builder, inspector, summary table, docks; offscreen).

Goal: under 100 ms at 1,000 layers (issue 12: it took 0.5 s, and 2.6 s at 10,000). Each edit sets one
layer's out_features, as a spin-box step in the inspector does; printed: the median and the worst of
the edits, and the ratio to the same edit at 50 layers measured in the same run.

    QT_QPA_PLATFORM=offscreen python benchmarks/edit_speed.py [--edits 15] [--sizes 50 1000 10000] [--branched]

--branched: residual blocks (Linear, ReLU, Linear, Add with a shortcut over them), which the builder
draws as a graph (lanes, routed connections) rather than as a chain of cards.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKBENCH_SETTINGS_SCOPE", "benchmarks")


def network(layers: int, branched: bool = False) -> dict:
    body: list[dict] = []
    if branched:
        body.append({"type": "Linear", "out_features": 64, "id": "stem"})
        for b in range((layers - 1) // 4):
            body += [{"type": "Linear", "out_features": 64, "id": f"a{b}"}, {"type": "ReLU", "id": f"r{b}"},
                     {"type": "Linear", "out_features": 64, "id": f"c{b}"},
                     {"type": "Add", "id": f"s{b}", "inputs": [f"c{b}", f"s{b - 1}" if b else "stem"]}]
        return {"version": 2, "input": [64], "layers": body}
    for _ in range(layers // 2):
        body += [{"type": "Linear", "out_features": 64}, {"type": "ReLU"}]
    return {"input": [64], "layers": body}


def edit_times(app, size: int, edits: int, branched: bool = False) -> list[float]:  # noqa: ANN001
    from workbench.core.commands import SetParam
    from workbench.ui.shell.app import MainWindow

    window = MainWindow(network(size, branched), restore_layout=False)
    window.show()
    middle = 1 + (size - 1) // 8 * 4 if branched else size // 4 * 2  # a Linear layer half way (a block's first)
    window.selection.select_index(middle)  # the inspector shows the layer being edited
    for _ in range(10):
        app.processEvents()
    times = []
    for step in range(edits):
        start = time.perf_counter()
        assert window.editor.push(lambda p, v=65 + step: SetParam(p, middle, "out_features", v)) is not None
        app.processEvents()  # the views' updates and the repaint
        times.append(time.perf_counter() - start)
    window.hide()
    window.deleteLater()
    app.processEvents()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 1000, 10000])
    parser.add_argument("--branched", action="store_true", help="residual blocks, drawn as a graph")
    args = parser.parse_args()
    from workbench.ui.shell.app import create_app

    app = create_app()
    baseline = None
    for size in args.sizes:
        times = edit_times(app, size, args.edits, args.branched)
        median = statistics.median(times)
        baseline = baseline or median
        print(f"{size:>6,} layers: edit median {median * 1000:7.1f} ms, worst {max(times) * 1000:7.1f} ms, "
              f"{median / baseline:5.1f}x the {args.sizes[0]}-layer edit"
              + ("   (goal < 100 ms)" if size == 1000 else ""))


if __name__ == "__main__":
    main()
