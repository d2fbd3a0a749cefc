"""The two models every view shares: the project's summary (inferred once per change) and the
selection. Views listen to these and redraw; they never update each other."""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from workbench.core.inference import summarize
from workbench.core.project import Project
from workbench.core.summary import LayerRow

INPUT_ID = "<input>"  # the Input card's id in a selection (layer ids are hex strings)
LIVE_EDIT_S = 0.1  # an edit that shows within this feels live (1,000 layers: ~40 ms, benchmarks/edit_speed.py)


class SummaryModel(QObject):
    """Runs the analytic inference once per project change and shares the result. An update that
    takes longer than LIVE_EDIT_S (inference and every view's redraw) emits `slow` with its seconds:
    the window then says the network is too large to edit live."""

    updated = Signal()
    slow = Signal(float)

    def __init__(self, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.summary = summarize(project)
        project.changed.connect(self._on_changed)
        self.destroyed.connect(lambda *_: project.changed.disconnect(self._on_changed, missing_ok=True))

    def _on_changed(self, what: str = "") -> None:
        began = time.perf_counter()
        self.summary = summarize(self.project)
        self.updated.emit()
        took = time.perf_counter() - began
        if took > LIVE_EDIT_S:
            self.slow.emit(took)

    def row(self, layer_id: str) -> LayerRow | None:
        return next((r for r in self.summary["layers"] if r["id"] == layer_id), None)


class SelectionModel(QObject):
    """Selected cards by id (INPUT_ID for the Input card); `current` is the one the inspector shows.
    Ids that leave the project (removed layers, another project) drop out of the selection."""

    changed = Signal()

    def __init__(self, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self._ids: list[str] = []
        project.changed.connect(self._prune)
        self.destroyed.connect(lambda *_: project.changed.disconnect(self._prune, missing_ok=True))

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def current(self) -> str | None:
        return self._ids[-1] if self._ids else None

    def indices(self) -> list[int]:
        """Selected layer indices in network order (the Input card is not a layer)."""
        order = {layer_id: i for i, layer_id in enumerate(self.project.ids())}
        return sorted(order[i] for i in self._ids if i in order)

    def current_index(self) -> int | None:
        current = self.current
        try:
            return self.project.index_of(current) if current and current != INPUT_ID else None
        except KeyError:
            return None

    def set(self, ids: list[str]) -> None:
        ids = list(dict.fromkeys(ids))
        if ids != self._ids:
            self._ids = ids
            self.changed.emit()

    def select_index(self, index: int | None) -> None:
        """Select one layer by index (None or -1: the Input card)."""
        if index is None or index < 0:
            self.set([INPUT_ID])
        elif index < len(self.project):
            self.set([self.project.layer(index)["id"]])

    def toggle(self, layer_id: str) -> None:
        self.set([i for i in self._ids if i != layer_id] if layer_id in self._ids else self._ids + [layer_id])

    def _prune(self, what: str = "") -> None:
        valid = {*self.project.ids(), INPUT_ID}
        self.set([i for i in self._ids if i in valid])
