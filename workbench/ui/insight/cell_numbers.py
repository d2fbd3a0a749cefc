"""The counts written on a confusion matrix's cells: one item that paints them all.

A text item per cell (pyqtgraph's TextItem, a QGraphicsTextItem with its own document and a
transform kept in step with the view) took ~30 ms to make for 10 classes and ~10 ms a live refresh
to re-lay out and re-fit; the first live probe of a run held the window for 100 ms with it. Here a
refresh stores numbers and a paint writes them, sized to the cell as shown on screen: as large as
captions are (CAPTION_PX), smaller to fit a cell, and none when smaller than MIN_CAPTION_PX (the
hover line names every cell's count)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from workbench.ui.insight.base import CAPTION_PX, MIN_CAPTION_PX, PlotText

ROOM = 0.9  # of a cell, for its number
DARK, LIGHT = QColor("black"), QColor("white")


class CellNumbers(pg.GraphicsObject):
    """Counts on a K×K grid of unit cells (cell (row i, column j) spans x j..j+1, y i..i+1)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts = np.zeros((0, 0), np.int64)
        self._light = np.zeros((0, 0), bool)

    def set_counts(self, counts: np.ndarray, light: np.ndarray) -> None:
        """The counts (0 is left blank) and where they are written light (on a dark cell)."""
        if counts.shape != self.counts.shape:
            self.prepareGeometryChange()
        self.counts, self._light = counts.astype(np.int64), light
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        rows, columns = self.counts.shape
        return QRectF(0, 0, columns, rows)

    def paint(self, painter: QPainter, *_: Any) -> None:
        rows, columns = self.counts.shape
        if not rows:
            return
        to_screen = painter.transform()
        cell_w = abs(to_screen.m11()) + abs(to_screen.m21())  # one cell on screen, in pixels
        cell_h = abs(to_screen.m22()) + abs(to_screen.m12())
        widest = max(len(str(int(self.counts.max()))), 1)
        font = QFont(painter.font())
        largest = round(CAPTION_PX * PlotText.scale)
        font.setPixelSize(largest)
        metrics = QFontMetricsF(font)
        size = min(largest, largest * ROOM * cell_w / (metrics.horizontalAdvance("0" * widest) + 2),
                   largest * ROOM * cell_h / (metrics.lineSpacing() + 2))
        if size < MIN_CAPTION_PX:
            return
        font.setPixelSize(int(size))
        painter.save()
        painter.resetTransform()  # text at screen size, not stretched with the cells
        painter.setFont(font)
        box = QRectF(-cell_w / 2, -cell_h / 2, cell_w, cell_h)
        for (i, j), count in np.ndenumerate(self.counts):
            if count:
                painter.setPen(LIGHT if self._light[i, j] else DARK)
                painter.drawText(box.translated(to_screen.map(QPointF(j + 0.5, i + 0.5))),
                                 Qt.AlignmentFlag.AlignCenter, str(int(count)))
        painter.restore()
