"""`workbench train SPEC ...`: train headless, printing one JSON object per line to stdout.

stdout gets the start, epoch and done events (the same dicts the window receives); stderr gets a
progress bar only when it is a terminal. The run folder opens in the window like any other run.
Ctrl+C or SIGTERM stops at the next step (the run folder records it, and --resume goes on); a
second one interrupts at once.

Under torchrun (`torchrun --nproc_per_node N -m workbench train SPEC ...`) every process trains its
share of each batch (workbench.training.distributed); rank 0 alone writes the run folder and prints.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from workbench.cli.errors import run_cli
from workbench.training.events import Event
from workbench.data import DATASETS
from workbench.training.config import DEVICES, OPTIMIZERS, SCHEDULES, TASKS

if TYPE_CHECKING:
    from workbench.training.distributed import World
    from workbench.training.engine import Trainer
    from workbench.training.events import DoneEvent

PRINTED = ("start", "compiled", "epoch", "done")  # compiled: how long torch.compile took, or why not


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
    p.add_argument("--local-batch-norm", action="store_true",
                   help="under torchrun on GPUs: keep BatchNorm statistics per process (default: SyncBatchNorm, "
                        "the statistics of the global batch)")
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


@contextlib.contextmanager
def _stopping_on_signals(trainer: "Trainer") -> Iterator[None]:
    """SIGINT (Ctrl+C) and SIGTERM (a scheduler, torchrun ending the run) stop at the next step, or
    under torchrun at the next sync point, on every rank; a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    asked: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)
        trainer.stop()

    previous = {sig: signal.signal(sig, stop) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _build(args: argparse.Namespace, world: "World") -> "Trainer":
    from workbench.core.spec import load_spec
    from workbench.training.schedules import make_trainer, resume_trainer

    overrides = {"task": args.task, "noise": args.noise, "loss": args.loss, "epochs": args.epochs,
                 "batch_size": args.batch_size, "lr": args.lr, "weight_decay": args.weight_decay,
                 "optimizer": args.optimizer, "device": args.device, "seed": args.seed}
    if args.resume:
        return resume_trainer(args.resume, world=world, **overrides)
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
    out = args.out or str(Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")  # rank 0's is written
    return make_trainer(project, args.schedule, run_dir=out, world=world, **overrides)


def _train(args: argparse.Namespace, world: "World") -> tuple[int, bool]:
    """Build and run the trainer: the exit status, and whether every rank ended the run with this one
    (not so when one rank failed on its own: the others may be gone)."""
    from workbench.training.run_folder import strict_json

    trainer = world.main_first(lambda: _build(args, world))
    tty = sys.stderr.isatty() and world.is_main
    done: DoneEvent | None = None
    epochs = trainer.config.epochs
    with _stopping_on_signals(trainer):
        for event in trainer.events():
            if event["event"] == "start":
                epochs = event["epochs"]  # all stages' epochs
            if tty:
                _progress(event, epochs)
            if event["event"] == "done":
                done = event
                if tty:
                    sys.stderr.write("\n")
            if event["event"] in PRINTED and world.is_main:
                print(strict_json(event), flush=True)
    assert done is not None  # every run ends in a done event
    if not world.is_main and done.get("failed_process") == world.rank + 1:  # rank 0 may be gone: say it here
        print(f"workbench train (process {world.rank + 1} of {world.size}): {done['message']}", file=sys.stderr,
              flush=True)
    return (0 if done["status"] == "finished" else 1), "failed_process" not in done


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from workbench.training import distributed

    several = distributed.launched() and int(os.environ["WORLD_SIZE"]) > 1
    verb = f"train (process {int(os.environ['RANK']) + 1} of {os.environ['WORLD_SIZE']})" if several else "train"

    def body() -> int:
        world = distributed.join(not args.local_batch_norm) if several else distributed.SINGLE
        together = False  # whether every rank ends with this one (not after a failure of one of them)
        try:
            code, together = _train(args, world)
            return code
        except distributed.PeerFailed:
            return 1  # the rank that failed has said why
        finally:
            distributed.leave(together)

    return run_cli(verb, body)
