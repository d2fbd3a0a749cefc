"""Insight panels: filters, activation maps, latent codes, reconstructions, classification, curves.

Each panel views numpy probe results (workbench.training.events.Probe) and the network summary.
`InsightHub` holds one of each, feeds them together and keeps them on the layer of interest; the
window's docks (workbench.ui.shell.docks) wire it:

    training panel's probe_received  -> update_probe       (live probes; only visible panels redraw)
    training panel's events_received -> add_events         (curves; a "start" carries the classes)
    the summary model's updates      -> set_summary
    the selection's current layer    -> set_layer
    layer_selected(int)              -> the selection (a panel's layer picker)
    request_changed                  -> the docks, which ask the runner for what the docks on screen need

A saved run is shown with `show_run(run)`: its probes are then computed here, on demand.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from PySide6.QtCore import QObject, Signal

from workbench.core.summary import Summary
from workbench.training.events import Event, Probe
from workbench.training.probes import ProbeRequest, RunProbe
from workbench.ui.insight.base import InsightPanel
from workbench.ui.insight.confusion import ConfusionPanel
from workbench.ui.insight.curves import CurvesPanel
from workbench.ui.insight.filters import FiltersPanel
from workbench.ui.insight.health import HealthPanel
from workbench.ui.insight.latent import LatentPanel
from workbench.ui.insight.reconstructions import ReconstructionsPanel
from workbench.ui.insight.where_it_looks import ExplainingActivationsPanel

PANEL_TYPES: dict[str, type[InsightPanel]] = {
    "filters": FiltersPanel, "activations": ExplainingActivationsPanel, "latent": LatentPanel,
    "reconstructions": ReconstructionsPanel, "confusion": ConfusionPanel, "curves": CurvesPanel,
    "health": HealthPanel,  # fed from the health model (workbench.ui.shell.health_docks), not probes
}


def request_for(panels: Iterable[InsightPanel], only_visible: bool = True) -> ProbeRequest:
    """The probe that the (visible) panels need: nothing is captured for a hidden panel."""
    shown = [p for p in panels if p.kind and (p.isVisible() or not only_visible)]
    fields: dict = {}
    for panel in shown:
        fields.update(panel.request_fields())
    return ProbeRequest.for_panels([p.kind for p in shown], **fields)


class InsightHub(QObject):
    """One panel of each kind, fed together, synced on the layer of interest."""

    request_changed = Signal()
    layer_selected = Signal(int)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.panels: dict[str, InsightPanel] = {name: cls() for name, cls in PANEL_TYPES.items()}
        self.run: RunProbe | None = None  # a saved run being shown (probed here), or None when live
        for panel in self.panels.values():
            panel.request_changed.connect(self._request_changed)
            panel.visibility_changed.connect(self._visibility_changed)  # a method: Qt disconnects it with us
            if hasattr(panel, "layer_selected"):
                panel.layer_selected.connect(self._layer_picked)

    def _visibility_changed(self, _visible: bool) -> None:
        self._request_changed()

    def __getitem__(self, name: str) -> InsightPanel:
        return self.panels[name]

    def request(self, only_visible: bool = True) -> ProbeRequest:
        return request_for(self.panels.values(), only_visible)

    # feeding -------------------------------------------------------------------------------------
    def update_probe(self, result: Probe) -> None:
        """A probe event: only visible panels redraw (hidden ones get the next probe when shown)."""
        for panel in self.panels.values():
            if panel.kind and panel.isVisible():
                panel.update_probe(result)

    def add_event(self, event: Event) -> None:
        self.add_events([event])

    def add_events(self, events: Sequence[Event]) -> None:
        """A live run's events (the training panel's events_received); probes among them are shown."""
        for event in events:
            if event["event"] == "start":
                self.run = None  # live training takes over from a saved run
                if event.get("classes"):  # (a start event made by hand may leave them out)
                    self.set_classes(event["classes"])
            if event["event"] == "probe":
                self.update_probe(event)
        self.panels["curves"].add_events([e for e in events if e["event"] != "probe"])

    def set_summary(self, summary: Summary | None) -> None:
        for panel in self.panels.values():
            panel.set_summary(summary)

    def set_classes(self, names: list[str]) -> None:
        for name in ("latent", "confusion"):
            self.panels[name].set_classes(names)

    def set_layer(self, index: int) -> None:
        """The builder selected layer `index`: the filters and maps follow (no echo back)."""
        for name in ("filters", "activations"):
            self.panels[name].set_layer(index)

    def show_run(self, run, only_visible: bool = True) -> None:
        """Show a saved run (workbench.training.run_folder.Run): curves, and probes of its model."""
        self.run = RunProbe(run)
        self.set_classes(self.run.classes)
        self.panels["curves"].set_metrics(run.metrics)
        self._capture(only_visible)

    def _capture(self, only_visible: bool = True) -> None:
        request = self.request(only_visible)
        if self.run is not None and request.any():
            result = self.run.capture(request)
            for panel in self.panels.values():
                if panel.kind and (panel.isVisible() or not only_visible):
                    panel.update_probe(result)

    def _request_changed(self) -> None:
        self.request_changed.emit()
        if self.run is not None:
            self._capture()

    def _layer_picked(self, index: int) -> None:
        self.set_layer(index)
        self.layer_selected.emit(index)
