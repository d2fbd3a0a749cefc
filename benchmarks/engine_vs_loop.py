"""Engine vs a minimal hand-written PyTorch loop: same model, tensors, batch size, epochs and a
validation pass per epoch. Prints samples/s of each and the ratio (goal >= 0.95).

    python benchmarks/engine_vs_loop.py [--template digits-cnn] [--epochs 6] [--device cpu]
        [--variants plain,channels_last,fused,default] [--clock cpu]

Variants of the engine (training.acceleration): "plain" with nothing switched on, "channels_last",
"fused" or "compile" with that one switch on, "default" with the device's defaults. How the CPU's
defaults were chosen (benchmarks/README.md).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
import torch.nn.functional as F

from workbench.core.build import build_model
from workbench.core.templates import template
from workbench.training.acceleration import Acceleration, default_acceleration
from workbench.training.engine import Trainer

VARIANTS = ("plain", "default", "channels_last", "fused", "compile")
# What a rate is measured on: wall time, or with --clock cpu this process's CPU time (all its threads),
# which a machine shared with other busy processes disturbs far less than the wall clock.
clock = time.perf_counter


def hand_loop(model, data, batch_size: int, epochs: int, lr: float, device: torch.device) -> float:
    """The loop anyone would write; returns training samples per second (incl. validation)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y, vx, vy = data.train_x, data.train_y, data.val_x, data.val_y
    start = clock()
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
        print(f"  loop epoch {epoch + 1}: train loss {loss.item():.4f}  val loss {val:.4f}")
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(x) * epochs / (clock() - start)


def acceleration_of(variant: str, device: torch.device, model: torch.nn.Module) -> Acceleration:
    if variant == "default":
        return default_acceleration(device, model)
    switch = {"plain": {}, "channels_last": {"channels_last": True}, "fused": {"fused_optimizer": True},
              "compile": {"compile": "on"}}[variant]
    return replace(Acceleration(), **switch)


def engine(doc: dict, acceleration: Acceleration) -> float:
    """Samples/s; a compile's time (variant "compile", wall clock only) is left out, as in the engine."""
    trainer = Trainer(doc, acceleration=acceleration)
    start = clock()
    for event in trainer.events():
        if event["event"] == "epoch":
            print(f"  engine epoch {event['epoch']}: train loss {event['train_loss']:.4f}  val loss {event['val_loss']:.4f}")
            seconds = event["time_s"]
        if event["event"] == "compiled":
            print(f"  {event['message']}")
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    took = clock() - start
    return len(trainer.data.train_x) * trainer.config.epochs / (seconds if acceleration.compile == "on" else took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default="default", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: rates per second of this process's CPU time (a busy shared machine)")
    args = parser.parse_args()
    global clock
    if args.clock == "cpu":
        if "compile" in args.variants:
            parser.error("--clock cpu cannot leave a compile's time out: measure variant compile on the wall clock")
        clock = time.process_time
    variants = args.variants.split(",")
    if not set(variants) <= set(VARIANTS):
        parser.error(f"--variants: each must be one of {', '.join(VARIANTS)}")
    doc = template(args.template)
    doc["training"] = {**doc["training"], "epochs": args.epochs, "batch_size": args.batch_size,
                       "device": args.device, "optimizer": "adam"}
    probe = Trainer(doc)  # loads the data once, on the device, for the hand loop
    data, device = probe.data, probe.device
    loops: list[float] = []
    engines: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.rounds):  # interleaved, best of each: machine noise hits all alike
        torch.manual_seed(0)
        loops.append(hand_loop(build_model(doc).to(device), data, args.batch_size, args.epochs,
                               doc["training"]["lr"], device))
        for variant in variants:
            engines[variant].append(engine(doc, acceleration_of(variant, device, probe.model)))
    loop = max(loops)
    print(f"template {args.template} on {device} ({torch.get_num_threads()} threads), batch {args.batch_size}, "
          f"{args.epochs} epochs of {len(data.train_x)} samples, best of {args.rounds} rounds, {args.clock} clock")
    print(f"hand-written loop: {loop:,.0f} samples/s")
    for variant, rates in engines.items():
        print(f"engine, {variant + ':':15s}{max(rates):,.0f} samples/s, ratio engine/loop {max(rates) / loop:.3f}"
              f"  (goal >= 0.95)")


if __name__ == "__main__":
    main()
