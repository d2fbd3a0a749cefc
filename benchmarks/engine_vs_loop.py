"""Engine vs a minimal hand-written PyTorch loop: same model, tensors, batch size, epochs and a
validation pass per epoch. Prints samples/s of each and the ratio (goal >= 0.95).

    python benchmarks/engine_vs_loop.py [--template digits-cnn] [--epochs 6] [--device cpu]
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from workbench.core.build import build_model
from workbench.core.templates import template
from workbench.training.engine import Trainer


def hand_loop(model, data, batch_size: int, epochs: int, lr: float, device: torch.device) -> float:
    """The loop anyone would write; returns training samples per second (wall time incl. validation)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y, vx, vy = data.train_x, data.train_y, data.val_x, data.val_y
    start = time.perf_counter()
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
    return len(x) * epochs / (time.perf_counter() - start)


def engine(doc: dict) -> float:
    trainer = Trainer(doc)
    start = time.perf_counter()
    for event in trainer.events():
        if event["event"] == "epoch":
            print(f"  engine epoch {event['epoch']}: train loss {event['train_loss']:.4f}  val loss {event['val_loss']:.4f}")
    return len(trainer.data.train_x) * trainer.config.epochs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="digits-cnn")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    doc = template(args.template)
    doc["training"] = {**doc["training"], "epochs": args.epochs, "batch_size": args.batch_size,
                       "device": args.device, "optimizer": "adam"}
    probe = Trainer(doc)  # loads the data once, on the device, for the hand loop
    data, device = probe.data, probe.device
    loops, engines = [], []
    for _ in range(args.rounds):  # interleaved, best of each: machine noise hits both alike
        torch.manual_seed(0)
        loops.append(hand_loop(build_model(doc).to(device), data, args.batch_size, args.epochs,
                               doc["training"]["lr"], device))
        engines.append(engine(doc))
    loop, eng = max(loops), max(engines)
    print(f"template {args.template} on {device} ({torch.get_num_threads()} threads), batch {args.batch_size}, "
          f"{args.epochs} epochs of {len(data.train_x)} samples")
    print(f"hand-written loop: {loop:,.0f} samples/s")
    print(f"engine:            {eng:,.0f} samples/s")
    print(f"ratio engine/loop: {eng / loop:.3f}  (goal >= 0.95)")


if __name__ == "__main__":
    main()
