"""Insight panels: filters, activation maps, latent codes, reconstructions, classification, curves.

Each panel views numpy probe results (workbench.training.events.Probe) and the network summary.
`InsightHub` holds one of each, feeds them together and keeps them on the layer of interest; the
window's docks (workbench.ui.shell.docks) wire it:

    training panel's probe_received  -> show_live_probe    (only visible panels redraw, one per turn)
    training panel's events_received -> add_events         (curves; a "start" carries the classes)
    the summary model's updates      -> set_summary
    the selection's current layer    -> set_layer
    layer_selected(int)              -> the selection (a panel's layer picker)
    request_changed                  -> the docks, which ask the runner for what the docks on screen need

A saved run is shown with `show_run(run)`: its probes are then computed here, on demand.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from PySide6.QtCore import QObject, Signal

from workbench.core.summary import Summary
from workbench.training.events import Event, Probe
from workbench.training.probe_request import ProbeRequest
from workbench.ui.insight.base import InsightPanel
from workbench.ui.insight.confusion import ConfusionPanel
from workbench.ui.insight.curves import CurvesPanel
from workbench.ui.insight.filters import FiltersPanel
from workbench.ui.insight.health import HealthPanel
from workbench.ui.insight.latent import LatentPanel
from workbench.ui.insight.pacing import PanelPacer
from workbench.ui.insight.reconstructions import ReconstructionsPanel
from workbench.ui.insight.where_it_looks import ExplainingActivationsPanel

if TYPE_CHECKING:
    from workbench.training.probes import RunProbe

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
        self._finished: str | None = None  # the folder of the live run that ended last (see run_finished)
        self.pacer = PanelPacer(self)
        for panel in self.panels.values():
            panel.request_changed.connect(self._request_changed)
            panel.visibility_changed.connect(self._visibility_changed)  # a method: Qt disconnects it with us
            if hasattr(panel, "layer_selected"):
                panel.layer_selected.connect(self._layer_picked)

    def _visibility_changed(self, visible: bool) -> None:
        if not visible:  # nothing to capture for a hidden panel (nor for one being torn down)
            self.request_changed.emit()
            return
        self._request_changed()

    def run_finished(self, run_dir: str | None) -> None:
        """A live run ended: a panel brought to the front from now on shows the run's last state,
        probed from its checkpoint (see panel_shown); panels not in front during the run were not
        probed, so they would stay empty."""
        self._finished = run_dir

    def panel_shown(self) -> None:
        """A panel's dock came to the front (its tab raised): after a live run, the panels show the
        run's last state (the first time, the run's model and batch are loaded)."""
        if self.run is not None or self._finished is None:
            return
        run_dir, self._finished = self._finished, None
        from workbench.training.probes import RunProbe  # torch: loaded behind the window
        from workbench.training.run_folder import RunError, open_run
        try:
            self.run = RunProbe(open_run(run_dir))
        except (RunError, ValueError, OSError):  # a run that never saved weights: nothing to show
            return
        self.set_classes(self.run.classes)
        self._capture()

    def clear(self) -> None:
        """Another project: no earlier run's curves or insides (File > Open Run shows them again)."""
        self.run, self._finished = None, None
        self.pacer.forget()
        for panel in self.panels.values():
            panel.clear()

    def __getitem__(self, name: str) -> InsightPanel:
        return self.panels[name]

    def request(self, only_visible: bool = True) -> ProbeRequest:
        return request_for(self.panels.values(), only_visible)

    # feeding -------------------------------------------------------------------------------------
    def update_probe(self, result: Probe) -> None:
        """A probe event: only visible panels redraw (hidden ones get the next probe when shown)."""
        for panel in self._visible():
            panel.update_probe(result)

    def show_live_probe(self, result: Probe) -> None:
        """A live run's probe: the visible panels redraw one per turn of the event loop (PanelPacer)."""
        self.pacer.feed(self._visible(), result)

    def _visible(self) -> list[InsightPanel]:
        return [panel for panel in self.panels.values() if panel.kind and panel.isVisible()]

    def add_event(self, event: Event) -> None:
        self.add_events([event])

    def add_events(self, events: Sequence[Event]) -> None:
        """A live run's events (the training panel's events_received); probes among them are shown."""
        for event in events:
            if event["event"] == "start":
                self.run, self._finished = None, None  # live training takes over from a saved run
                self.pacer.forget()
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
        from workbench.training.probes import RunProbe  # torch: loaded by now, as the run was opened

        self.pacer.forget()
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
