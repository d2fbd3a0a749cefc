"""Does the thread tuner (training/threads.py) pay? The engine with the tuner against the engine at a
fixed thread count, paired in rounds in one process, on a quiet machine and with a competing process
that takes a share of a core the way the window does while it draws (busy BURST_MS, then idle).

    python benchmarks/thread_tuner.py [--template digits-cnn] [--epochs 4] [--rounds 3] [--duty 0 0.2 1]

Rate: training samples over the median epoch time (the first epoch left out); each arm's ratio is
against "2 threads" in the same round and condition; the median over rounds is printed with its range.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch

from workbench.core.templates import template
from workbench.training.engine import Trainer

BURST_MS = 20
COMPETITOR = """
import sys, time
duty, burst = float(sys.argv[1]), {burst} / 1000
while True:
    end = time.perf_counter() + burst
    while time.perf_counter() < end:
        pass
    if duty < 1:
        time.sleep(burst * (1 - duty) / duty)
""".format(burst=BURST_MS)
ARMS = {"2 threads": (2, False), "tuner": (2, True), "1 thread": (1, False)}


def rate(doc: dict, threads: int, tune: bool) -> float:
    torch.set_num_threads(threads)
    trainer = Trainer(doc)
    trainer.tune_threads = tune
    ticks = [time.perf_counter()]
    for event in trainer.events():
        if event["event"] == "epoch":
            ticks.append(time.perf_counter())
    epochs = [b - a for a, b in zip(ticks, ticks[1:])][1:]
    return len(trainer.data.train_x) / statistics.median(epochs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duty", type=float, nargs="*", default=[0.0, 0.2, 1.0],
                        help="the competitor's share of a core (0: none)")
    args = parser.parse_args()
    doc = template(args.template)
    doc["training"].update(epochs=args.epochs, device="cpu")
    print(f"{args.template}, {args.epochs} epochs, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    for duty in args.duty:
        competitor = (subprocess.Popen([sys.executable, "-c", COMPETITOR, str(duty)]) if duty else None)
        try:
            ratios: dict[str, list[float]] = {arm: [] for arm in ARMS}
            rates: list[float] = []
            for round_ in range(args.rounds):
                arms = list(ARMS) if round_ % 2 == 0 else list(reversed(ARMS))
                measured = {arm: rate(doc, *ARMS[arm]) for arm in arms}
                rates.append(measured["2 threads"])
                for arm, value in measured.items():
                    ratios[arm].append(value / measured["2 threads"])
        finally:
            if competitor is not None:
                competitor.kill()
                competitor.wait()
        print(f"competitor {duty:.0%} of a core: 2 threads {statistics.median(rates):,.0f} samples/s; "
              + "; ".join(f"{arm} {statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})"
                          for arm, v in ratios.items() if arm != "2 threads")
              + f"  [load {os.getloadavg()[0]:.2f}]", flush=True)


if __name__ == "__main__":
    main()
