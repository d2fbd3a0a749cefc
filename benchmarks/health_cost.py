"""What health statistics cost: the engine with health on (the default: statistics every HEALTH_EVERY
steps, findings, health.jsonl, the time per layer after the first epoch) against health off, in paired
rounds in one process; prints samples/s of each and the median ratio (goal >= 0.95).

    python benchmarks/health_cost.py [--template digits-cnn] [--epochs 4] [--rounds 5] [--device cpu]

Two ratios: of wall-clock throughput, and of throughput per second of this process's CPU time. On a
machine shared with other work the wall clock measures the neighbours as much as the engine; the CPU
time (with one torch thread, --threads 1, the default) measures the work health adds.
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


def samples_per_s(doc: dict, every: int, folder: str) -> tuple[float, float, int]:
    """Training samples per second of one run (validation included) by the wall clock and by this
    process's CPU time, and its health events."""
    trainer = Trainer(doc, run_dir=folder, health_every=every)
    start, cpu = time.perf_counter(), time.process_time()
    health = 0
    for event in trainer.events():
        health += event["event"] in ("health", "timing")
        if event["event"] == "done" and event["status"] != "finished":
            raise SystemExit(event["message"])
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    samples = len(trainer.data.train_x) * trainer.config.epochs
    return samples / (time.perf_counter() - start), samples / (time.process_time() - cpu), health


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--count", type=int, help="training samples (data.count; default: the whole dataset)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--every", type=int, default=HEALTH_EVERY)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: see above)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    doc = template(args.template)
    doc["training"] = {**doc["training"], "epochs": args.epochs, "device": args.device}
    if args.count:
        doc["data"]["count"] = args.count
    wall: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as tmp:
        samples_per_s(doc, args.every, f"{tmp}/warm-up")  # torch's first-use costs out of the rounds
        for r in range(args.rounds):  # paired and alternated: machine noise hits both alike
            order = [(0, "off"), (args.every, "on")] if r % 2 == 0 else [(args.every, "on"), (0, "off")]
            for every, name in order:
                by_wall, by_cpu, events = samples_per_s(doc, every, f"{tmp}/{r}-{name}")
                wall[name].append(by_wall)
                cpu[name].append(by_cpu)
                if name == "on":
                    collected = events
            print(f"  round {r + 1}: wall off {wall['off'][-1]:,.0f}/s on {wall['on'][-1]:,.0f}/s "
                  f"({wall['on'][-1] / wall['off'][-1]:.3f}); per CPU second off {cpu['off'][-1]:,.0f} "
                  f"on {cpu['on'][-1]:,.0f} ({cpu['on'][-1] / cpu['off'][-1]:.3f}); {collected} health events")
    print(f"template {args.template} on {args.device} ({torch.get_num_threads()} threads), {args.epochs} epochs, "
          f"health every {args.every} steps, {args.rounds} paired rounds")
    for name, rates in (("wall clock", wall), ("CPU time", cpu)):
        ratios = [on / off for on, off in zip(rates["on"], rates["off"])]
        print(f"{name:>10}: off {statistics.median(rates['off']):,.0f} samples/s, on "
              f"{statistics.median(rates['on']):,.0f}; ratio on/off {statistics.median(ratios):.3f} median "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})  (goal >= 0.95)")


if __name__ == "__main__":
    main()
