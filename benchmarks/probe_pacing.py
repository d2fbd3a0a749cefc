"""Live probes keep their rate whatever the step time, timed for real (the test suite checks the same
pacing on a virtual clock: tests/training/test_engine.py::test_probes_keep_their_rate_whatever_the_step_time).

Each round trains a one-layer classifier whose steps are slowed to a given time, asks for a probe
every 50 ms (the capture itself replaced by a no-op, so only the pacing is measured) and prints
probes per second against the goal of one per interval, or one per step when a step is longer.
Timed from each probe (before the beat), 30 ms steps gave one probe every 2 steps (~17/s, 0.83).

    python benchmarks/probe_pacing.py [--interval 0.05] [--epochs 3]
"""
from __future__ import annotations

import argparse
import time

import torch

from workbench.core.templates import template
from workbench.training import probes
from workbench.training.engine import Trainer


def probe_rate(step_s: float, interval_s: float, epochs: int) -> float:
    probed: list[float] = []
    capture, step = probes.LiveProbe.capture, Trainer._step
    probes.LiveProbe.capture = lambda live, model, request: probed.append(time.perf_counter()) or {}

    def slow_step(self, *args):  # noqa: ANN001, ANN202
        time.sleep(step_s)
        return step(self, *args)

    Trainer._step = slow_step
    try:
        doc = template("digits-cnn")
        doc["data"] = {"dataset": "digits", "count": 240}
        doc["layers"] = [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}]
        doc["training"] = {**doc["training"], "epochs": epochs, "batch_size": 8, "device": "cpu"}
        trainer = Trainer(doc, probe_interval_s=interval_s)
        trainer.set_probe_request(probes.ProbeRequest(confusion=True))
        list(trainer.events())
    finally:
        probes.LiveProbe.capture, Trainer._step = capture, step
    return (len(probed) - 1) / (probed[-1] - probed[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for step_s in (0.011, 0.03, 0.07):
        goal = 1 / max(args.interval, step_s)
        rate = probe_rate(step_s, args.interval, args.epochs)
        print(f"steps of {step_s * 1000:4.0f} ms: {rate:5.1f} probes/s, goal {goal:5.1f}/s, ratio {rate / goal:.2f} "
              f"(goal 0.9-1.1)")


if __name__ == "__main__":
    main()
