"""A run's events coalesced into what a window draws at its own pace.

The engine may send hundreds of events a second; a window redraws a few times a second. `Coalescer`
collects the events that arrive between two redraws and `take()` hands them over as one `RunUpdate`:
loss points as numpy arrays, the epoch events, the latest progress, whether the run paused, the latest
compile news, only the newest probe (merged: keys sent once, such as the fixed inputs, are kept) and
the newest health and timing events.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.training.events import (BatchEvent, CompiledEvent, CompilingEvent, EpochEvent, Event, HealthEvent, Probe,
                                       ProbeEvent, StartEvent, TimingEvent)


@dataclass
class RunUpdate:
    """What happened since the last update."""

    start: StartEvent | None = None
    steps: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))  # (global_step, train loss)
    epochs: list[EpochEvent] = field(default_factory=list)
    progress: BatchEvent | EpochEvent | None = None  # the latest
    paused: bool | None = None  # None: neither paused nor resumed since the last update
    probe: ProbeEvent | None = None
    compile: CompilingEvent | CompiledEvent | None = None  # the latest: compiling now, or how it went
    events: list[Event] = field(default_factory=list)  # start/batch/epoch events in order (no confusion counts)
    probes: int = 0  # how many probe events `probe` stands for
    health: HealthEvent | None = None  # the newest: each one holds every layer's numbers and the findings
    timing: TimingEvent | None = None
    results: list[Any] = field(default_factory=list)  # what a job found (workbench.training.lab's events)


class Coalescer:
    """Events since the last `take()`, reduced to what the views draw."""

    def __init__(self) -> None:
        self._steps: list[tuple[int, float]] = []
        self._update = RunUpdate()
        self.pending = False

    def add(self, event: Event) -> None:
        update = self._update
        self.pending = True
        if event["event"] in ("start", "batch", "epoch"):  # the confusion counts come with probes, not here
            update.events.append({k: v for k, v in event.items() if k != "val_confusion"})  # type: ignore[arg-type]
        if event["event"] == "start":
            update.start = event
        elif event["event"] == "batch":
            self._steps.append((event["global_step"], event["train_loss"]))
            update.progress = event
        elif event["event"] == "epoch":
            update.epochs.append(event)
            update.progress = event
        elif event["event"] == "compiling" or event["event"] == "compiled":
            update.compile = event
        elif event["event"] in ("paused", "resumed"):
            update.paused = event["event"] == "paused"
        elif event["event"] == "health":
            update.health = event
        elif event["event"] == "timing":
            update.timing = event
        elif event["event"] == "probe":  # newer arrays replace older ones; keys sent once (the inputs) are kept
            update.probe = {**update.probe, **event} if update.probe else event
            update.probes += 1
        elif event["event"] != "done":  # a job's result: the lab's "analysis", "comparison", "sweep"
            update.results.append(event)

    def take(self) -> RunUpdate:
        steps = np.array(self._steps, dtype=np.float64).reshape(-1, 2)
        update = self._update
        update.steps = (steps[:, 0], steps[:, 1])
        self._steps, self._update, self.pending = [], RunUpdate(), False
        return update


def merge_probe(kept: Probe, new: Probe) -> Probe:
    """A view's probe after a new one: keys the new one lacks keep their last value, so a probe made
    for other views does not blank this one."""
    merged = {**kept, **{k: v for k, v in new.items() if k not in ("event", "global_step")}}
    return merged  # type: ignore[return-value]
