"""What health statistics cost: the engine with health on (the default: statistics every HEALTH_EVERY
steps, findings, health.jsonl, the time per layer after the first epoch) against health off, in paired
rounds in one process; prints samples/s of each and the median ratio (goal >= 0.95).

    python benchmarks/health_cost.py [--template digits-cnn] [--epochs 4] [--rounds 5] [--device cpu]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from workbench.core.templates import template
from workbench.training.engine import Trainer
from workbench.training.health import HEALTH_EVERY


def samples_per_s(doc: dict, every: int, folder: str) -> tuple[float, int]:
    """Training samples per second of one run (wall time, validation included), and its health events."""
    trainer = Trainer(doc, run_dir=folder, health_every=every)
    start = time.perf_counter()
    health = 0
    for event in trainer.events():
        health += event["event"] in ("health", "timing")
        if event["event"] == "done" and event["status"] != "finished":
            raise SystemExit(event["message"])
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return len(trainer.data.train_x) * trainer.config.epochs / (time.perf_counter() - start), health


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--count", type=int, help="training samples (data.count; default: the whole dataset)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every", type=int, default=HEALTH_EVERY)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    doc = template(args.template)
    doc["training"] = {**doc["training"], "epochs": args.epochs, "device": args.device}
    if args.count:
        doc["data"]["count"] = args.count
    ratios, on_rates, off_rates = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        samples_per_s(doc, args.every, f"{tmp}/warm-up")  # torch's first-use costs out of the rounds
        for r in range(args.rounds):  # paired and alternated: machine noise hits both alike
            order = [(0, "off"), (args.every, "on")] if r % 2 == 0 else [(args.every, "on"), (0, "off")]
            rates: dict[str, float] = {}
            for every, name in order:
                rates[name], events = samples_per_s(doc, every, f"{tmp}/{r}-{name}")
                if name == "on":
                    collected = events
            ratios.append(rates["on"] / rates["off"])
            on_rates.append(rates["on"])
            off_rates.append(rates["off"])
            print(f"  round {r + 1}: off {rates['off']:,.0f}/s  on {rates['on']:,.0f}/s  ratio {ratios[-1]:.3f}  "
                  f"({collected} health events)")
    print(f"template {args.template} on {args.device} ({torch.get_num_threads()} threads), {args.epochs} epochs, "
          f"health every {args.every} steps")
    print(f"health off: {statistics.median(off_rates):,.0f} samples/s (median)")
    print(f"health on:  {statistics.median(on_rates):,.0f} samples/s (median)")
    print(f"ratio on/off: {statistics.median(ratios):.3f} median of {args.rounds} paired rounds "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})  (goal >= 0.95)")


if __name__ == "__main__":
    main()
