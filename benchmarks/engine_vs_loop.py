"""Engine vs a minimal hand-written PyTorch loop: same model, tensors, batch size, epochs and a
validation pass per epoch. Prints samples/s of each and the ratio (goal >= 0.97, issue 19).

    python benchmarks/engine_vs_loop.py [--template digits-cnn] [--epochs 8] [--rounds 5] [--device cpu]
        [--variants plain,channels_last,fused,default] [--clock cpu] [--threads N]

A run's rate is its training samples over the median time of its epochs (training and validation;
the first epoch, which warms up, is left out). Each round runs the loop, then each engine variant,
and the ratio is taken within the round; the median of the rounds' ratios is printed with their
range, so a busy spell of a shared machine falls on one round, not on one side.

Variants of the engine (training.acceleration): "plain" with nothing switched on (what the engine's
own bookkeeping costs), "channels_last", "fused" or "compile" with that one switch on, "default" with
the device's defaults (what a user gets). How the CPU's defaults were chosen: benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from workbench.core.build import build_model
from workbench.core.templates import template
from workbench.training.acceleration import Acceleration, default_acceleration
from workbench.training.engine import Trainer

VARIANTS = ("plain", "default", "channels_last", "fused", "compile")
GOAL = 0.97
# What a rate is measured on: wall time, or with --clock cpu this process's CPU time (all its threads),
# which a machine shared with other busy processes disturbs far less than the wall clock.
clock = time.perf_counter


def median_rate(samples: int, ticks: list[float]) -> float:
    """samples per second over the median epoch; ticks: the clock at the start and at each epoch's end."""
    epochs = [b - a for a, b in zip(ticks, ticks[1:])]
    return samples / statistics.median(epochs[1:] if len(epochs) > 2 else epochs)


def hand_loop(model, data, batch_size: int, epochs: int, lr: float, device: torch.device) -> float:
    """The loop anyone would write; returns training samples per second (incl. validation)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y, vx, vy = data.train_x, data.train_y, data.val_x, data.val_y
    ticks = [clock()]
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x), batch_size):
            index = order[i:i + batch_size]
            loss = F.cross_entropy(model(x[index]), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val = F.cross_entropy(model(vx), vy).item()
        if device.type == "cuda":
            torch.cuda.synchronize()
        ticks.append(clock())
        print(f"  loop epoch {epoch + 1}: train loss {loss.item():.4f}  val loss {val:.4f}")
    return median_rate(len(x), ticks)


def acceleration_of(variant: str, device: torch.device, model: torch.nn.Module) -> Acceleration:
    if variant == "default":
        return default_acceleration(device, model)
    switch = {"plain": {}, "channels_last": {"channels_last": True}, "fused": {"fused_optimizer": True},
              "compile": {"compile": "on"}}[variant]
    return replace(Acceleration(), **switch)


def engine(doc: dict, acceleration: Acceleration) -> float:
    """Samples/s over the median epoch; a compile's time (variant "compile") is in the first epoch."""
    trainer = Trainer(doc, acceleration=acceleration)
    ticks = [clock()]
    for event in trainer.events():
        if event["event"] == "epoch":
            if trainer.device.type == "cuda":
                torch.cuda.synchronize()
            ticks.append(clock())
            print(f"  engine epoch {event['epoch']}: train loss {event['train_loss']:.4f}  val loss {event['val_loss']:.4f}")
        if event["event"] == "compiled":
            print(f"  {event['message']}")
    return median_rate(len(trainer.data.train_x), ticks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default, all cores)")
    parser.add_argument("--variants", default="plain,default", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: rates per second of this process's CPU time (a busy shared machine)")
    args = parser.parse_args()
    global clock
    if args.clock == "cpu":
        clock = time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)
    variants = args.variants.split(",")
    if not set(variants) <= set(VARIANTS):
        parser.error(f"--variants: each must be one of {', '.join(VARIANTS)}")
    if "compile" in variants and args.epochs < 3:
        parser.error("--variants compile: give at least 3 epochs (the first, with the compile, is left out)")
    doc = template(args.template)
    doc["training"] = {**doc["training"], "epochs": args.epochs, "batch_size": args.batch_size,
                       "device": args.device, "optimizer": "adam"}
    # loads the data once, on the device, for the hand loop: in the plain layout (the defaults would keep
    # the images channels_last, which a plain loop indexing them would then be fed)
    probe = Trainer(doc, acceleration=Acceleration())
    data, device = probe.data, probe.device
    loops: list[float] = []
    ratios: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        torch.manual_seed(0)
        loops.append(hand_loop(build_model(doc).to(device), data, args.batch_size, args.epochs,
                               doc["training"]["lr"], device))
        for variant in variants:
            ratios[variant].append(engine(doc, acceleration_of(variant, device, probe.model)) / loops[-1])
    print(f"template {args.template} on {device} ({torch.get_num_threads()} threads), batch {args.batch_size}, "
          f"{args.epochs} epochs of {len(data.train_x)} samples, {args.rounds} paired rounds, {args.clock} clock")
    print(f"hand-written loop: {statistics.median(loops):,.0f} samples/s (rounds {min(loops):,.0f}–{max(loops):,.0f})")
    for variant, values in ratios.items():
        median = statistics.median(values)
        print(f"engine, {variant + ':':15s}ratio engine/loop {median:.3f} (rounds {min(values):.3f}–{max(values):.3f})"
              f"  goal >= {GOAL}: {'met' if median >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main()
