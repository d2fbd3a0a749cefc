"""All insight panels live during training: refresh rate, training throughput kept, probe cost.

    python benchmarks/panels_speed.py [TEMPLATE] [--epochs N] [--rounds R] [--threads 1 2]

Measures, in one run on this CPU:
  1. headless training throughput (samples/s over the epochs after the first), the baseline: the
     engine iterated in this process with torch's default threads, as `workbench train` runs;
  2. one probe pass for every panel (ms) and one redraw of all panels (ms);
  3. the app's path: a TrainingPanel training in its process (workbench.training.remote) while every
     insight panel is shown, fed by the panel's probe_received signal, with the probe request the
     panels ask for: panel refreshes per second (from the run's start event to its end), throughput as a ratio of the baseline, and how
     late a 5 ms QTimer fires on the GUI thread. Goals: >= 5 refreshes/s, >= 0.8 of headless.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui_training import LateTimer, ready_panel  # noqa: E402
from workbench.core.inference import summarize  # noqa: E402
from workbench.core.templates import template  # noqa: E402
from workbench.training.engine import Trainer  # noqa: E402
from workbench.training.probes import ProbeRequest, capture  # noqa: E402
from workbench.training.run_folder import open_run  # noqa: E402
from workbench.ui.panels import InsightPanels  # noqa: E402

KINDS = ["filters", "activations", "latent", "reconstructions", "confusion"]


def throughput(events: list[dict]) -> float:
    """Samples per second over the epochs after the first (warm-up excluded)."""
    rates = [e["samples_per_s"] for e in events if e.get("event") == "epoch"][1:]
    return sum(rates) / len(rates)


def shown_panels(app: QApplication, doc: dict, classes: list[str]) -> InsightPanels:
    hub = InsightPanels()
    for panel in hub.panels.values():
        panel.resize(700, 500)
        panel.show()
    hub.set_summary(summarize(doc))
    hub.set_classes(classes)
    app.processEvents()
    return hub


def costs(app: QApplication, doc: dict) -> tuple[float, float, list[str]]:
    """(ms per probe pass for every panel, ms per redraw of every panel, the class names)."""
    trainer = Trainer(doc, epochs=1)
    x, y = trainer.data.val_x[:256], trainer.data.val_y[:256]
    request = ProbeRequest.for_panels(KINDS)
    result = capture(trainer.model, x, y, request)
    t0 = time.perf_counter()
    for _ in range(10):
        result = capture(trainer.model, x, y, request)
    probe_ms = (time.perf_counter() - t0) * 100
    hub = shown_panels(app, doc, trainer.classes)
    hub.update_probe(result)
    app.processEvents()
    t0 = time.perf_counter()
    for _ in range(10):
        hub.update_probe(result)
        app.processEvents()
    redraw_ms = (time.perf_counter() - t0) * 100
    for panel in hub.panels.values():
        panel.close()
    return probe_ms, redraw_ms, trainer.classes


def live(app: QApplication, doc: dict, classes: list[str], threads: int) -> tuple[float, float, np.ndarray]:
    """(samples/s, refreshes/s, timer lateness in ms) of the app's path with every panel shown."""
    panel = ready_panel(doc, threads)
    hub = shown_panels(app, doc, classes)
    refreshes = [0]

    def draw(probe: dict) -> None:
        hub.update_probe(probe)
        refreshes[0] += 1

    panel.probe_received.connect(draw)
    hub.request_changed.connect(lambda: panel.set_probe_request(hub.request()))
    panel.set_probe_request(hub.request())
    timer = LateTimer()
    loop = QEventLoop()
    panel.run_finished.connect(lambda done: loop.quit())
    began: list[float] = []  # when training began in the process (its "start" event), not the Start click
    panel.runner.updated.connect(lambda update: update["start"] and began.append(time.perf_counter()))
    panel.start()
    timer.start()
    loop.exec()
    elapsed = time.perf_counter() - began[0]
    late = timer.stop()
    rate = throughput(open_run(panel.run_dir).metrics)
    panel.stop_and_wait()
    panel.close()
    for view in hub.panels.values():
        view.close()
    return rate, refreshes[0] / elapsed, late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("template", nargs="?", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads in the process")
    args = parser.parse_args()
    doc = template(args.template)
    doc["training"] = {**doc["training"], "epochs": args.epochs, "device": "cpu"}
    app = QApplication.instance() or QApplication([])

    probe_ms, redraw_ms, classes = costs(app, doc)
    base: list[float] = []
    runs: dict[int, list[tuple]] = {n: [] for n in args.threads}
    for _ in range(args.rounds):  # interleaved: other load on the machine hits every mode alike
        base.append(throughput(list(Trainer(doc).events())))
        for n in args.threads:
            runs[n].append(live(app, doc, classes, n))
    best = max(base)
    print(f"template {args.template}, {args.epochs} epochs, {args.rounds} rounds; {os.cpu_count()} CPUs")
    print(f"probe pass (all panels, 256 samples): {probe_ms:.1f} ms; redraw of all panels: {redraw_ms:.1f} ms")
    print(f"headless training: best {best:,.0f} samples/s, typical {np.median(base):,.0f}")
    for n, results in runs.items():
        rate, per_s, late = max(results, key=lambda r: r[0])
        print(f"all panels live, {n} torch thread(s): best {rate:,.0f} samples/s = {rate / best:.2f} of headless "
              f"(typical {np.median([r[0] for r in results]) / best:.2f}; goal >= 0.8); "
              f"{per_s:.1f} refreshes/s (typical {np.median([r[1] for r in results]):.1f}; goal >= 5); "
              f"5 ms timer late p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms")


if __name__ == "__main__":
    main()
