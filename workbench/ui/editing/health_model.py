"""The health the window shows: the newest "health" and "timing" events of the run being trained or
the run opened, as a model the views watch (the cards, the summary table, the Health panel).

    model.set_network(layer_ids)          # the run's layers (its frozen project's ids)
    model.add_events(events)              # a live run's (the Training dock's updates)
    model.show_records(run.health())      # an opened run's health.jsonl
    model.changed -> views redraw; model.marks() -> what each card shows, by layer id

Marks go by layer id, not position: a layer inserted while (or after) the run trained has none, a
removed layer's goes with it.
"""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QObject, Signal

from workbench.training.events import HealthEvent, TimingEvent
from workbench.ui.editing.health_marks import LayerMark, layer_marks


class HealthModel(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.health: HealthEvent | None = None
        self.timing: TimingEvent | None = None
        self.layer_ids: list[str] = []
        self._marks: dict[str, LayerMark] | None = None  # made once per change: every card paint reads them
        self.changed.connect(self._forget_marks)

    def _forget_marks(self) -> None:
        self._marks = None

    def set_network(self, layer_ids: Sequence[str]) -> None:
        """The ids of the run's layers, in order (what the events' layer indices mean)."""
        self.layer_ids = list(layer_ids)
        self.changed.emit()

    def add_events(self, events: Sequence[Any]) -> None:
        """Events of a live run: the newest health and timing are kept; a fresh run's start clears them."""
        changed = False
        for event in events:
            if event["event"] == "health":
                self.health, changed = event, True
            elif event["event"] == "timing":
                self.timing, changed = event, True
            elif event["event"] == "start" and not event.get("global_step"):
                changed = changed or self.health is not None or self.timing is not None
                self.health = self.timing = None
        if changed:
            self.changed.emit()

    def show_records(self, records: Sequence[Any]) -> None:
        """An opened run's health.jsonl (none: the cards show no health)."""
        self.health = next((r for r in reversed(records) if r["event"] == "health"), None)
        self.timing = next((r for r in reversed(records) if r["event"] == "timing"), None)
        self.changed.emit()

    def clear(self) -> None:
        if self.health is not None or self.timing is not None:
            self.health = self.timing = None
            self.changed.emit()

    def marks(self) -> dict[str, LayerMark]:
        """Each of the run's layers' mark, by layer id (empty without statistics)."""
        if self._marks is None:
            self._marks = {} if self.health is None and self.timing is None else dict(
                zip(self.layer_ids, layer_marks(self.health, self.timing, len(self.layer_ids))))
        return self._marks
