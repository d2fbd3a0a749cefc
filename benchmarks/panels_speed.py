"""All insight panels live during training: refresh rate, training throughput kept, probe cost.

    python benchmarks/panels_speed.py [TEMPLATE] [--seconds S]

Measures, in one process on this CPU:
  1. headless training throughput (samples/s), the baseline;
  2. one probe pass for every panel (ms) and one redraw of all panels (ms);
  3. training in a background thread while the GUI thread redraws every panel for each probe
     event (probe_interval_s = 0.2, i.e. asking for 5 refreshes/s): refreshes/s achieved and
     throughput as a ratio of the baseline. Goals: >= 5 refreshes/s and >= 0.8 of headless.
"""
from __future__ import annotations

import argparse
import os
import queue
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from workbench.core.inference import summarize  # noqa: E402
from workbench.core.templates import template  # noqa: E402
from workbench.training.engine import Trainer  # noqa: E402
from workbench.training.probes import ProbeRequest, capture  # noqa: E402
from workbench.ui.panels import InsightPanels  # noqa: E402

KINDS = ["filters", "activations", "latent", "reconstructions", "confusion"]


def throughput(events: list[dict]) -> float:
    """Samples per second over the epochs after the first (warm-up excluded)."""
    rates = [e["samples_per_s"] for e in events if e.get("event") == "epoch"][1:]
    return sum(rates) / len(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("template", nargs="?", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    doc = template(args.template)
    app = QApplication.instance() or QApplication([])

    # 1. headless baseline
    headless = throughput(list(Trainer(doc, epochs=args.epochs).events()))

    # 2. probe pass and redraw costs
    trainer = Trainer(doc, epochs=1)
    x, y = trainer.data.val_x[:256], trainer.data.val_y[:256]
    request = ProbeRequest.for_panels(KINDS)
    capture(trainer.model, x, y, request)
    t0 = time.perf_counter()
    for _ in range(10):
        result = capture(trainer.model, x, y, request)
    probe_ms = (time.perf_counter() - t0) * 100
    hub = InsightPanels()
    for panel in hub.panels.values():
        panel.resize(700, 500)
        panel.show()
    hub.set_summary(summarize(doc))
    hub.set_classes(trainer.classes)
    hub.update_probe(result)
    app.processEvents()
    t0 = time.perf_counter()
    for _ in range(10):
        hub.update_probe(result)
        app.processEvents()
    redraw_ms = (time.perf_counter() - t0) * 100

    # 3. live: training in a thread, all panels redrawn on the GUI thread for every probe
    live = Trainer(doc, epochs=args.epochs, probe_interval_s=0.2)
    live.set_probe_request(request)
    inbox: queue.Queue = queue.Queue()
    events: list[dict] = []

    def work() -> None:
        for event in live.events():
            inbox.put(event)
        inbox.put(None)

    thread = threading.Thread(target=work)
    start = time.perf_counter()
    thread.start()
    refreshes, finished = 0, False
    while not finished:
        latest = None
        try:
            while True:  # drain: only the newest probe is drawn, as the throttled signal would
                event = inbox.get(timeout=0.01)
                if event is None:
                    finished = True
                    break
                events.append(event)
                latest = event if event["event"] == "probe" else latest
        except queue.Empty:
            pass
        if latest is not None:
            hub.update_probe(latest)
            refreshes += 1
        app.processEvents()
    thread.join()
    elapsed = time.perf_counter() - start
    with_panels = throughput(events)
    print(f"template {args.template}, {os.cpu_count()} CPUs, torch threads {__import__('torch').get_num_threads()}")
    print(f"probe pass (all panels, 256 samples): {probe_ms:.1f} ms")
    print(f"redraw of all panels: {redraw_ms:.1f} ms")
    print(f"headless training: {headless:,.0f} samples/s")
    print(f"with all panels live: {with_panels:,.0f} samples/s = {with_panels / headless:.2f} of headless (goal >= 0.8)")
    print(f"panel refreshes: {refreshes / elapsed:.1f} per second (goal >= 5)")


if __name__ == "__main__":
    main()
