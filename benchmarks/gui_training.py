"""Training with the Training panel open and its curves live vs headless, in one run, on the CPU.

The panel path is the app's: TrainingPanel -> TrainingRunner -> the training process
(workbench.training.remote), its curves redrawn from the throttled updates on this GUI thread.
Headless is the engine iterated in this process with torch's default threads (all cores), as
`workbench train` runs. Prints steps/s of each, the ratio (goal >= 0.85 on a 2-core CPU) and how
late a 5 ms QTimer fires on the GUI thread while training (goal: never > 50 ms late, p99 <= 16 ms),
for each torch thread count given to the training process.

    python benchmarks/gui_training.py [--template cifar10-cnn] [--epochs 3] [--count 3000] [--threads 1 2]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import torch  # noqa: E402


def project(args: argparse.Namespace) -> dict:
    from workbench.core.templates import template

    doc = template(args.template)
    doc["data"] = {**doc["data"], "count": args.count} if doc["data"]["dataset"] == "shapes" else doc["data"]
    doc["training"] = {**doc["training"], "epochs": args.epochs, "device": "cpu"}
    return doc


def steps_per_s(events: list[dict]) -> float:
    last = [e for e in events if e.get("event") == "epoch"][-1]
    return last["global_step"] / last["time_s"]


def headless(doc: dict) -> float:
    from workbench.training.engine import Trainer

    return steps_per_s(list(Trainer(doc).events()))


class LateTimer:
    """A 5 ms precise QTimer on the GUI thread that records how late each tick fires (ms)."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.late: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.last = time.perf_counter()
        self.timer.start(5)

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.array(self.late[1:] or [0.0]) * 1000

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, now - self.last - 0.005))
        self.last = now


def ready_panel(doc: dict, threads: int):
    """A shown TrainingPanel whose training process (with `threads` torch threads) has started."""
    from workbench.core.project import Project
    from workbench.training.remote import TrainingProcess
    from workbench.ui.training.panel import TrainingPanel

    panel = TrainingPanel(Project(doc), runs_root=tempfile.mkdtemp())
    panel.runner.process = TrainingProcess(torch_threads=threads)
    panel.resize(900, 600)
    panel.show()
    panel.runner.process.wait_ready()  # not timed: the app spawns it when the panel is first shown
    return panel


def with_panel(doc: dict, threads: int) -> tuple[float, np.ndarray, int]:
    from PySide6.QtCore import QEventLoop

    from workbench.training.run_folder import open_run

    panel = ready_panel(doc, threads)
    updates = [0]
    panel.runner.updated.connect(lambda update: updates.__setitem__(0, updates[0] + 1))
    timer = LateTimer()
    loop = QEventLoop()
    panel.run_finished.connect(lambda done: loop.quit())
    panel.start()
    timer.start()
    loop.exec()
    late = timer.stop()
    rate = steps_per_s(open_run(panel.run_dir).metrics)
    panel.stop_and_wait()
    panel.close()
    return rate, late, updates[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="cifar10-cnn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads in the process")
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from workbench.ui.shell.app import paint_on_one_thread

    paint_on_one_thread()  # as the app does
    app = QApplication.instance() or QApplication([])  # noqa: F841 - kept alive for the panels
    doc = project(args)
    cores = os.cpu_count() or 2
    headless(doc)  # warm-up: first-run allocations and kernels
    modes: dict[str, int | None] = {"headless": None, **{f"panel, {n} thread": n for n in args.threads}}
    runs: dict[str, list[tuple]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):  # interleaved: other load on the machine hits every mode alike
        for mode, threads in modes.items():
            runs[mode].append((headless(doc), np.zeros(1), 0) if threads is None else with_panel(doc, threads))
    base = max(r[0] for r in runs["headless"])
    print(f"{args.template}, {args.epochs} epochs, {args.rounds} rounds; {cores} cores")
    print(f"headless ({torch.get_num_threads()} torch threads): best {base:6.1f} steps/s, "
          f"typical {np.median([r[0] for r in runs['headless']]):6.1f}")
    for mode in modes:
        if modes[mode] is None:
            continue
        rate, late, updates = max(runs[mode], key=lambda r: r[0])
        typical = np.median([r[0] for r in runs[mode]])
        print(f"{mode}: best {rate:6.1f} steps/s  ratio {rate / base:.3f} (typical {typical / base:.3f})  "
              f"5 ms timer late: p50 {np.percentile(late, 50):.1f} ms, p99 {np.percentile(late, 99):.1f} ms, "
              f"max {late.max():.1f} ms; {updates} updates")
    print("goal: ratio >= 0.85; timer never > 50 ms late, p99 <= 16 ms")


if __name__ == "__main__":
    main()
