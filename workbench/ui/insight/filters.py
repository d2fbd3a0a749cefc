"""Filters: a conv layer's kernels as one mosaic, so edge detectors can be seen appearing."""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QWidget

from workbench.core.mosaic import Mosaic, colorize, tile
from workbench.core.summary import Summary, input_shape
from workbench.ui.insight.base import (DIVERGING, ImagePlot, InsightPanel, LayerChooser, layer_choice, layer_name,
                                      set_spin_range)

SCALES = ("per filter", "shared")


def _kernel_fits(summary: Summary, index: int, weights: np.ndarray) -> bool:
    """Whether (K, C, Fh, Fw) weights fit conv row `index`: K its output channels, C its input's (or a
    divisor of them, for grouped convolutions), and K·C·Fh·Fw its parameter count (less a bias of K):
    a kernel of another size, 3×3 under a layer now 5×5, has another count."""
    row = summary["layers"][index]
    before = input_shape(summary, index)
    k, c = weights.shape[:2]
    if row["output"] is None or row["output"][0] != k or not before or len(before) != 3 or before[0] % c:
        return False
    return row["params"] in (weights.size, weights.size + k)


def filter_layers(summary: Summary | None, filters: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """The probed kernels that still belong to a Conv2d of the current network (same K, C, F)."""
    if summary is None:
        return dict(filters)
    rows = summary["layers"]
    return {index: weights for index, weights in filters.items()
            if index < len(rows) and rows[index]["type"] == "Conv2d" and weights.ndim == 4
            and _kernel_fits(summary, index, weights)}


class FiltersPanel(InsightPanel):
    kind = "filters"
    title = "Filters"
    layer_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layers = LayerChooser()
        self.layers.picked.connect(self._picked)
        self.channel = QSpinBox()
        self.channel.setPrefix("input channel ")
        self.channel.valueChanged.connect(lambda _: self.refresh())
        self.scale = QComboBox()
        self.scale.addItems(SCALES)
        self.scale.currentIndexChanged.connect(lambda _: self.refresh())
        for label, widget in (("Layer", self.layers), (None, self.channel), ("Colour scale", self.scale)):
            if label:
                self.bar.addWidget(QLabel(label))
            self.bar.addWidget(widget)
        self.view = ImagePlot(self.canvas)
        for side in ("left", "bottom"):  # pixel numbers of a mosaic mean nothing; the room goes to the kernels
            self.view.plot.hideAxis(side)
        self.mosaic: Mosaic | None = None
        self.weights: np.ndarray | None = None
        self.refresh()

    def set_layer(self, index: int) -> None:
        """Follow the builder's selection when it is a conv layer."""
        if self.layers.select(index):
            self.refresh()

    def _picked(self, index: int) -> None:
        self.layer_selected.emit(index)
        self.refresh()

    def refresh(self) -> None:
        filters = filter_layers(self.summary, self.probe.get("filters", {}))
        index = self.layers.set_choices([(i, layer_choice(self.summary, i)) for i in sorted(filters)])
        if index is None:
            self.mosaic = self.weights = None
            self.channel.setVisible(False)
            self.view.clear("No convolution layer to show" if "filters" in self.probe else "Filters appear here")
            return
        weights = filters[index]
        k, c, fh, fw = weights.shape
        colour = c == 3 and index == min(filters)  # the first layer sees RGB: draw its filters in colour
        self.channel.setVisible(not colour and c > 1)
        set_spin_range(self.channel, 0, c - 1)
        per_filter = self.scale.currentText() == "per filter"
        if colour:
            self.mosaic = tile(weights.transpose(0, 2, 3, 1), per_tile=per_filter)
            image = self.mosaic.image
            what = "in colour (RGB)"
        else:
            channel = min(self.channel.value(), c - 1)
            self.mosaic = tile(weights[:, channel], per_tile=per_filter, symmetric=True)
            image = colorize(self.mosaic.image, DIVERGING)
            what = f"input channel {channel} of {c}" if c > 1 else "blue < 0 < red"
        self.weights = weights
        self.view.show(image, f"{layer_name(self.summary, index)}: {k} filters {fh}×{fw}, {what}")

    def describe_at(self, scene_pos: Any) -> str:
        if self.mosaic is None:
            return ""
        pixel = self.view.pixel_at(scene_pos)
        found = self.mosaic.tile_at(*pixel) if pixel else None
        if found is None or self.weights is None:
            return ""
        w = self.weights[found]
        return f"filter {found}: weights {w.min():+.3f} … {w.max():+.3f} (mean |w| {np.abs(w).mean():.3f})"
