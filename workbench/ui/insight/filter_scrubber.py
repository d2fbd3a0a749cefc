"""Filters forming: scrub through a run's epochs and watch its first layer's filters take shape, from
the snapshots the run folder keeps (workbench.training.filter_history).

Each filter keeps one colour scale over all epochs (its largest weight at any epoch is full colour),
so a filter that grows from noise into an edge detector is seen growing, not re-stretched each epoch.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSlider, QWidget

from workbench.core.mosaic import Mosaic, colorize, tile
from workbench.training.filter_history import FilterHistory, read_history
from workbench.ui.insight.base import DIVERGING, ImagePlot, InsightPanel, layer_name


def steady_scale(history: FilterHistory) -> list[np.ndarray]:
    """Each epoch's filters divided by that filter's largest |weight| over all epochs: within [-1, 1]."""
    stack = np.stack(history.filters)  # (E, K, C, F, F)
    largest = np.abs(stack).max(axis=(0, 2, 3, 4), keepdims=True)[0]  # (K, 1, 1, 1)
    return [f / np.where(largest > 0, largest, 1) for f in history.filters]


def filters_picture(filters: np.ndarray) -> tuple[Mosaic, np.ndarray]:
    """(mosaic, RGB picture) of (K, C, F, F) filters in [-1, 1]: colour when C is 3, else the first
    input channel blue < 0 < red."""
    if filters.shape[1] == 3:
        mosaic = tile(np.clip(0.5 + 0.5 * filters.transpose(0, 2, 3, 1), 0, 1), normalized=True)
        return mosaic, mosaic.image
    mosaic = tile(np.clip(0.5 + 0.5 * filters[:, 0], 0, 1), normalized=True)
    return mosaic, colorize(mosaic.image, DIVERGING)


class FilterScrubber(InsightPanel):
    kind = ""  # from the run folder, not probes
    title = "Filters forming"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(200)
        self.slider.valueChanged.connect(lambda _: self.refresh())
        self.epoch_label = QLabel()
        self.bar.addWidget(QLabel("Epoch"))
        self.bar.addWidget(self.slider, 1)
        self.bar.addWidget(self.epoch_label)
        self.view = ImagePlot(self.canvas)
        for side in ("left", "bottom"):
            self.view.plot.hideAxis(side)
        self.history = FilterHistory(None, [], [])
        self.scaled: list[np.ndarray] = []
        self.mosaic: Mosaic | None = None
        self.refresh()

    def set_run(self, run_dir: str | os.PathLike) -> None:
        """A run folder's snapshots (none: the panel says so); the slider goes to the last epoch."""
        self.set_history(read_history(run_dir))

    def set_history(self, history: FilterHistory) -> None:
        self.history = history
        self.scaled = steady_scale(history) if history.filters else []
        blocked = self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(history.epochs) - 1))
        self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(blocked)
        self.refresh()

    def update_probe(self, result: Any) -> None:
        """Snapshots come from the run folder, not probes."""

    def refresh(self) -> None:
        history = self.history
        self.slider.setEnabled(len(history.epochs) > 1)
        if not history.filters or history.layer is None:
            self.mosaic = None
            self.epoch_label.setText("")
            self.view.clear("Open a run to scrub through its first layer's filters, epoch by epoch")
            return
        at = min(self.slider.value(), len(history.epochs) - 1)
        epoch = history.epochs[at]
        self.epoch_label.setText(f"{epoch} of {history.epochs[-1]}")
        self.mosaic, image = filters_picture(self.scaled[at])
        k, c, fh, fw = history.filters[at].shape
        when = "before training" if epoch == 0 else f"after epoch {epoch}"
        what = "in colour (RGB)" if c == 3 else "blue < 0 < red" if c == 1 else f"input channel 0 of {c}"
        self.view.show(image, f"{layer_name(self.summary, history.layer)}: {k} filters {fh}×{fw} {when}, {what}")

    def describe_at(self, scene_pos: Any) -> str:
        pixel = self.view.pixel_at(scene_pos) if self.mosaic is not None else None
        found = self.mosaic.tile_at(*pixel) if pixel and self.mosaic is not None else None
        if found is None:
            return ""
        w = self.history.filters[min(self.slider.value(), len(self.history.filters) - 1)][found]
        return f"filter {found}: weights {w.min():+.3f} … {w.max():+.3f}"
