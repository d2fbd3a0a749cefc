"""Training off the GUI thread: the engine runs in a QThread; the GUI gets throttled updates.

The worker coalesces the engine's events and emits at most `MAX_UPDATES_PER_S` `updated` signals,
each carrying plain numbers and numpy arrays (never live tensors):

    {"start": dict | None, "steps": (global_step array, loss array), "epochs": [epoch events],
     "progress": the latest batch/epoch event | None, "paused": bool | None, "probe": dict | None}

and one `finished(done_event)`. On 2 cores the GUI thread and torch's intra-op threads compete;
measured with benchmarks/gui_training.py (cifar10-cnn), capping torch at one thread lost more
(16 vs 20 steps/s) than the contention does, so torch keeps all cores; the GUI's share is kept
small instead (<= 20 updates/s, only changed plots repaint, ~2 ms per update).
"""
from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

MAX_UPDATES_PER_S = 20


def gui_torch_threads() -> int:
    """Torch threads while the window is open (all cores: see the module docstring)."""
    return os.cpu_count() or 1


class TrainingWorker(QObject):
    updated = Signal(object)
    finished = Signal(object)

    def __init__(self, project: dict, run_dir: str | None, overrides: dict[str, Any] | None = None,
                 resume: bool = False, torch_threads: int | None = None):
        super().__init__()
        self.project, self.run_dir, self.overrides, self.resume_from = project, run_dir, overrides or {}, resume
        self.torch_threads = torch_threads
        self.trainer: Any = None
        self._stop_requested = False
        self._pause_requested = False
        self._probe_request: Any = None

    @property
    def pause_requested(self) -> bool:
        return self._pause_requested

    # controls: called from the GUI thread, forwarded to the engine's thread-safe methods ------------
    def stop(self) -> None:
        self._stop_requested = True
        if self.trainer is not None:
            self.trainer.stop()

    def pause(self) -> None:
        self._pause_requested = True
        if self.trainer is not None:
            self.trainer.pause()

    def resume(self) -> None:
        self._pause_requested = False
        if self.trainer is not None:
            self.trainer.resume()

    def set_probe_request(self, request: Any) -> None:
        self._probe_request = request
        if self.trainer is not None:
            self.trainer.set_probe_request(request)

    @Slot()
    def run(self) -> None:
        from workbench.training.engine import Trainer

        threads = torch.get_num_threads()
        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        try:
            self._train(Trainer)
        finally:
            torch.set_num_threads(threads)

    def _train(self, Trainer: Any) -> None:  # noqa: N803 - the class, imported in run()
        try:
            if self.resume_from:
                trainer = Trainer.resume_run(self.run_dir, log_interval_s=1 / MAX_UPDATES_PER_S, **self.overrides)
            else:
                trainer = Trainer(self.project, run_dir=self.run_dir, log_interval_s=1 / MAX_UPDATES_PER_S,
                                  **self.overrides)
        except (ValueError, OSError) as exc:  # bad settings, missing data: a message, not a traceback
            self.finished.emit({"event": "done", "status": "failed", "message": str(exc), "run_dir": self.run_dir})
            return
        self.trainer = trainer
        trainer.set_probe_request(self._probe_request)
        if self._pause_requested:
            trainer.pause()
        if self._stop_requested:
            trainer.stop()
        done: dict = {"event": "done", "status": "failed", "message": "training ended unexpectedly",
                      "run_dir": self.run_dir}
        batch = _Batch()
        last_emit = 0.0
        try:
            for event in trainer.events():
                if event["event"] == "done":
                    done = event
                    break
                batch.add(event)
                now = time.monotonic()
                if now - last_emit >= 1 / MAX_UPDATES_PER_S or event["event"] == "paused":
                    self.updated.emit(batch.take())
                    last_emit = now
        except Exception as exc:  # noqa: BLE001 - a bug in a layer must not kill the app: report it
            done = {"event": "done", "status": "failed", "message": f"training failed: {type(exc).__name__}: {exc}",
                    "run_dir": self.run_dir}
        if batch.pending:
            self.updated.emit(batch.take())
        self.finished.emit(done)


class _Batch:
    """Events since the last emit, reduced to what the panel draws."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.start: dict | None = None
        self.steps: list[tuple[int, float]] = []
        self.epochs: list[dict] = []
        self.progress: dict | None = None
        self.paused: bool | None = None
        self.probe: dict | None = None
        self.pending = False

    def add(self, event: dict) -> None:
        kind = event["event"]
        self.pending = True
        if kind == "start":
            self.start = event
        elif kind == "batch":
            self.steps.append((event["global_step"], event["train_loss"]))
            self.progress = event
        elif kind == "epoch":
            self.epochs.append(event)
            self.progress = event
        elif kind in ("paused", "resumed"):
            self.paused = kind == "paused"
        elif kind == "probe":
            self.probe = event

    def take(self) -> dict:
        steps = np.array(self.steps, dtype=np.float64).reshape(-1, 2)
        out = {"start": self.start, "steps": (steps[:, 0], steps[:, 1]), "epochs": self.epochs,
               "progress": self.progress, "paused": self.paused, "probe": self.probe}
        self._reset()
        return out


class TrainingRunner(QObject):
    """Owns one worker and its QThread; `stop_and_wait` is safe to call at any time (closing)."""

    updated = Signal(object)
    finished = Signal(object)

    def __init__(self, worker: TrainingWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.updated.connect(self.updated)
        worker.finished.connect(self._on_finished)

    def start(self) -> None:
        self.thread.start()

    def _on_finished(self, done: dict) -> None:
        self.thread.quit()
        self.finished.emit(done)

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Stop between steps and join the thread. quit() is called here, directly: a quit queued from
        the worker's `finished` would wait for this (blocked) GUI thread and never arrive."""
        self.worker.stop()
        self.thread.quit()
        return self.thread.wait(timeout_ms)
