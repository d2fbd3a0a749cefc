"""Work off the window: the window's side of the training process (workbench.training.remote).

Every job the window runs, a training run of the Training dock or an experiment of the autoencoder
lab, runs in one separate process, so neither the window's Python nor its painting holds the
trainer's GIL, and the window never holds a tensor. `JobRunner` starts jobs there, one at a time,
and polls their events from a QTimer on the GUI thread (never blocking: a poll reads only what has
arrived). It coalesces them (workbench.training.updates) and emits at most `MAX_UPDATES_PER_S`
`updated(RunUpdate)` signals, each carrying plain numbers and numpy arrays, and one
`finished(DoneEvent)` per job; `owner` says whose job it is. Only the newest probe's arrays are
passed on; once its `updated` slots have drawn it, the runner lets the process capture the next
one, so probes are made only as fast as the visible panels draw them. The process lives across
jobs (one torch import) and is shut down by `shutdown()` (the window closing); a process that dies
is reported as a failed job and replaced at the next start.
"""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from workbench.training.events import DoneEvent
from workbench.training.remote import Job, Question, RunSpec, TrainingProcess
from workbench.training.updates import Coalescer

# 10 a second: smooth enough for curves and progress, and probes (~5.5 a second) still find a poll
# soon after they arrive. At 20 the window took ~3% more of a core from training on 2 cores.
MAX_UPDATES_PER_S = 10
POLL_BUDGET_S = 0.01  # at most this long reading events per tick: the event loop stays responsive


class JobRunner(QObject):
    """Runs one job at a time in the training process; safe to stop or shut down at any time."""

    updated = Signal(object)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None, process: TrainingProcess | None = None):
        super().__init__(parent)
        self.process = process or TrainingProcess()
        self.run_dir: str | None = None
        self.owner: object = None  # who started the current (or last) job: its views take its updates
        self._pause_requested = False
        self._batch = Coalescer()
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // MAX_UPDATES_PER_S)
        self._timer.timeout.connect(self._poll)

    def prepare(self) -> None:
        """Spawn the training process now, so the first Start does not wait for torch's import."""
        self.process.start()

    def start(self, project: dict | None, run_dir: str | None, overrides: dict[str, Any] | None = None,
              resume: bool = False, owner: object = None) -> None:
        """Train a frozen copy of `project` into run_dir (or resume run_dir when resume is set)."""
        self.submit(RunSpec(project, run_dir, dict(overrides or {}), resume), owner, run_dir)

    def submit(self, job: Job, owner: object = None, run_dir: str | None = None) -> None:
        """Run any job (a training run, a lab experiment) once the last one is done."""
        self.run_dir, self.owner = run_dir, owner
        self._pause_requested = False
        self._batch = Coalescer()
        self.process.submit(job)
        self._timer.start()

    def ask(self, question: Question) -> Any:
        """The training process's answer to a quick question (see TrainingProcess.ask)."""
        return self.process.ask(question)

    @property
    def running(self) -> bool:
        return self.process.running

    @property
    def ready(self) -> bool:
        """The training process has imported torch and listens (a Start then begins at once)."""
        if not self.running:
            self.process.events()  # reads its "ready" news; between runs nothing else is waiting
        return self.process.ready

    @property
    def pause_requested(self) -> bool:
        return self._pause_requested

    # controls ---------------------------------------------------------------------------------------
    def pause(self) -> None:
        self._pause_requested = True
        self.process.pause()

    def resume(self) -> None:
        self._pause_requested = False
        self.process.resume()

    def stop(self) -> None:
        self.process.stop()

    def set_probe_request(self, request: Any) -> None:
        self.process.set_probe_request(request)

    def stop_job(self, timeout_ms: int = 30_000) -> bool:
        """Stop between steps and wait for the job's end (emitting `finished`); False on timeout."""
        if not self.running:
            return True
        self.process.stop()
        done = self.process.wait_done(timeout_ms / 1000)
        if done is None:
            return False
        self._finish(done)
        return True

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop any job and end the training process (killed if it does not exit in time)."""
        self.stop_job(timeout_ms)
        self._timer.stop()
        self.process.shutdown(timeout_ms / 1000)

    # events -----------------------------------------------------------------------------------------
    def _poll(self) -> None:
        deadline = time.monotonic() + POLL_BUDGET_S
        done = None
        while done is None and time.monotonic() < deadline:
            events = self.process.events(limit=50)
            if not events:
                break
            for event in events:
                if event["event"] == "done":
                    done = event
                else:
                    self._batch.add(event)
        if self._batch.pending:
            update = self._batch.take()
            self.updated.emit(update)  # direct: the slots (and the panels they feed) have drawn on return
            if update.probes:
                self.process.grant_probe(update.probes)
        if done is not None:
            self._finish(done)

    def _finish(self, done: DoneEvent) -> None:
        self._timer.stop()
        if self._batch.pending:
            self.updated.emit(self._batch.take())
        if done["run_dir"] is None:
            done = {**done, "run_dir": self.run_dir}
        self.finished.emit(done)
