"""Follow a live run's metrics.jsonl: the events a run folder records, as they are appended.

The training panel's public signals carry probes and the run's start and end, not the metrics; the
run folder is the contract every run writes (workbench.training.run_folder), whatever runs the engine
(a thread or a process). Reading it a few times a second gives the curves and the class names
without coupling the window to the worker's internals.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

POLL_MS = 250  # four reads a second: curves stay live, the GUI thread barely notices


class MetricsTail(QObject):
    """`follow(run_dir)` starts reading; `events(list[dict])` carries each batch of new events."""

    events = Signal(list)

    def __init__(self, parent: QObject | None = None, interval_ms: int = POLL_MS):
        super().__init__(parent)
        self.path: Path | None = None
        self._offset = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    def follow(self, run_dir: str | Path) -> None:
        self.path, self._offset = Path(run_dir) / "metrics.jsonl", 0
        self._timer.start()

    def finish(self) -> None:
        """Read what is left (the run has ended) and stop."""
        self.poll()
        self._timer.stop()
        self.path = None

    def poll(self) -> None:
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as metrics:
                metrics.seek(self._offset)
                chunk = metrics.read()
        except OSError:  # not written yet (the run is still loading its data)
            return
        complete = chunk[:chunk.rfind(b"\n") + 1]  # a line being written waits for the next poll
        self._offset += len(complete)
        found = []
        for line in complete.splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
        if found:
            self.events.emit(found)
