"""Classification: the confusion matrix and the most confidently wrong samples.

The matrix is as large as the dataset's classes, not the network's outputs (an AlexNet with 1,000
outputs on 10 classes shows 10×10); above `NUMBERED_UP_TO` classes cells are colour only (their
count is on hover): thousands of numbers are read by no one."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QWidget

from workbench.core.mosaic import Mosaic, colorize, tile
from workbench.ui.insight.activations import input_picture
from workbench.ui.insight.base import HEAT, INK, ImagePlot, InsightPanel, fit_canvas, set_captions_text
from workbench.ui.insight.cell_numbers import CellNumbers

WRONG_SHOWN = 12
NUMBERED_UP_TO = 20
WIDE_RATIO = 1.3  # a panel this many times wider than high has the wrong samples beside the matrix, else under it
LIGHT_BELOW = 0.6  # of the largest count: cells darker than this (viridis) get light numbers


def confidently_wrong(labels: np.ndarray, predicted: np.ndarray, confidence: np.ndarray,
                      count: int = WRONG_SHOWN) -> np.ndarray:
    """Indices of misclassified samples, most confident first."""
    wrong = np.flatnonzero(labels != predicted)
    return wrong[np.argsort(-confidence[wrong], kind="stable")][:count]


class ConfusionPanel(InsightPanel):
    kind = "confusion"
    title = "Classification"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.classes: list[str] = []
        self.matrix_view = ImagePlot(self.canvas, row=0, col=0)
        self.matrix_view.plot.setLabel("bottom", "predicted class", color=INK)
        self.matrix_view.plot.setLabel("left", "true class", color=INK)
        self.matrix_view.plot.vb.sigResized.connect(self._fit_ticks)
        self.wrong_view = ImagePlot(self.canvas, row=0, col=1)
        self.wrong_view.plot.hideAxis("left")
        self.wrong_view.plot.hideAxis("bottom")
        self.cell_numbers = CellNumbers()
        self.matrix_view.plot.addItem(self.cell_numbers)
        self._named_classes: int | None = None  # how many classes the axes name
        self.wrong_texts = [pg.TextItem(color=INK, anchor=(0.5, 0)) for _ in range(WRONG_SHOWN)]
        for text in self.wrong_texts:
            self.wrong_view.plot.addItem(text)
        self.matrix: np.ndarray | None = None
        self.wrong = np.zeros(0, np.int64)
        self.wrong_mosaic: Mosaic | None = None
        self._pictures_of: tuple = (None, b"")  # (the inputs, the wrong samples) wrong_mosaic shows
        self._axes_shown = True
        self._wide = True
        self.refresh()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._arrange(wide=self.width() >= WIDE_RATIO * self.height())

    def _arrange(self, wide: bool) -> None:
        """Wide (a bottom dock): the wrong samples beside the matrix. Tall (presentation mode's side
        column): under it; side by side there, the class names' axis and the samples were wider
        than the dock, and the samples were cut off at its edge."""
        if wide == self._wide:
            return
        self._wide = wide
        layout = self.canvas.ci
        layout.removeItem(self.wrong_view.plot)
        layout.addItem(self.wrong_view.plot, row=0 if wide else 1, col=1 if wide else 0)
        layout.layout.setRowStretchFactor(0, 1 if wide else 3)  # tall: the matrix first, the samples under it
        layout.layout.setRowStretchFactor(1, 0 if wide else 2)
        QTimer.singleShot(0, self.canvas, lambda: fit_canvas(self.canvas))

    def set_classes(self, names: list[str]) -> None:
        self.classes = list(names)
        self.refresh()

    def _name(self, k: int) -> str:
        return self.classes[k] if 0 <= k < len(self.classes) else str(k)

    def _name_axes(self, k: int) -> None:
        """The class names on the axes follow the number of classes."""
        if self._named_classes != k:
            self._named_classes = k
            self._fit_ticks()

    def _fit_ticks(self, *_: Any) -> None:
        """Class names on the axes: every one when the cells are large enough, else every second,
        third… (names on top of each other are read by no one; hover names every cell)."""
        k = getattr(self, "_named_classes", None) or 0  # (resized while being made)
        unit = self.matrix_view.plot.vb.viewPixelSize()[0]  # classes per screen pixel
        plot = self.matrix_view.plot
        for side in ("bottom", "left"):
            axis = plot.getAxis(side)
            if not k or k > NUMBERED_UP_TO or unit <= 0:
                axis.setTicks(None)
                continue
            metrics = QFontMetricsF(axis.style.get("tickFont") or axis.font())
            room = (max(metrics.horizontalAdvance(self._name(j)) for j in range(k)) if side == "bottom"
                    else metrics.height()) + 4
            every = max(1, math.ceil(room * unit))
            axis.setTicks([[(j + 0.5, self._name(j)) for j in range(0, k, every)]])

    def refresh(self) -> None:
        matrix = self.probe.get("confusion")
        rows = self.summary["output"] if self.summary else None
        if matrix is None or (rows is not None and list(rows) != [len(matrix)]):
            self.matrix = None
            self._show_axes(False)  # no axis with made-up numbers on an empty plot
            self.matrix_view.clear("The confusion matrix appears here (classification runs)")
            self.wrong_view.clear("")
            self.cell_numbers.set_counts(np.zeros((0, 0), np.int64), np.zeros((0, 0), bool))
            set_captions_text(dict.fromkeys(self.wrong_texts, ""))
            return
        # the classes' rows and columns: outputs beyond them hold no true class, and predictions
        # there are wrong (counted in the accuracy below, not drawn)
        k = min(len(self.classes), len(matrix)) if self.classes else len(matrix)
        self.matrix = matrix[:k, :k]
        self._show_axes(True)
        full, matrix = matrix, self.matrix
        self._name_axes(k)
        peak = max(int(matrix.max()), 1)
        numbered = matrix if k <= NUMBERED_UP_TO else np.zeros((0, 0), np.int64)
        self.cell_numbers.set_counts(numbered, numbered < peak * LIGHT_BELOW)  # readable on any cell
        accuracy = np.trace(matrix) / max(full.sum(), 1)
        self.matrix_view.show(colorize((matrix / peak).astype(np.float32), HEAT),
                              f"Confusion on {int(full.sum())} validation samples: accuracy {accuracy:.1%}")
        self._show_wrong()

    def _show_axes(self, shown: bool) -> None:
        if self._axes_shown != shown:
            for side in ("left", "bottom"):
                self.matrix_view.plot.showAxis(side, shown)
            self._axes_shown = shown

    def _show_wrong(self) -> None:
        labels, predicted = self.probe.get("labels"), self.probe.get("predicted")
        confidence, inputs = self.probe.get("confidence"), self.probe.get("inputs")
        complete = (labels is not None and predicted is not None and confidence is not None and inputs is not None
                    and len(inputs) == len(predicted))
        wrong = confidently_wrong(labels, predicted, confidence) if complete else np.zeros(0, np.int64)
        set_captions_text(dict.fromkeys(self.wrong_texts[len(wrong):], ""))
        if len(wrong) == 0:
            self.wrong, self.wrong_mosaic = wrong, None
            self.wrong_view.clear("No wrong predictions" if complete else "")
            return
        assert labels is not None and predicted is not None and confidence is not None and inputs is not None
        pictures_of = (inputs, wrong.tobytes())
        if (self.wrong_mosaic is None or pictures_of[0] is not self._pictures_of[0]
                or pictures_of[1] != self._pictures_of[1]):
            # the same samples are wrong from one live probe to the next, most of the time: tile them once
            pictures = np.stack([input_picture(inputs[i]) for i in wrong])
            h = pictures.shape[1]
            # a gap as tall as a picture: room under each for its two-line caption
            self.wrong_mosaic = tile(pictures, columns=min(4, len(pictures)), gap=max(2, h), normalized=True)
            self.wrong_view.show(self.wrong_mosaic.image, "Most confidently wrong (true→predicted)")
            self.wrong_view.plot.setRange(yRange=(0, self.wrong_mosaic.image.shape[0] + self.wrong_mosaic.gap),
                                          padding=0.02)
            self._pictures_of = pictures_of
        self.wrong, m = wrong, self.wrong_mosaic
        for text, i, index in zip(self.wrong_texts, self.wrong, range(len(self.wrong))):
            x, y = m.origin(index)
            set_captions_text({text: f"{self._name(int(labels[i]))}→{self._name(int(predicted[i]))}\n{confidence[i]:.0%}"})
            text.setPos(x + m.tile_w / 2, y + m.tile_h)
        self.wrong_view.set_captions([(text, m.tile_w + m.gap * 0.8, m.gap) for text in self.wrong_texts[:len(self.wrong)]])

    def describe_at(self, scene_pos: Any) -> str:
        matrix = self.matrix
        pixel = self.matrix_view.pixel_at(scene_pos) if matrix is not None else None
        if matrix is not None and pixel and 0 <= pixel[0] < len(matrix) and 0 <= pixel[1] < len(matrix):
            p, t = int(pixel[0]), int(pixel[1])
            return f"true {self._name(t)}, predicted {self._name(p)}: {int(matrix[t, p])} samples"
        if self.wrong_mosaic is None:
            return ""
        pixel = self.wrong_view.pixel_at(scene_pos)
        found = self.wrong_mosaic.tile_at(*pixel) if pixel else None
        if found is None:
            return ""
        i = int(self.wrong[found])
        return f"validation sample {i}: confidence {self.probe['confidence'][i]:.1%}"
