"""`workbench train SPEC ...`: train headless, printing one JSON object per line to stdout.

stdout gets the start, epoch and done events (the same dicts the window receives); stderr gets a
progress bar only when it is a terminal. The run folder opens in the window like any other run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from workbench.cli.errors import run_cli
from workbench.training.events import Event
from workbench.data import DATASETS
from workbench.training.config import DEVICES, OPTIMIZERS, SCHEDULES, TASKS

PRINTED = ("start", "epoch", "done")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench train", description=__doc__.splitlines()[0])
    p.add_argument("spec", nargs="?", help="a project file or a built-in template name (see `workbench templates`)")
    p.add_argument("--data", choices=DATASETS, help="dataset (default: the project's data section)")
    p.add_argument("--data-root", help="folder holding torchvision datasets or the image folder")
    p.add_argument("--download", action="store_true", help="let torchvision download MNIST/FashionMNIST/CIFAR-10")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--noise", help="denoise corruption KIND:LEVEL, e.g. gaussian:0.3, masking:0.5, salt-and-pepper:0.1")
    p.add_argument("--loss", choices=("mse", "bce"), help="reconstruction loss for autoencoder/denoise")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--optimizer", choices=OPTIMIZERS)
    p.add_argument("--device", choices=DEVICES)
    p.add_argument("--seed", type=int)
    p.add_argument("--schedule", choices=SCHEDULES,
                   help="layerwise: greedy layer-wise autoencoder pretraining, then fine-tuning "
                        "(default: the project's training.schedule, else plain)")
    p.add_argument("--out", help="run folder to create (default: runs/NAME-TIME)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run folder (SPEC not needed; --epochs may raise the total)")
    return p


def _progress(event: Event, epochs: int) -> None:
    """A progress bar on stderr; events' epochs count across stages and on from a resumed run."""
    if event["event"] != "batch" and event["event"] != "epoch":
        return
    epochs_done = event["epoch"] - (event["event"] == "batch")  # a batch event's epoch is still running
    width = 30
    filled = int(width * min(epochs_done / max(epochs, 1), 1.0))
    eta = int(event["eta_s"])
    stage = f" {event['stage']}" if event.get("stage") else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] epoch {min(epochs_done + 1, epochs)}/{epochs}{stage} "
                     f"loss {event['train_loss']:.4f}  {event['samples_per_s']:,.0f} samples/s  "
                     f"ETA {eta // 60}:{eta % 60:02d} ")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)

    def body() -> int:
        from workbench.core.spec import load_spec
        from workbench.training.schedules import make_trainer, resume_trainer

        overrides = {"task": args.task, "noise": args.noise, "loss": args.loss, "epochs": args.epochs,
                     "batch_size": args.batch_size, "lr": args.lr, "weight_decay": args.weight_decay,
                     "optimizer": args.optimizer, "device": args.device, "seed": args.seed}
        if args.resume:
            trainer = resume_trainer(args.resume, **overrides)
        else:
            if not args.spec:
                raise ValueError("give a project file or template name (or --resume RUN_DIR)")
            project = load_spec(args.spec)
            data = dict(project.get("data", {}))
            if args.data:
                data["dataset"] = args.data
            if args.data_root:
                data["root"] = args.data_root
            if args.download:
                data["download"] = True
            project["data"] = data
            name = project.get("name") or Path(str(args.spec)).stem
            out = args.out or str(Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
            trainer = make_trainer(project, args.schedule, run_dir=out, **overrides)
        tty = sys.stderr.isatty()
        status, epochs = "finished", trainer.config.epochs
        for event in trainer.events():
            if event["event"] == "start":
                epochs = event["epochs"]  # all stages' epochs
            if tty:
                _progress(event, epochs)
            if event["event"] in PRINTED:
                if tty and event["event"] == "done":
                    sys.stderr.write("\n")
                print(json.dumps(event), flush=True)
                status = event["status"] if event["event"] == "done" else status
        return 0 if status == "finished" else 1

    return run_cli("train", body)
