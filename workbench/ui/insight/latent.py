"""Latent codes: the validation codes at the bottleneck (or any layer) as a scatter coloured by
class, beside a linear PCA of the raw inputs, so the two can be compared."""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from workbench.core.projection import project_2d, project_inputs
from workbench.ui.insight.activations import input_picture
from workbench.ui.insight.base import (INK, ImagePlot, InsightPanel, LayerChooser, class_colour, layer_choice, layer_name,
                                      fit_canvas, legend_size, set_label, set_title,
                                      styled_plot)
from workbench.ui.insight.framing import SteadyFrame

AUTO = -1  # the chooser's "bottleneck" entry: the probe picks the narrowest layer
WIDE_RATIO = 1.6  # a panel this many times wider than high puts its plots in one row
LEGEND_MARK = 20  # px: the box pyqtgraph's legend draws each class's marker in


def _batch_key(inputs: np.ndarray) -> tuple:
    return inputs.shape, float(inputs.sum())  # the probe batch is fixed for a run


class _InputPoints(NamedTuple):
    """The probe batch's inputs in 2-D, and the batch they were made of (the array and its content)."""
    batch: np.ndarray
    key: tuple
    points: np.ndarray
    how: str
    short: str


class LatentPanel(InsightPanel):
    kind = "latent"
    title = "Latent codes"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layers = LayerChooser()
        self.layers.picked.connect(self._layer_picked)
        self.bar.addWidget(QLabel("Codes at"))
        self.bar.addWidget(self.layers)
        self.classes: list[str] = []
        self.codes_plot = styled_plot(self.canvas.addPlot(row=0, col=0))
        # beside the codes, not over them: inside the plot it covered points
        self.legend = pg.LegendItem(labelTextColor=INK, labelTextSize=legend_size())
        self.canvas.addItem(self.legend, row=0, col=1)
        self.inputs_plot = styled_plot(self.canvas.addPlot(row=0, col=2))
        self.preview = ImagePlot(self.canvas, row=0, col=3)
        self.preview.plot.hideAxis("left")
        self.preview.plot.hideAxis("bottom")
        self._wide: bool | None = None
        self._arrange(wide=True)
        self.scatters = []
        for plot in (self.codes_plot, self.inputs_plot):
            scatter = pg.ScatterPlotItem(size=7, pen=pg.mkPen(None), hoverable=True, tip=None)
            scatter.sigHovered.connect(self._hovered)
            plot.addItem(scatter)
            self.scatters.append(scatter)
        self.frames = [SteadyFrame(plot) for plot in (self.codes_plot, self.inputs_plot)]
        self._legend_for: list[str] = []
        self._legend_timer = QTimer(self, singleShot=True, interval=0, timeout=self._legend_of_classes)
        self._input_pca: _InputPoints | None = None
        self.points = 0
        self._brushes: tuple[Any, list] = (None, [])  # (labels, a brush per label)
        self.refresh()

    def _arrange(self, wide: bool) -> bool:
        """Wide: codes, legend, raw inputs and the hovered sample in a row. Tall (a side dock, as in
        presentation mode): the codes and the raw inputs side by side under short titles, the legend
        in rows under both, and no hovered sample (stacked, each plot under its wrapped title was a
        70 px sliver). Whether the arrangement changed."""
        if wide == self._wide:
            return False
        self._wide = wide
        layout = self.canvas.ci
        items = (self.codes_plot, self.legend, self.inputs_plot, self.preview.plot)
        for item in items:
            if item in layout.items:  # (tall left the sample out)
                layout.removeItem(item)
        # (row, column, columns spanned) of each; tall: no room for the sample (the hover line names it)
        places = ((0, 0, 1), (0, 1, 1), (0, 2, 1), (0, 3, 1)) if wide else ((0, 0, 1), (1, 0, 2), (0, 1, 1))
        for item, (row, col, span) in zip(items, places):
            layout.addItem(item, row=row, col=col, colspan=span)
        self.preview.plot.setVisible(wide)
        for col, stretch in enumerate((3, 0, 3, 1) if wide else (1, 1, 0, 0)):
            layout.layout.setColumnStretchFactor(col, stretch)
        layout.layout.setRowStretchFactor(0, 1)
        layout.layout.setRowStretchFactor(1, 0)
        QTimer.singleShot(0, self.canvas, lambda: fit_canvas(self.canvas))
        return True

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        if self._arrange(wide=self.width() >= WIDE_RATIO * self.height()):
            self.refresh()  # the titles of the arrangement
        self._fit_legend()

    def _fit_legend(self) -> None:
        """Beside the codes (wide): as many columns as its entries need to fit the plot's height (ten
        classes in a low bottom dock: two columns of five). Under them (tall): as many columns as fit
        the plots' width."""
        if not self.legend.items:
            return
        if self._wide:
            entry = max(label.itemRect().height() for _, label in self.legend.items) + 4
            rows = max(1, int(self.codes_plot.height() * 0.9 // entry))
            self.legend.setColumnCount(math.ceil(len(self.legend.items) / rows))
        else:
            entry = max(label.itemRect().width() for _, label in self.legend.items) + 2.5 * LEGEND_MARK
            room = self.codes_plot.width() + self.inputs_plot.width()
            self.legend.setColumnCount(max(1, min(len(self.legend.items), int(room // entry))))

    def set_classes(self, names: list[str]) -> None:
        """Another run's classes (a run starts or is opened): its codes are framed afresh."""
        self.classes = list(names)
        for frame in self.frames:
            frame.reset()
        # the legend made at the run's start, not with its first codes (that turn of the event loop
        # has the codes' first scatter and PCA to draw already), and on a turn of its own: ten
        # entries took 10-30 ms, added to the turn that handles the run's start event
        self._legend_timer.start()
        self.refresh()

    def _legend_of_classes(self) -> None:
        self._update_legend(np.arange(len(self.classes)))

    def _layer_picked(self, _: int) -> None:
        self.frames[0].reset()  # codes of another layer: another scale
        self.request_changed.emit()

    def request_fields(self) -> dict:
        layer = self.layers.current()
        return {"layer": None if layer in (None, AUTO) else layer}

    def _class_name(self, label: int) -> str:
        return self.classes[label] if 0 <= label < len(self.classes) else str(label)

    def _update_legend(self, labels: np.ndarray) -> None:
        self._legend_timer.stop()  # codes came first: the legend of their classes is the one to show
        present = np.flatnonzero(np.bincount(labels))  # (np.unique imported numpy.ma on a run's first probe)
        names = [self._class_name(int(k)) for k in present]
        if names == self._legend_for:
            return
        self.legend.clear()
        for k in present:
            sample = pg.ScatterPlotItem(size=8, pen=pg.mkPen(None), brush=class_colour(int(k)))
            self.legend.addItem(sample, self._class_name(int(k)))
        self._legend_for = names
        self._fit_legend()

    def _raw_pca(self, inputs: np.ndarray) -> tuple[np.ndarray, str, str]:
        """The probe batch's inputs in 2-D, made once per batch: a live run's training process sends
        them with the batch (made here, 7 ms for 256 samples of 3,072 values, 30-40 beside training);
        a saved run's probes bring the same batch in a new array each time."""
        cached = self._input_pca
        # the same array first: a live run's batch comes once and stays (summing 3 MB of CIFAR inputs
        # at every probe was a twelfth of the window's drawing on cifar10-cnn)
        if cached is not None and (cached.batch is inputs or cached.key == _batch_key(inputs)):
            return cached.points, cached.how, cached.short
        sent = self.probe.get("inputs_2d")
        points, how, short = sent if sent is not None and len(sent[0]) == len(inputs) else project_inputs(inputs)
        self._input_pca = _InputPoints(inputs, _batch_key(inputs), points, how, short)
        return points, how, short

    def refresh(self) -> None:
        rows = self.summary["layers"] if self.summary else []
        choices = [(AUTO, "bottleneck (narrowest layer)")]
        choices += [(r["index"], layer_choice(self.summary, r["index"])) for r in rows if r["output"]]
        self.layers.set_choices(choices, prefer=AUTO)
        codes, labels = self.probe.get("latent"), self.probe.get("labels")
        index = self.probe.get("latent_layer")
        code_shape = rows[index]["output"] if index is not None and index < len(rows) else None
        stale = codes is not None and bool(rows) and (not code_shape or math.prod(code_shape) != codes.shape[1])
        if codes is None or stale or len(codes) == 0:
            self.points = 0
            for scatter in self.scatters:
                scatter.clear()
            set_title(self.codes_plot, "Latent codes appear here")
            set_title(self.inputs_plot, "")
            return
        if labels is None or len(labels) != len(codes):
            labels = np.zeros(len(codes), np.int64)
        if self._brushes[0] is not labels:  # the labels are fixed for a run: colour them once
            self._brushes = (labels, [class_colour(int(k)) for k in labels])
        brushes = self._brushes[1]
        points, how, short = project_2d(codes)
        self.scatters[0].setData(pos=points, brush=brushes, data=np.arange(len(codes)))
        self.frames[0].show(points)
        where = layer_name(self.summary, index) if index is not None else "the code layer"
        # a side dock's plots are narrow: a long title wrapped to five lines and left the points a sliver
        set_title(self.codes_plot, f"Codes at {where}: {how}" if self._wide else
                  f"Codes at layer {index}: {short}" if index is not None else f"Codes: {short}", 10.0)
        axis = ("unit 0", "unit 1") if codes.shape[1] <= 2 else ("PC 1", "PC 2")
        set_label(self.codes_plot, "bottom", axis[0])
        set_label(self.codes_plot, "left", axis[1])
        self.points = len(codes)
        self._update_legend(labels)
        inputs = self.probe.get("inputs")
        if inputs is not None and len(inputs) == len(codes):
            drawn = self._input_pca
            raw, raw_how, raw_short = self._raw_pca(inputs)
            if self._input_pca is not drawn or len(self.scatters[1].data) != len(codes):  # fixed batch: draw once
                self.scatters[1].setData(pos=raw, brush=brushes, data=np.arange(len(codes)))
                self.frames[1].reset()
                self.frames[1].show(raw)
            set_title(self.inputs_plot, f"Raw inputs: {raw_how if self._wide else raw_short}", 10.0)
            set_label(self.inputs_plot, "bottom", "PC 1")
            set_label(self.inputs_plot, "left", "PC 2")

    def _hovered(self, scatter: Any, points: Any, event: Any) -> None:
        if len(points) == 0 or "inputs" not in self.probe:
            return
        i = int(points[0].data())
        if i >= len(self.probe["inputs"]):
            return
        label = self.probe.get("labels", [None] * (i + 1))[i]
        name = self._class_name(int(label)) if label is not None else "?"
        self.preview.show(input_picture(self.probe["inputs"][i]), f"#{i}: {name}")
        self.hover.setText(f"validation sample {i}, class {name}")
