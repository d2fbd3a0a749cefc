"""digits-cnn on digits with the template's own training settings: when does validation accuracy
reach 97%? Goal: within 60 s on a 2-core CPU. Prints the epoch, the seconds and the best accuracy.

    python benchmarks/digits_accuracy.py [--device cpu] [--template digits-cnn] [--target 0.97]
"""
from __future__ import annotations

import argparse
import time

from workbench.core.templates import template
from workbench.training.engine import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--target", type=float, default=0.97)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    for seed in range(args.seeds):
        doc = template(args.template)
        doc["training"] = {**doc["training"], "device": args.device, "seed": seed}
        wall = time.perf_counter()
        trainer = Trainer(doc)
        reached, best = None, 0.0
        for event in trainer.events():
            if event["event"] != "epoch":
                continue
            best = max(best, event["val_accuracy"])
            if reached is None and event["val_accuracy"] >= args.target:
                reached = (event["epoch"], time.perf_counter() - wall)
        total = time.perf_counter() - wall
        when = f"epoch {reached[0]} after {reached[1]:.1f} s" if reached else "never"
        print(f"seed {seed}: {args.target:.0%} reached {when}; best {best:.3f}; "
              f"{trainer.config.epochs} epochs in {total:.1f} s (goal: within 60 s)")


if __name__ == "__main__":
    main()
