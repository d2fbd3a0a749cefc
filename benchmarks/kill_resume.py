"""kill -9 at random moments of plain and layer-wise runs, each followed by a resume: the resumed
curves must match an uninterrupted run's, every time (issue 12, item 2).

For each schedule an uninterrupted reference run is timed; then each trial starts the same run in a
child process, kills it with SIGKILL at a moment drawn uniformly over the reference's duration
(training steps, validation, and the checkpoint writes, which are made large here: the plain network
holds 2.2 M parameters, 26 MB of weights and Adam state written with fsync each epoch), resumes the
run folder in another child, and compares every epoch's training and validation loss with the
reference. Children are forked from this process (torch imported and the data loaded once, one torch
thread), so a trial costs a run, not an interpreter start. POSIX only.

    python benchmarks/kill_resume.py [--kills 100] [--seed 0] [--keep]

Prints, per schedule: trials, how many kills landed before the run began (while the data loaded:
there is nothing to resume, so the run is started again), before the first checkpoint, or in the
middle of a checkpoint write (a folder or temporary file the commit never named was left), and how
many resumed curves matched the reference.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import torch

from workbench.core.templates import template
from workbench.data import load_dataset
from workbench.training.run_folder import CHECKPOINT_FOLDER, open_run
from workbench.training.schedules import make_trainer, resume_trainer


def plain_project() -> dict:
    return {"name": "mlp", "input": [1, 8, 8],
            "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 2048}, {"type": "ReLU"},
                       {"type": "Linear", "out_features": 1024}, {"type": "ReLU"},
                       {"type": "Linear", "out_features": 10}],
            "data": {"dataset": "digits", "count": 300},
            "training": {"epochs": 10, "batch_size": 64, "lr": 0.0005, "device": "cpu"}}


def layerwise_project() -> dict:
    doc = template("stacked-autoencoder")
    doc["data"] = {"dataset": "digits", "count": 300}
    doc["training"] = {**doc["training"], "epochs": 12, "batch_size": 32, "device": "cpu"}
    return doc


def curve(run_dir: Path) -> list[tuple]:
    return [(e["epoch"], e.get("stage"), e["train_loss"], e["val_loss"])
            for e in open_run(run_dir).metrics if e["event"] == "epoch"]


def in_child(work) -> int:  # noqa: ANN001 - a callable run in a forked child
    """Fork; the child runs `work` and exits (0 when its run finished). Returns the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if work() else 1
        finally:
            os._exit(code)
    return pid


def finished(events) -> bool:  # noqa: ANN001
    return list(events)[-1]["status"] == "finished"


def leftovers(run_dir: Path) -> bool:
    """A checkpoint folder state.json does not name, or a temporary file: a write was cut off."""
    checkpoints = run_dir / "checkpoints"
    if not checkpoints.is_dir():
        return False
    named = open_run(run_dir).state.get("checkpoint")
    folders = [p.name for p in checkpoints.iterdir() if CHECKPOINT_FOLDER.fullmatch(p.name)]
    temps = list(run_dir.glob(".*.tmp")) + list(checkpoints.glob(".*.tmp"))
    return bool(temps) or any(name != named for name in folders)


def trials(name: str, project: dict, kills: int, rng: random.Random, root: Path) -> None:
    reference = root / f"{name}-reference"
    # loaded here, once: a child then spends its time training, where the kills are meant to land
    dataset = load_dataset(project["data"], project["input"])

    def run(run_dir: Path) -> bool:
        return finished(make_trainer(project, run_dir=run_dir, dataset=dataset).events())

    began = time.perf_counter()
    _, status = os.waitpid(in_child(lambda: run(reference)), 0)
    duration = time.perf_counter() - began
    assert status == 0, f"the reference {name} run failed"
    expected = curve(reference)
    matched, before_start, before_first, mid_write, mismatches = 0, 0, 0, 0, []
    for trial in range(kills):
        run_dir = root / f"{name}-{trial}"
        pid = in_child(lambda: run(run_dir))
        time.sleep(rng.uniform(0, duration))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        if not (run_dir / "metrics.jsonl").exists():  # killed while loading, before the run began: start it
            before_start += 1
            work = lambda: run(run_dir)  # noqa: E731
        else:
            if not (run_dir / "checkpoints" / "state.json").exists():
                before_first += 1
            elif leftovers(run_dir):
                mid_write += 1
            work = lambda: finished(resume_trainer(run_dir).events())  # noqa: E731
        _, status = os.waitpid(in_child(work), 0)
        got = curve(run_dir) if status == 0 else []
        same = len(got) == len(expected) and all(
            a[:2] == b[:2] and abs(a[2] - b[2]) <= 1e-5 * abs(b[2]) and abs(a[3] - b[3]) <= 1e-5 * abs(b[3])
            for a, b in zip(got, expected))
        matched += same
        if not same:
            mismatches.append(trial)
        shutil.rmtree(run_dir, ignore_errors=True)
    print(f"{name:>9}: {kills} kill -9 at random moments of a {duration:.1f} s run ({len(expected)} epochs); "
          f"{before_start} before the run began (started again), {before_first} before the first checkpoint, "
          f"{mid_write} in the middle of a checkpoint write; "
          f"resumed curve = uninterrupted curve in {matched}/{kills}"
          + (f" (differed: trials {mismatches})" if mismatches else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100, help="in all, half for each schedule")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the run folders (in a temporary folder)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # forked children: no thread pool to inherit; and runs repeat exactly
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # imports torch._dynamo (seconds) once, here
    root = Path(tempfile.mkdtemp(prefix="kill-resume-"))
    rng = random.Random(args.seed)
    try:
        trials("plain", plain_project(), args.kills - args.kills // 2, rng, root)
        trials("layerwise", layerwise_project(), args.kills // 2, rng, root)
    finally:
        if args.keep:
            print(f"run folders in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
