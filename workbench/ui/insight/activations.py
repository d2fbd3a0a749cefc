"""Activation maps: one input and a layer's output volume as a mosaic of its depth slices
(55×55×96 → 96 tiles); a pooling layer is drawn beside its input so the reduction shows."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QSpinBox, QWidget

from workbench.core.mosaic import Mosaic, colorize, side_by_side, tile, vector_map
from workbench.core.summary import input_index
from workbench.ui.insight.base import (GREY, HEAT, INK, ImagePlot, InsightPanel, LayerChooser, layer_choice, layer_name,
                                      matches_summary, set_captions_text, set_spin_range)

POOLING = ("MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d")
SCALES = ("per map", "shared")
HEADROOM = 0.15  # of the picture's height, above it, for the captions


def input_picture(image: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] -> (H, W, 3): colour for 3 channels, else the first channel in grey."""
    if image.ndim == 3 and image.shape[0] == 3:
        return np.clip(image.transpose(1, 2, 0), 0, 1).astype(np.float32)
    plane = image[0] if image.ndim == 3 else vector_map(image)[0]
    return colorize(np.clip(plane, 0, 1).astype(np.float32), GREY)


def read_image(path: str, shape: list[int]) -> np.ndarray:
    """An image file as the network's input (C, H, W) in [0, 1]: resized, grey or RGB as needed."""
    image = QImage(path)
    if image.isNull():
        raise ValueError(f"{path}: not an image this app can read (try PNG or JPEG)")
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise ValueError(f"the network takes {shape}, not an image: pick a dataset sample instead")
    c, h, w = shape
    fmt = QImage.Format.Format_Grayscale8 if c == 1 else QImage.Format.Format_RGB888
    image = image.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation).convertToFormat(fmt)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())
    pixels = rows[:, : w * c].reshape(h, w, c)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32) / 255.0


class ActivationsPanel(InsightPanel):
    kind = "activations"
    title = "Activation maps"
    layer_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.layers = LayerChooser()
        self.layers.picked.connect(self._picked)
        self.sample = QSpinBox()
        self.sample.setPrefix("sample ")
        self.sample.setRange(0, 255)
        self.sample.valueChanged.connect(self._sample_changed)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._ask_image)
        self.scale = QComboBox()
        self.scale.addItems(SCALES)
        self.scale.currentIndexChanged.connect(lambda _: self.refresh())
        for label, widget in (("Layer", self.layers), (None, self.sample), (None, self.open_button),
                              ("Scale", self.scale)):
            if label:
                self.bar.addWidget(QLabel(label))
            self.bar.addWidget(widget)
        self.view = ImagePlot(self.canvas)
        for side in ("left", "bottom"):  # pixel numbers of a mosaic mean nothing; the room goes to the maps
            self.view.plot.hideAxis(side)
        self.captions = [pg.TextItem(color=INK, anchor=(0, 1)) for _ in range(3)]
        for caption in self.captions:
            self.view.plot.addItem(caption)
        self.zoom = 1  # the input is drawn enlarged by this factor
        self.image: np.ndarray | None = None  # an opened file replacing the dataset sample
        self.sections: list[tuple[int, str, Mosaic | None, np.ndarray]] = []  # (left, name, mosaic, maps)
        self.refresh()

    # requests --------------------------------------------------------------------------------
    def request_fields(self) -> dict:
        return {"sample": self.sample.value(), "image": self.image}

    def set_layer(self, index: int) -> None:
        if self.layers.select(index):
            self.refresh()

    def set_image(self, image: np.ndarray | None) -> None:
        """Show an outside image (C, H, W) in [0, 1] instead of a dataset sample (None: back)."""
        self.image = image
        self.request_changed.emit()

    def _picked(self, index: int) -> None:
        self.layer_selected.emit(index)
        self.refresh()

    def _sample_changed(self, _: int) -> None:
        self.image = None
        self.request_changed.emit()

    def _ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif)")
        if not path:
            return
        try:
            self.set_image(read_image(path, self.summary["input"] if self.summary else []))
        except ValueError as exc:
            self.hover.setText(str(exc))

    # drawing ---------------------------------------------------------------------------------
    def _maps(self, index: int, activation: np.ndarray) -> tuple[Mosaic, np.ndarray]:
        maps = activation if activation.ndim == 3 else vector_map(activation)
        return tile(maps, per_tile=self.scale.currentText() == "per map"), maps

    def refresh(self) -> None:
        acts = {i: a for i, a in self.probe.get("activations", {}).items()
                if matches_summary(self.summary, i, tuple(a.shape))}
        if "inputs" in self.probe:
            set_spin_range(self.sample, 0, max(0, len(self.probe["inputs"]) - 1))
        index = self.layers.set_choices([(i, layer_choice(self.summary, i)) for i in sorted(acts)])
        texts = dict.fromkeys(self.captions, "")
        if index is None or "input" not in self.probe:
            set_captions_text(texts)
            self.sections = []
            self.view.clear("Activation maps appear here (start training or open a run)")
            return
        source = "opened image" if self.image is not None else f"sample {self.sample.value()}"
        parts: list[tuple[str, Mosaic | None, np.ndarray]] = [(source, None, self.probe["input"])]
        rows = self.summary["layers"] if self.summary else []
        pooling = index < len(rows) and rows[index]["type"] in POOLING
        fed = input_index(self.summary, index) if pooling and self.summary else -1
        if fed in acts:
            parts.append((f"layer {fed} (pooled →)", *self._maps(fed, acts[fed])))
        parts.append((f"layer {index}", *self._maps(index, acts[index])))
        maps_height = max(m.image.shape[0] for _, m, _ in parts[1:] if m is not None)
        self.zoom = max(1, maps_height // 3 // self.probe["input"].shape[-2]) if self.probe["input"].ndim == 3 else 1
        picture = input_picture(parts[0][2])
        pictures = [picture.repeat(self.zoom, 0).repeat(self.zoom, 1)]  # small inputs drawn larger
        pictures += [colorize(m.image, HEAT) for _, m, _ in parts[1:] if m is not None]
        image, lefts = side_by_side(pictures, gap=max(2, pictures[-1].shape[1] // 12))
        self.sections = [(left, name, mosaic, maps) for left, (name, mosaic, maps) in zip(lefts, parts)]
        for caption, (left, name, _, _) in zip(self.captions, self.sections):
            texts[caption] = name
            caption.setPos(left, 0)
        set_captions_text(texts)  # only the captions that change (each change repaints the panel)
        act = acts[index]
        depth = f"{act.shape[0]} depth slices" if act.ndim == 3 else f"{act.shape[0]} units"
        self.view.show(image, f"{layer_name(self.summary, index)}: {depth}", headroom=HEADROOM)
        rights = [left for left, *_ in self.sections[1:]] + [image.shape[1]]
        self.view.set_captions([(caption, right - left, HEADROOM * image.shape[0]) for caption, (left, *_), right
                                in zip(self.captions, self.sections, rights)])

    def describe_at(self, scene_pos: Any) -> str:
        pixel = self.view.pixel_at(scene_pos) if self.sections else None
        if pixel is None:
            return ""
        x, y = pixel
        for left, name, mosaic, maps in reversed(self.sections):
            if x < left:
                continue
            if mosaic is None:
                return f"{name}: pixel ({int((x - left) / self.zoom)}, {int(y / self.zoom)})"
            found = mosaic.tile_at(x - left, y)
            if found is None:
                return ""
            m = maps[found]
            what = f"channel {found}" if maps.shape[0] > 1 else "units"
            return f"{name}, {what}: {np.nanmin(m):.3f} … {np.nanmax(m):.3f}"
        return ""
