"""Reconstructions: input / corrupted input (denoising) / reconstruction, with each image's error
and the compression ratio (input size ÷ code size)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from workbench.core.graph import bypass
from workbench.core.mosaic import Mosaic, tile
from workbench.training.probe_request import LIVE_RECONSTRUCTIONS, bottleneck
from workbench.ui.insight.activations import input_picture
from workbench.ui.insight.base import INK, ImagePlot, InsightPanel, set_captions_text
from workbench.core.summary import Summary, row_sources

MAX_SHOWN = LIVE_RECONSTRUCTIONS  # a live probe sends this many


def compression(summary: Summary | None) -> tuple[int, int, int] | None:
    """(input size, code size, code layer) from the current network, None without a bottleneck or
    when skip connections jump over it (a U-Net's decoder reads more than the code)."""
    outputs = [r["output"] for r in summary["layers"]] if summary else []
    if not summary or any(output is None for output in outputs):
        return None
    sizes = [math.prod(output or ()) for output in outputs]
    index = bottleneck(sizes)
    if index is None or bypass(row_sources(summary), index) is not None:
        return None
    return math.prod(summary["input"]), sizes[index], index


class ReconstructionsPanel(InsightPanel):
    kind = "reconstructions"
    title = "Reconstructions"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.count = QSpinBox()
        self.count.setRange(1, MAX_SHOWN)
        self.count.setValue(10)
        self.count.setSuffix(" images")
        self.count.valueChanged.connect(lambda _: self.refresh())
        self.bar.addWidget(QLabel("Show"))
        self.bar.addWidget(self.count)
        self.view = ImagePlot(self.canvas)
        self.view.plot.hideAxis("bottom")
        self.view.plot.hideAxis("left")
        self.row_captions = [pg.TextItem(color=INK, anchor=(1, 0.5)) for _ in range(3)]
        self.error_captions = [pg.TextItem(color=INK, anchor=(0.5, 0)) for _ in range(MAX_SHOWN)]
        for caption in self.row_captions + self.error_captions:
            self.view.plot.addItem(caption)
        self.mosaic: Mosaic | None = None
        self.errors = np.zeros(0)
        self.row_names: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        texts = dict.fromkeys(self.row_captions + self.error_captions, "")
        self._show(texts)
        set_captions_text(texts)  # (drawn already when there was a mosaic)

    def _show(self, texts: dict[pg.TextItem, str]) -> None:
        """Draw the mosaic and fill in `texts`, the captions' new texts."""
        recon, inputs = self.probe.get("reconstructions"), self.probe.get("inputs")
        stale = (recon is not None and self.summary is not None
                 and list(recon.shape[1:]) != list((self.summary.get("output") or [])))
        if recon is None or inputs is None or stale or len(recon) > len(inputs):
            self.mosaic = None
            self.view.clear("Reconstructions appear here (for networks whose output is the input's shape)")
            return
        n = min(self.count.value(), len(recon))
        rows = [("input", inputs[:n])]
        if "corrupted" in self.probe and len(self.probe["corrupted"]) >= n:
            rows.append(("corrupted", self.probe["corrupted"][:n]))
        rows.append(("reconstruction", recon[:n]))
        self.row_names = [name for name, _ in rows]
        self.errors = ((recon[:n] - inputs[:n]) ** 2).reshape(n, -1).mean(1)
        pictures = np.stack([input_picture(im) for _, images in rows for im in images])
        self.mosaic = tile(pictures, columns=n, gap=max(1, pictures.shape[1] // 8), normalized=True)
        m = self.mosaic
        for caption, name, row in zip(self.row_captions, self.row_names, range(len(rows))):
            texts[caption] = name
            caption.setPos(-m.gap, m.origin(row * n)[1] + m.tile_h / 2)
        for i, caption in enumerate(self.error_captions[:n]):
            x, y = m.origin((len(rows) - 1) * n + i)
            texts[caption] = f"{self.errors[i]:.3f}"
            caption.setPos(x + m.tile_w / 2, y + m.tile_h)
        title = f"Mean squared error {self.errors.mean():.4f} (under each reconstruction)"
        ratio = compression(self.summary)
        if ratio:
            size, code, layer = ratio
            title += f" · compression {size} ÷ {code} = {size / code:.1f}× (code: layer {layer})"
        self.view.show(m.image, title)
        width, height = m.image.shape[1], m.image.shape[0]
        self.view.plot.setRange(xRange=(-0.45 * width, width), yRange=(0, height * 1.12), padding=0.02)
        set_captions_text(texts)  # before set_captions: captions are sized to their text
        self.view.set_captions([(c, 0.45 * width - m.gap, m.tile_h) for c in self.row_captions[:len(rows)]]
                               + [(c, m.tile_w + m.gap * 0.8, 0.12 * height) for c in self.error_captions[:n]])

    def describe_at(self, scene_pos: Any) -> str:
        if self.mosaic is None:
            return ""
        pixel = self.view.pixel_at(scene_pos)
        found = self.mosaic.tile_at(*pixel) if pixel else None
        if found is None:
            return ""
        row, col = divmod(found, self.mosaic.cols)
        return f"{self.row_names[row]} of image {col}: squared error {self.errors[col]:.4f}"
