"""What every insight panel shares: a control bar, one pyqtgraph canvas, a hover line, Export PNG.

Panels are views of probe results (numpy arrays, see workbench.training.probes.capture) and of the
network summary (workbench.core.inference.summarize). They never see a tensor or a model. A panel
only shows layers whose probed shape still matches the summary, so the maps of a removed or
changed layer disappear instead of being drawn under the wrong name.
"""
from __future__ import annotations

import html
import os
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSizeF, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGraphicsItem, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from workbench.core.catalogue import fmt_shape
from workbench.core.project import write_atomic
from workbench.training.events import Event, Probe
from workbench.training.updates import merge_probe
from workbench.ui.shell.pictures import widget_png
from workbench.core.summary import Summary

INK = "#202020"
BACKGROUND = "w"


def colour_table(name: str) -> np.ndarray:
    """A 256-entry RGB table (0..255) from one of pyqtgraph's colour maps."""
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)


GREY = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
HEAT = colour_table("viridis")
DIVERGING = colour_table("CET-D1")  # blue < 0 < red: the sign of a weight at a glance
CLASS_COLOURS = [pg.intColor(i, hues=10, values=1, maxValue=220) for i in range(10)]


CLASS_BRUSHES = [pg.mkBrush(colour) for colour in CLASS_COLOURS]  # shared: the scatter caches symbols per brush


def class_colour(label: int) -> Any:
    return CLASS_BRUSHES[int(label) % len(CLASS_BRUSHES)]


class ClippedTitle(pg.LabelItem):
    """A plot title that never widens its plot. pyqtgraph makes a label at least as wide as its text
    (on every text change and resize): a long title widened the plot past a narrow dock's edge and
    cut off the right of the picture (reconstructions 9 and 10 of 10, the raw-input scatter). This
    one asks for no minimum width; its text is clipped to its column, the start shown when it does
    not fit (set_title makes the whole text its tooltip)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)

    def setMinimumWidth(self, width: float) -> None:  # noqa: N802 - Qt's name; LabelItem asks for its text's width
        super().setMinimumWidth(0)

    def sizeHint(self, which: Qt.SizeHint, constraint: QSizeF = QSizeF()) -> QSizeF:  # noqa: N802 - Qt's name
        hint = super().sizeHint(which, constraint)
        return QSizeF(0, hint.height()) if which == Qt.SizeHint.MinimumSize else hint

    def resizeEvent(self, ev: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(ev)
        text = self.itemRect()
        if text.width() > self.rect().width():  # too long to centre: show its start
            self.item.moveBy(self.rect().left() - text.left(), 0)


def styled_plot(plot: pg.PlotItem, title: str = "", x_label: str = "", y_label: str = "") -> pg.PlotItem:
    """Dark text on white, for slides and projectors; a title that never widens the plot."""
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setTextPen(INK)
        axis.setPen(INK)
    if not isinstance(plot.titleLabel, ClippedTitle):  # the title's cell of the plot's grid: row 0, column 1
        old = plot.titleLabel
        plot.layout.removeItem(old)
        old.setParentItem(None)
        if old.scene() is not None:
            old.scene().removeItem(old)
        plot.titleLabel = ClippedTitle("", size="11pt", parent=plot)
        plot.layout.addItem(plot.titleLabel, 0, 1)
    plot.setTitle(title, color=INK, size="11pt")
    plot.setLabel("bottom", x_label, color=INK)
    plot.setLabel("left", y_label, color=INK)
    return plot


def set_title(plot: pg.PlotItem, title: str, size: str = "11pt") -> None:
    """setTitle, only when the text changes: each call re-lays out the whole canvas, which made
    titles a large part of a live refresh."""
    if getattr(plot, "_shown_title", None) != (title, size):
        plot.setTitle(html.escape(title, quote=False), color=INK, size=size)  # rich text: "a < b" is no tag
        plot.titleLabel.setToolTip(title)  # the whole text, when the dock is too narrow for it
        plot._shown_title = (title, size)


def set_label(plot: pg.PlotItem, side: str, text: str) -> None:
    """setLabel, only when the text changes (a new label makes the axis redo its layout and ticks)."""
    axis = plot.getAxis(side)
    if getattr(axis, "_shown_label", None) != text:
        plot.setLabel(side, text, color=INK)
        axis._shown_label = text


class ImagePlot:
    """One plot holding ONE ImageItem (a whole mosaic), rows drawn top-down, square pixels."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, row: int = 0, col: int = 0):
        self.plot = styled_plot(canvas.addPlot(row=row, col=col))
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.item)
        self._framing: tuple | None = None

    def show(self, image: np.ndarray, title: str, headroom: float = 0.0) -> None:
        """image: (H, W, 3) in [0, 1] with NaN gaps (drawn as background); headroom: a fraction of
        the height left free above it for captions."""
        rgba = np.empty((*image.shape[:2], 4), np.uint8)
        gap = np.isnan(image[..., 0])
        rgba[..., :3] = (np.nan_to_num(image, nan=1.0) * 255).astype(np.uint8)
        rgba[..., 3] = np.where(gap, 0, 255)
        self.item.setImage(np.ascontiguousarray(rgba), levels=None, autoLevels=False)
        set_title(self.plot, title)
        framing = (image.shape[:2], headroom)
        if framing != self._framing:  # the same picture size keeps the view (and the user's zoom)
            self.plot.setRange(xRange=(0, image.shape[1]), yRange=(-headroom * image.shape[0], image.shape[0]),
                               padding=0.02)
            self._framing = framing

    def clear(self, title: str = "") -> None:
        self.item.clear()
        set_title(self.plot, title)
        self._framing = None

    def pixel_at(self, scene_pos: Any) -> tuple[float, float] | None:
        """(x, y) image pixel under a scene position, None when outside the plot."""
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        return point.x(), point.y()


def layer_name(summary: Summary | None, index: int) -> str:
    """'layer 3 · MaxPool 2×2, s2 → 4×4×32' (or just 'layer 3' without a summary)."""
    rows = summary["layers"] if summary else []
    if index >= len(rows):
        return f"layer {index}"
    row = rows[index]
    out = fmt_shape(tuple(row["output"])) if row["output"] else "?"
    return f"layer {index} · {row['label']} → {out}"


def matches_summary(summary: Summary | None, index: int, shape: tuple[int, ...]) -> bool:
    """Whether a probed output of `shape` still belongs to layer `index` of the current network."""
    if summary is None:
        return True
    rows = summary["layers"]
    output = rows[index]["output"] if index < len(rows) else None
    return output is not None and tuple(output) == shape


class InsightPanel(QWidget):
    """Base of the panels: subclasses fill `self.bar` with controls and draw on `self.canvas`.

    kind: the ProbeRequest field this panel needs ("" when it needs none).
    request_changed: the panel wants a different probe (another sample, layer or image).
    visibility_changed: shown or hidden; only visible panels are probed.
    """

    kind = ""
    title = ""
    request_changed = Signal()
    visibility_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.title)
        self.summary: Summary | None = None
        self.probe: Probe = {}
        self.bar = QHBoxLayout()
        self.export_button = QPushButton("Export PNG…")
        self.export_button.clicked.connect(self._ask_export)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.hover = QLabel(" ")
        self.hover.setObjectName("hover")
        top = QHBoxLayout()
        top.addLayout(self.bar)
        top.addStretch(1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover)
        self.canvas.scene().sigMouseMoved.connect(self._mouse_moved)

    # feeding ---------------------------------------------------------------------------------
    def set_summary(self, summary: Summary | None) -> None:
        """The current network's layer names and shapes; stale probed layers disappear."""
        self.summary = summary
        self.refresh()

    def update_probe(self, result: Probe) -> None:
        """A probe result (the engine's "probe" event or capture's dict); keys it lacks keep their
        last value, so a probe made for other panels does not blank this one."""
        self.probe = merge_probe(self.probe, result)
        self.refresh()

    def clear(self) -> None:
        self.probe = {}
        self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError

    def request_fields(self) -> dict:
        """What this panel adds to the ProbeRequest beyond its kind (layer, sample, image)."""
        return {}

    # hover -----------------------------------------------------------------------------------
    def _mouse_moved(self, scene_pos: Any) -> None:
        self.hover.setText(self.describe_at(scene_pos) or " ")

    def describe_at(self, scene_pos: Any) -> str:
        return ""

    # visibility ------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.visibility_changed.emit(True)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        self.visibility_changed.emit(False)

    # export ----------------------------------------------------------------------------------
    def for_picture(self) -> None:
        """Hide the controls and the hover line: a picture for slides (`workbench plot`)."""
        for i in range(self.bar.count()):
            widget = self.bar.itemAt(i).widget()
            if widget is not None:
                widget.hide()
        self.export_button.hide()
        self.hover.hide()

    def export_png(self, path: str | os.PathLike) -> None:
        """The panel as shown, written atomically (a failed write leaves no half file)."""
        write_atomic(path, widget_png(self))

    def _ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.title}", f"{self.kind or 'panel'}.png",
                                              "PNG image (*.png)")
        if not path:
            return
        try:
            self.export_png(path)
            self.hover.setText(f"Saved {path}")
        except OSError as exc:
            self.hover.setText(f"Could not save {path}: {exc.strerror or exc}")


class LayerChooser(QComboBox):
    """A layer selector that keeps its choice across refreshes and reports only user picks."""

    picked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.activated.connect(lambda row: self.picked.emit(self.itemData(row)))

    def set_choices(self, choices: list[tuple[int, str]], prefer: int | None = None) -> int | None:
        """Fill with (layer index, text); keep the current layer if still offered, else `prefer`,
        else the first. Returns the selected layer index (None when empty)."""
        keep = self.current() if self.count() else prefer
        if [(self.itemData(i), self.itemText(i)) for i in range(self.count())] != choices:
            blocked = self.blockSignals(True)
            self.clear()
            for index, text in choices:
                self.addItem(text, index)
            self.blockSignals(blocked)
        if not self.select(keep):
            self.select(prefer)
        return self.current()

    def select(self, index: int | None) -> bool:
        """Select a layer without emitting `picked` (programmatic sync); False if not offered."""
        row = self.findData(index) if index is not None else -1
        if row < 0:
            if self.count() and self.currentIndex() < 0:
                self.setCurrentIndex(0)
            return False
        blocked = self.blockSignals(True)
        self.setCurrentIndex(row)
        self.blockSignals(blocked)
        return True

    def current(self) -> int | None:
        return self.currentData() if self.count() else None


class StageMarks:
    """Where each stage of a staged run (layer-wise pretraining) begins, on epoch-axis plots: a dashed
    vertical line and the stage's name. Items are made once per stage and reused by later runs."""

    def __init__(self, plots: list[pg.PlotItem]):
        self.plots = plots
        self.items: list[tuple[pg.InfiniteLine, ...]] = []
        self.stages: list[str] = []

    def clear(self) -> None:
        self.stages = []
        for items in self.items:
            for item in items:
                item.hide()

    def add(self, events: Sequence[Event]) -> None:
        """Mark the stages that these events enter (an epoch's stage began where the epoch began)."""
        for event in events:
            stage = event.get("stage")
            if event["event"] != "epoch" or not stage or (self.stages and self.stages[-1] == stage):
                continue
            x = float(event["epoch"]) - float(event.get("stage_epoch", 1))
            if len(self.items) <= len(self.stages):
                pen = pg.mkPen(INK, width=1, style=Qt.PenStyle.DashLine)
                self.items.append(tuple(plot.addLine(x=0, pen=pen, label="", labelOpts={
                    "position": 0.95, "color": INK, "anchors": [(0, 0), (0, 0)], "movable": False})
                    for plot in self.plots))
            for line in self.items[len(self.stages)]:
                line.setValue(x)
                line.label.setFormat(stage)
                line.show()
            self.stages.append(stage)
