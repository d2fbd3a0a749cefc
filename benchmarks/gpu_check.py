"""One GPU check (< 3 min): digits-cnn on digits and cifar10-cnn on shapes with mixed precision;
prints samples/s, the engine/hand-loop ratio and the time to 97% on digits. Runs on the CPU too
(--device cpu), so CI keeps it working.

    python benchmarks/gpu_check.py [--device cuda] [--epochs 5]
"""
from __future__ import annotations

import argparse
import time

import torch

from workbench.core.build import build_model
from workbench.core.templates import template
from workbench.training.devices import device_name, resolve_device
from workbench.training.engine import Trainer


def run(name: str, device: str, epochs: int, batch_size: int, count: int | None) -> tuple[Trainer, float, list[dict]]:
    doc = template(name)
    if count and doc["data"]["dataset"] == "shapes":
        doc["data"] = {**doc["data"], "count": count}
    doc["training"] = {**doc["training"], "device": device, "epochs": epochs, "batch_size": batch_size, "amp": True}
    trainer = Trainer(doc)
    start = time.perf_counter()
    events = list(trainer.events())
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return trainer, time.perf_counter() - start, events


def hand_loop_rate(trainer: Trainer, epochs: int) -> float:
    """The same model, tensors and batch size in a plain loop, with the same autocast."""
    model = build_model(trainer.project).to(trainer.device)
    opt = torch.optim.Adam(model.parameters(), lr=trainer.config.lr)
    x, y, bs = trainer.data.train_x, trainer.data.train_y, trainer.config.batch_size
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), device=trainer.device)
        for i in range(0, len(x), bs):
            index = order[i:i + bs]
            with trainer._autocast():
                loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
            opt.zero_grad(set_to_none=True)
            trainer.scaler.scale(loss).backward()
            trainer.scaler.step(opt)
            trainer.scaler.update()
        with torch.no_grad(), trainer._autocast():
            model.eval()
            model(trainer.data.val_x).float().mean().item()
            model.train()
    if trainer.device.type == "cuda":
        torch.cuda.synchronize()
    return len(x) * epochs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--count", type=int, default=20000, help="shapes images to generate")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(f"device: {device} ({device_name(device)}); torch {torch.__version__}; mixed precision on CUDA")
    for name in ("digits-cnn", "cifar10-cnn"):
        run(name, str(device), 1, args.batch_size, args.count)  # warm-up (kernels, cuDNN autotune)
        trainer, seconds, events = run(name, str(device), args.epochs, args.batch_size, args.count)
        engine_rate = len(trainer.data.train_x) * args.epochs / seconds
        loop_rate = hand_loop_rate(trainer, args.epochs)
        last = [e for e in events if e["event"] == "epoch"][-1]
        print(f"{name} on {trainer.data.name}: engine {engine_rate:,.0f} samples/s, hand loop {loop_rate:,.0f} "
              f"samples/s, ratio {engine_rate / loop_rate:.3f}; val accuracy {last['val_accuracy']:.3f} "
              f"after {args.epochs} epochs ({seconds:.1f} s)")
    doc = template("digits-cnn")
    doc["training"] = {**doc["training"], "device": str(device)}
    start = time.perf_counter()
    for event in Trainer(doc).events():
        if event["event"] == "epoch" and event["val_accuracy"] >= 0.97:
            print(f"digits-cnn reached 97% at epoch {event['epoch']} after {time.perf_counter() - start:.1f} s")
            break


if __name__ == "__main__":
    main()
