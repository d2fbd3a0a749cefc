"""Training health per layer: the gradient that reaches each layer (relative to the output layer's),
how much a step changes its weights, its dead or saturated share, its activations' mean and spread,
and the time it takes beside its share of the MACs; the findings in words above them.

Fed with the engine's "health" and "timing" events (live, or a saved run's health.jsonl); it needs no
probe. The dashed lines are where the findings begin (workbench.training.findings).
"""
from __future__ import annotations

import html
import math
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QLabel, QWidget

from workbench.training import findings as rules
from workbench.training.events import Finding, HealthEvent, HealthRecord, LayerTiming
from workbench.ui.insight.base import INK, InsightPanel, legend_size, styled_plot
from workbench.ui.shell.style import ERROR, WARNING, colour_text

LEVEL_COLOURS = {"amber": WARNING, "red": ERROR}
HEALTHY = (70, 130, 180)
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
FLOOR = -12  # log10 values below this are drawn at it
GRADIENT_TITLE = "Gradient reaching each layer (× the output's)"
MIN_PLOT_HEIGHT = 110  # pixels per plot in a scrolling dock: below this the axes crowd out the points


class PowerAxis(pg.AxisItem):
    """A log10 axis read as plain factors: 1, 10, 1/10, 1/1,000, then 10⁻⁶ beyond a million."""

    def tickStrings(self, values: Sequence[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        out = []
        for value in values:
            power = round(value)
            if abs(value - power) > 1e-6:
                out.append("")
            elif abs(power) >= 6:
                out.append(f"10{str(power).translate(_SUPERSCRIPT)}")
            else:
                out.append(f"{10 ** power:,}" if power >= 0 else f"1/{10 ** -power:,}")
        return out

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802
        low, high = math.floor(minVal), math.ceil(maxVal)
        step = max(1, math.ceil((high - low) / max(2, size // 22)))
        return [(float(step), [float(v) for v in range(low, high + 1, step)])]


def level_of(layer: int, found: Sequence[Finding]) -> str | None:
    """The worst level of a layer's findings ("red", "amber") or None."""
    levels = {f["level"] for f in found if f["layer"] == layer}
    return "red" if "red" in levels else "amber" if "amber" in levels else None


def findings_html(found: Sequence[Finding], types: Sequence[str]) -> str:
    """The findings as coloured lines (rich text for a QLabel), red first; the same finding on several
    layers is one line, with the message of the first of them."""
    if not found:
        return "<b>Healthy:</b> no findings."
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in sorted(found, key=lambda f: f["level"] != "red"):
        groups.setdefault((f["level"], f["finding"]), []).append(f)
    lines = []
    for (level, _), group in groups.items():
        first = group[0]
        if first["layer"] is None:
            where = "Network"
        elif len(group) == 1:
            where = f"Layer {first['layer']}" + (f" ({types[first['layer']]})" if first["layer"] < len(types) else "")
        else:
            where = f"Layers {', '.join(str(f['layer']) for f in group)} (layer {first['layer']}'s numbers)"
        colour = LEVEL_COLOURS[level].name()
        lines.append(f"<span style='color:{colour}'>●</span> <b>{where}:</b> {html.escape(first['message'])}")
    return "<br>".join(lines)


class HealthPanel(InsightPanel):
    kind = ""  # drawn from health events, not probes
    title = "Health"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.latest: HealthEvent | None = None
        self.timing: list[LayerTiming] = []
        self.plots: dict[str, pg.PlotItem] = {}
        specs = (("gradient", GRADIENT_TITLE, True),
                 ("update", "Weight change per step (÷ the weights)", True),
                 ("units", "Dead ReLU / saturated Sigmoid-Tanh units (%)", False),
                 ("activation", "Activations: mean ± spread", False),
                 ("time", "Time per layer beside its MACs (% of all)", False))
        for row, (name, title, log) in enumerate(specs):
            axes = {"left": PowerAxis("left")} if log else {}
            plot = styled_plot(self.canvas.addPlot(row=row, col=0, axisItems=axes), title, "", "")
            plot.getAxis("left").enableAutoSIPrefix(False)  # (its width: fit_text)
            plot.getAxis("bottom").enableAutoSIPrefix(False)
            plot.showGrid(y=True, alpha=0.15)
            plot.setMouseEnabled(x=False, y=False)
            self.plots[name] = plot
        self._thresholds()
        self.points = {name: pg.ScatterPlotItem(size=9, pen=None) for name in ("gradient", "update")}
        self.lines = {name: self.plots[name].plot([], [], pen=pg.mkPen((160, 160, 160), width=1))
                      for name in ("gradient", "update")}
        for name, item in self.points.items():
            self.plots[name].addItem(item)
        self.unit_bars = pg.BarGraphItem(x=[], height=[], width=0.6)
        self.plots["units"].addItem(self.unit_bars)
        self.plots["units"].setYRange(0, 100, padding=0.02)
        self.spread = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), beam=0.2,
                                      pen=pg.mkPen(HEALTHY, width=2))
        self.plots["activation"].addItem(self.spread)
        self.means = self.plots["activation"].plot([], [], pen=None, symbol="o", symbolSize=6, symbolBrush=HEALTHY,
                                                   symbolPen=None)
        self.time_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=HEALTHY)
        self.mac_bars = pg.BarGraphItem(x=[], height=[], width=0.38, brush=(190, 190, 190))
        self.plots["time"].addItem(self.mac_bars)
        self.plots["time"].addItem(self.time_bars)
        # under the plot, not over its bars (a legend never covers data)
        legend = pg.LegendItem(labelTextColor=INK, colCount=2, labelTextSize=legend_size())
        self.canvas.addItem(legend, row=len(specs), col=0)
        legend.addItem(self.time_bars, "time")
        legend.addItem(self.mac_bars, "MACs")
        self.findings = QLabel()
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        colour_text(self.findings, QColor(INK), QColor("white"))
        self.findings.setMargin(4)
        self.layout().insertWidget(1, self.findings)  # the words first: in a low dock the plots scroll below
        self.fit_text()
        self.refresh()

    def fit_text(self) -> None:
        """Each left axis as wide as its longest number in the plots' text size now (presentation mode
        makes it larger): one width for every left axis, so the layers line up, and the widest factor
        fits on the first paint (pyqtgraph widens an axis for its labels only on the next one)."""
        for plot in self.plots.values():
            axis = plot.getAxis("left")
            axis.setWidth(QFontMetrics(axis.style["tickFont"] or axis.font()).horizontalAdvance("1/100,000") + 14)

    def _thresholds(self) -> None:
        """Dashed lines where findings begin: amber, then red."""
        def line(plot: str, value: float, level: str) -> None:
            colour = LEVEL_COLOURS[level]
            self.plots[plot].addLine(y=value, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))

        for value, level in ((rules.VANISHING.amber, "amber"), (rules.VANISHING.red, "red"),
                             (rules.EXPLODING.amber, "amber"), (rules.EXPLODING.red, "red")):
            line("gradient", math.log10(value), level)
        for value, level in ((rules.FAST_UPDATES.amber, "amber"), (rules.FAST_UPDATES.red, "red")):
            line("update", math.log10(value), level)

    # feeding ---------------------------------------------------------------------------------
    def set_records(self, records: Sequence[HealthRecord]) -> None:
        """A saved run's health.jsonl (or a live run's events so far)."""
        self.latest, self.timing = None, []
        self.add_events(records)

    def add_events(self, events: Sequence[Any]) -> None:
        """Events of a live run: the health and timing ones are kept (the latest of each)."""
        changed = False
        for event in events:
            if event["event"] == "health":
                self.latest, changed = event, True
            elif event["event"] == "timing":
                self.timing, changed = event["layers"], True
            elif event["event"] == "start" and not event["global_step"]:
                self.latest, self.timing, changed = None, [], True
        if changed:
            self.refresh()

    def update_probe(self, result: Any) -> None:
        """Health comes with its own events, not probes."""

    def types(self) -> list[str]:
        return [row["type"] for row in self.summary["layers"]] if self.summary else []

    # drawing ---------------------------------------------------------------------------------
    def _brushes(self, layers: Sequence[int], found: Sequence[Finding]) -> list[Any]:
        return [pg.mkBrush(LEVEL_COLOURS[level] if (level := level_of(i, found)) else HEALTHY) for i in layers]

    def _log_series(self, name: str, key: str, found: Sequence[Finding]) -> None:
        assert self.latest is not None
        pairs = [(h["layer"], h[key]) for h in self.latest["layers"]  # type: ignore[literal-required]
                 if h[key] is not None]  # type: ignore[literal-required]
        x = np.array([p[0] for p in pairs], float)
        # a gradient that underflowed to 0 sits on the floor
        y = np.log10(np.maximum(np.array([p[1] for p in pairs], float), 10.0 ** FLOOR)) if pairs else np.zeros(0)
        self.lines[name].setData(x, y)
        self.points[name].setData(x=x, y=y, brush=self._brushes([p[0] for p in pairs], found))
        # the thresholds always in view; beyond them, as far as the numbers go
        bounds = {"gradient": (-3.5, 0.5), "update": (-4.0, 0.5)}[name]
        low = min(bounds[0], float(y.min()) - 0.5) if len(y) else bounds[0]
        high = max(bounds[1], float(y.max()) + 0.5) if len(y) else bounds[1]
        self.plots[name].setYRange(low, high, padding=0)

    def refresh(self) -> None:
        latest = self.latest
        types = self.types()
        count = len(latest["layers"]) if latest else len(types)
        every = max(1, math.ceil(count / 30))  # a label per layer while they fit
        for plot in self.plots.values():
            plot.setXRange(-0.7, max(count, 1) - 0.3, padding=0)
            plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(0, count, every)]])
        if latest is None:
            for item in (*self.lines.values(), self.means):
                item.setData([], [])
            for points in self.points.values():
                points.setData(x=[], y=[])
            self.unit_bars.setOpts(x=[], height=[])
            self.spread.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
            self.findings.setText("Health statistics appear here while a network trains, or from an opened run.")
            self._draw_timing()
            return
        found = latest["findings"]
        self._log_series("gradient", "grad_ratio", found)
        self._log_series("update", "update_ratio", found)
        shares = [(h["layer"], h["dead"] if h["dead"] is not None else h["saturated"]) for h in latest["layers"]
                  if h["dead"] is not None or h["saturated"] is not None]
        if shares:
            self.unit_bars.setOpts(x=[i for i, _ in shares], height=[100 * (s or 0) for _, s in shares],
                                   brushes=self._brushes([i for i, _ in shares], found), pens=[None] * len(shares))
        else:  # no ReLU, Sigmoid or Tanh (a linear autoencoder): no bars; pyqtgraph fails on empty pens
            self.unit_bars.setOpts(x=[], height=[])
        spread = [(h["layer"], h["act_mean"], h["act_std"] or 0.0) for h in latest["layers"] if h["act_mean"] is not None]
        x = np.array([s[0] for s in spread], float)
        mean = np.array([s[1] for s in spread], float)
        std = np.array([s[2] for s in spread], float)
        self.spread.setData(x=x, y=mean, height=2 * std)
        self.means.setData(x, mean)
        self.findings.setText(f"<b>Step {latest['global_step']:,}, epoch {latest['epoch']}.</b> "
                              + findings_html(found, types))
        self._draw_timing()

    def _draw_timing(self) -> None:
        timing = self.timing
        self.plots["time"].setVisible(bool(timing))
        if not timing:
            return
        self.time_bars.setOpts(x=[t["layer"] - 0.2 for t in timing], height=[100 * t["time_share"] for t in timing],
                               brushes=[pg.mkBrush(WARNING if t["slow"] else HEALTHY) for t in timing],
                               pens=[None] * len(timing))
        self.mac_bars.setOpts(x=[t["layer"] + 0.2 for t in timing],
                              height=[100 * (t["macs_share"] or 0) for t in timing], pens=[None] * len(timing))

    def describe_at(self, scene_pos: Any) -> str:
        if self.latest is None:
            return ""
        for name, plot in self.plots.items():
            if plot.isVisible() and plot.sceneBoundingRect().contains(scene_pos):
                layer = round(plot.vb.mapSceneToView(scene_pos).x())
                return self._describe(layer)
        return ""

    def _describe(self, layer: int) -> str:
        assert self.latest is not None
        if not 0 <= layer < len(self.latest["layers"]):
            return ""
        h = self.latest["layers"][layer]
        types = self.types()
        parts = [f"layer {layer}" + (f" ({types[layer]})" if layer < len(types) else "")]
        if h["grad_ratio"] is not None:
            parts.append(f"gradient ×{h['grad_ratio']:.3g} of the output's")
        if h["update_ratio"] is not None:
            parts.append(f"weights change {h['update_ratio'] * 100:.3g} % per step")
        if h["dead"] is not None:
            parts.append(f"{h['dead'] * 100:.0f} % dead")
        if h["saturated"] is not None:
            parts.append(f"{h['saturated'] * 100:.0f} % saturated")
        if h["act_mean"] is not None:
            parts.append(f"mean {h['act_mean']:.3g} ± {h['act_std'] or 0:.3g}")
        timing = next((t for t in self.timing if t["layer"] == layer), None)
        if timing is not None:
            parts.append(f"{(timing['forward_s'] + timing['backward_s']) * 1e3:.3g} ms per batch")
        return " · ".join(parts)
