"""Live probes drawn one panel per turn of the event loop.

A live probe feeds every insight panel on screen. Drawn together, their refreshes and then their
paint held the GUI thread for 30-80 ms at a time on 2 busy cores (a click, a key or a drag waited
that long); one panel per turn keeps a turn to one panel's refresh and the paint of the one before.
A panel still waiting when a newer probe arrives takes the newer one with it: nothing piles up.
"""
from __future__ import annotations

from typing import Iterable

from PySide6.QtCore import QObject, QTimer
from shiboken6 import isValid

from workbench.training.events import Probe
from workbench.training.updates import merge_probe
from workbench.ui.insight.base import InsightPanel


class PanelPacer(QObject):
    """Feeds probes to panels, one panel's refresh per turn of the event loop, in the order fed."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._waiting: dict[InsightPanel, Probe] = {}  # in the order they will be drawn
        self._timer = QTimer(self, singleShot=True, interval=0, timeout=self._draw_next)

    @property
    def waiting(self) -> int:
        """How many panels have a probe not drawn yet."""
        return len(self._waiting)

    def feed(self, panels: Iterable[InsightPanel], result: Probe) -> None:
        for panel in panels:
            self._waiting[panel] = merge_probe(self._waiting.get(panel, {}), result)
        if self._waiting and not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Draw every waiting panel now (a run has ended: its last probe is shown whole)."""
        self._timer.stop()
        while self._waiting:
            self._draw_next()

    def forget(self) -> None:
        """Nothing waiting is drawn (another run or project takes over the panels)."""
        self._timer.stop()
        self._waiting.clear()

    def _draw_next(self) -> None:
        panel = next(iter(self._waiting))
        result = self._waiting.pop(panel)
        if isValid(panel) and panel.isVisible():  # hidden meanwhile: it is probed afresh when shown
            panel.update_probe(result)
        if self._waiting:
            self._timer.start()
