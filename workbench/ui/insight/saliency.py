"""Where the network looks, as one picture: the input, its saliency, Grad-CAM over the input and the
occlusion map side by side (workbench.training.attribution), each enlarged alike.

`explanation_picture` builds the picture (numpy, shared by the Activation maps panel and
`workbench plot --what saliency`); `SaliencyPanel` shows one on its own.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from workbench.core.mosaic import colorize, side_by_side
from workbench.training.attribution import Explanation
from workbench.ui.insight.activations import input_picture
from workbench.ui.insight.base import HEAT, INK, ImagePlot, InsightPanel

SHOWN_SIZE = 160  # each map is enlarged (by a whole factor) to about this many pixels high
CAM_BLEND = 0.55  # Grad-CAM's share of the overlay; the input shows through the rest


def explanation_picture(x: np.ndarray, explanation: Explanation,
                        spacing: float = 0.1) -> tuple[np.ndarray, list[int], list[str], int]:
    """(picture (H, W, 3) in [0, 1], each part's left edge, each part's caption, enlargement);
    spacing: the gap between parts, as a share of a part's width."""
    source = input_picture(x)
    zoom = max(1, SHOWN_SIZE // source.shape[0])
    parts = [(source, "input"), (colorize(explanation.saliency, HEAT), "saliency (input gradient)")]
    if explanation.grad_cam is not None:
        grey = source.mean(axis=2, keepdims=True).repeat(3, axis=2)
        overlay = (1 - CAM_BLEND) * grey + CAM_BLEND * colorize(explanation.grad_cam, HEAT)
        parts.append((overlay.astype(np.float32), f"Grad-CAM at layer {explanation.cam_layer}"))
    parts.append((colorize(explanation.occlusion, HEAT), f"occlusion ({explanation.patch}×{explanation.patch} patches)"))
    pictures = [p.repeat(zoom, 0).repeat(zoom, 1) for p, _ in parts]
    image, lefts = side_by_side(pictures, gap=max(2, int(pictures[0].shape[1] * spacing)))
    return image, lefts, [name for _, name in parts], zoom


def explanation_title(explanation: Explanation, classes: Sequence[str], what: str) -> str:
    """'sample 3: predicted 7 (97 %)' — what the maps explain."""
    name = classes[explanation.target] if explanation.target < len(classes) else str(explanation.target)
    return f"Where the network looks — {what}: class {name} ({explanation.probability * 100:.0f} %)"


def describe_pixel(parts: Sequence[tuple[int, str]], maps: Sequence[np.ndarray | None], zoom: int, x: float,
                   y: float) -> str:
    """The hover line over an explanation picture: which part, which input pixel, its value."""
    for (left, name), values in reversed(list(zip(parts, maps))):
        if x >= left:
            col, row = int((x - left) / zoom), int(y / zoom)
            if values is None or not (0 <= row < values.shape[0] and 0 <= col < values.shape[1]):
                return f"{name}: pixel ({col}, {row})"
            return f"{name}: pixel ({col}, {row}) = {values[row, col]:.2f} of the largest"
    return ""


class SaliencyPanel(InsightPanel):
    """One explanation on its own (the picture `workbench plot --what saliency` draws)."""

    kind = ""
    title = "Where the network looks"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = ImagePlot(self.canvas)
        for side in ("left", "bottom"):
            self.view.plot.hideAxis(side)
        self.captions: list[pg.TextItem] = []
        self.parts: list[tuple[int, str]] = []
        self.zoom = 1
        self.maps: list[np.ndarray | None] = []
        self.refresh()

    def show_explanation(self, x: np.ndarray, explanation: Explanation, title: str) -> None:
        image, lefts, names, self.zoom = explanation_picture(x, explanation)
        while len(self.captions) < len(names):
            caption = pg.TextItem(color=INK, anchor=(0, 1))
            self.view.plot.addItem(caption)
            self.captions.append(caption)
        for caption, left, name in zip(self.captions, lefts, names):
            caption.setText(name)
            caption.setPos(left, 0)
        self.parts = list(zip(lefts, names))
        self.maps = [None, explanation.saliency, explanation.grad_cam, explanation.occlusion]
        if explanation.grad_cam is None:
            self.maps.pop(2)
        self.view.show(image, title, headroom=0.12)

    def refresh(self) -> None:
        if not self.parts:
            self.view.clear("Where the network looks appears here")

    def update_probe(self, result: Any) -> None:
        """Explanations are shown with show_explanation."""

    def describe_at(self, scene_pos: Any) -> str:
        pixel = self.view.pixel_at(scene_pos) if self.parts else None
        if pixel is None:
            return ""
        return describe_pixel(self.parts, self.maps, self.zoom, *pixel)
