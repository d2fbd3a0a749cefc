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
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QTextOption
from PySide6.QtWidgets import (QComboBox, QFileDialog, QGraphicsItem, QLabel, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)
from shiboken6 import isValid

from workbench.core.catalogue import fmt_shape
from workbench.core.project import write_atomic
from workbench.core.summary import Summary
from workbench.training.events import Event, Probe
from workbench.training.updates import merge_probe
from workbench.ui.shell.flow import FlowLayout
from workbench.ui.shell.pictures import widget_png

INK = "#202020"
TITLE_ROW = 30  # pyqtgraph's height of a plot's title row (one line)
MIN_TITLE_ROOM = 60  # pixels: a title narrower than this is in a layout still settling: no wrapping yet
TITLE_PT, LABEL_PT, TICK_PT, LEGEND_PT = 11.0, 9.0, 8.0, 9.0  # plots' text at plain size
CAPTION_PX, MIN_CAPTION_PX = 13, 8  # captions over a picture: at most, and at least (else not shown)
BACKGROUND = "w"


def colour_table(name: str) -> np.ndarray:
    """A 256-entry RGB table (0..255) from one of pyqtgraph's colour maps."""
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)


GREY = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
HEAT = colour_table("viridis")
DIVERGING = colour_table("CET-D1")  # blue < 0 < red: the sign of a weight at a glance
# Ten classes, ten colours told apart at a glance (matplotlib's "tab10"); evenly spaced hues put
# classes 3 and 4 in two greens.
CLASS_COLOURS = [pg.mkColor(hex_code) for hex_code in ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")]


CLASS_BRUSHES = [pg.mkBrush(colour) for colour in CLASS_COLOURS]  # shared: the scatter caches symbols per brush


def class_colour(label: int) -> Any:
    return CLASS_BRUSHES[int(label) % len(CLASS_BRUSHES)]


class ReadableAxis(pg.AxisItem):
    """An axis whose numbers never run into each other: pyqtgraph spaces ticks by the axis's length
    alone, so larger numbers (presentation mode) on a short axis overlapped. The major step grows
    (1, 2, 5, 10, …) until each number has its own room."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N803
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or size <= 0 or maxVal <= minVal:
            return levels
        metrics = QFontMetricsF(self.style["tickFont"] or QFont())
        per_px = (maxVal - minVal) / size
        step = levels[0][0]
        for growth in (2.0, 2.5, 2.0, 2.0, 2.5, 2.0, 2.0, 2.5, 2.0):
            values = np.arange(np.ceil(minVal / step) * step, maxVal + step / 2, step)
            if self.orientation in ("left", "right"):
                needed = metrics.height() * 1.2
            else:
                needed = max((metrics.horizontalAdvance(t) for t in self.tickStrings(list(values), 1.0, step)),
                             default=0.0) + metrics.averageCharWidth() * 1.5
            if step / per_px >= needed:
                break
            step *= growth
        return [(step, 0.0)] + [level for level in levels[1:] if level[0] < step]


class EpochAxis(ReadableAxis):
    """An epoch axis: ticks on whole epochs only (a per-step curve has points in between). The run's
    last epoch sits at the axis's end, where pyqtgraph hid its number (half of it past the axis):
    a number may reach past the end by half its width, and the plot keeps that much room to its right."""

    def make_room_at_the_end(self, plot: pg.PlotItem) -> None:
        metrics = QFontMetricsF(self.style["tickFont"] or QFont())
        room = int(np.ceil(metrics.horizontalAdvance("0000") / 2))
        self.setStyle(hideOverlappingLabels=room)
        left, top, _, bottom = plot.layout.getContentsMargins()
        plot.layout.setContentsMargins(left, top, room, bottom)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N803
        whole = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size) if spacing >= 1]
        return whole or [(1.0, 0.0)]


class PlotText:
    """How large plots write: 1 plain, more in presentation mode (see scale_plot_text). Titles, axis
    labels, tick numbers, legends and captions are this many times their plain size."""

    scale = 1.0


def _pt(size: float) -> str:
    return f"{size * PlotText.scale:.3g}pt"


def legend_size() -> str:
    """A legend's text size now (CSS, for pg.LegendItem's labelTextSize)."""
    return _pt(LEGEND_PT)


def _style_text(plot: pg.PlotItem) -> None:
    """A plot's text at PlotText.scale: tick numbers, axis labels and title."""
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        font = QFont()
        font.setPointSizeF(TICK_PT * PlotText.scale)
        axis.setStyle(tickFont=font)
        axis.labelStyle = {**axis.labelStyle, "color": INK, "font-size": _pt(LABEL_PT)}
        axis._updateLabel()
        if isinstance(axis, EpochAxis):
            axis.make_room_at_the_end(plot)
    shown = getattr(plot, "_shown_title", None)
    if shown is not None:
        plot._shown_title = None
        set_title(plot, *shown)
    elif plot.titleLabel.text:
        plot.setTitle(plot.titleLabel.text, color=INK, size=_pt(TITLE_PT))


def scale_plot_text(root: QWidget, factor: float) -> None:
    """Every plot under `root` writes `factor` times its plain size (presentation mode), and plots
    made later do too."""
    PlotText.scale = factor
    for view in root.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.PlotItem):
                _style_text(item)
            elif isinstance(item, pg.LegendItem):
                item.setLabelTextSize(_pt(LEGEND_PT))
                for _, label in item.items:
                    label.setText(label.text)


def styled_plot(plot: pg.PlotItem, title: str = "", x_label: str = "", y_label: str = "") -> pg.PlotItem:
    """Dark text on white, for slides and projectors. Axes show the values themselves: pyqtgraph's
    automatic SI factor turned an accuracy of 0.9 into "900" under "accuracy (x0.001)". An "epoch"
    axis ticks whole epochs. An axis the plot was made with (a log axis that writes factors) is kept."""
    wanted = {"left": ReadableAxis("left"),
              "bottom": EpochAxis("bottom") if x_label == "epoch" else ReadableAxis("bottom")}
    plot.setAxisItems({side: axis for side, axis in wanted.items() if type(plot.getAxis(side)) is pg.AxisItem})
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.enableAutoSIPrefix(False)
        axis.setTextPen(INK)
        axis.setPen(INK)
    plot.setTitle(title, color=INK, size=_pt(TITLE_PT))
    plot.setLabel("bottom", x_label, color=INK)
    plot.setLabel("left", y_label, color=INK)
    _style_text(plot)
    if y_label == "accuracy":  # the whole scale, always: a curve near 0.9 reads as what it is
        plot.setYRange(0.0, 1.0, padding=0.02)
    if not isinstance(plot.titleLabel, WrappingTitle):  # the title's row of the plot's grid: row 0
        old = plot.titleLabel
        plot.layout.removeItem(old)
        old.setParentItem(None)
        if old.scene() is not None:
            old.scene().removeItem(old)
        plot.titleLabel = WrappingTitle(plot, "", size=_pt(TITLE_PT), parent=plot)
        # over the whole plot, axes included (pyqtgraph: over the data area, column 1): wrapped to the data
        # area's width, a title's lines changed the height, so the ticks, the axis's width, the data
        # area's width and so the lines again: a plot that repainted itself on every turn of the event loop
        plot.layout.addItem(plot.titleLabel, 0, 0, 1, 3)
        plot.setTitle(title, color=INK, size=_pt(TITLE_PT))
    return plot


def outside_legend(canvas: pg.GraphicsLayoutWidget, plot: pg.PlotItem, row: int = 1, col: int = 0,
                   columns: int = 3) -> pg.LegendItem:
    """A legend of the plot's named curves in its own cell of the canvas (below the plot by default):
    inside the plot it covered the data, and the newest points first."""
    legend = pg.LegendItem(labelTextColor=INK, colCount=columns, labelTextSize=legend_size())
    canvas.addItem(legend, row=row, col=col)
    for item in plot.listDataItems():
        if item.name():
            legend.addItem(item, item.name())

    def fit_columns() -> None:  # entries side by side as far as the plot's column is wide, the rest below
        if not isValid(legend) or not legend.items:
            return
        widest = max(label.itemRect().width() + sample.boundingRect().width() + 12 for sample, label in legend.items)
        room = canvas.width() / max(1, canvas.ci.layout.columnCount())  # not the plot's: the legend widens it
        count = max(1, min(columns, int(room // max(widest, 1.0))))
        if count != legend.columnCount:
            legend.setColumnCount(count)
            QTimer.singleShot(0, canvas, lambda: fit_canvas(canvas))

    plot.vb.sigResized.connect(fit_columns)
    return legend


class WrappingTitle(pg.LabelItem):
    """A plot title that never widens its plot and is never cut. pyqtgraph makes a label at least as
    wide as its text (on every text change and resize): a long title widened the plot past a narrow
    dock's edge and cut off the right of the picture (reconstructions 9 and 10 of 10, the raw-input
    scatter). This one asks for no minimum width; wider than its column, it wraps onto more lines,
    centred, and the title row grows to hold them."""

    def __init__(self, plot: pg.PlotItem, *args: Any, **kwargs: Any):
        self._option = QTextOption(Qt.AlignmentFlag.AlignHCenter)
        self._option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # a word wider than the room breaks
        self._plot = plot
        super().__init__(*args, **kwargs)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)

    def updateMin(self) -> None:  # noqa: N802 - pyqtgraph's name, called on every text change and resize
        item, plot = self.item, getattr(self, "_plot", None)
        item.document().setDefaultTextOption(self._option)
        item.setTextWidth(-1)
        room = self.rect().width()
        if MIN_TITLE_ROOM <= room < item.boundingRect().width():  # (not while the layout is still settling)
            item.setTextWidth(room)
            item.setPos(self.rect().left() - item.boundingRect().left(), item.pos().y())
        height = self.itemRect().height()
        row = max(TITLE_ROW, height)
        # pyqtgraph fixes the title's row at 30 px: as tall as the lines instead (not while torn down)
        if plot is not None and self.isVisible() and isValid(plot.layout) and plot.layout.rowMinimumHeight(0) != row:
            self.setMaximumHeight(row)
            plot.layout.setRowFixedHeight(0, row)
            for view in plot.scene().views() if plot.scene() is not None else ():
                QTimer.singleShot(0, view, lambda view=view: fit_canvas(view))
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        self._sizeHint = {Qt.SizeHint.MinimumSize: (0, height), Qt.SizeHint.PreferredSize: (0, height),
                          Qt.SizeHint.MaximumSize: (-1, -1), Qt.SizeHint.MinimumDescent: (0, 0)}
        self.updateGeometry()


def fit_canvas(view: Any) -> None:
    """A canvas laid out larger than its view (while a title was many lines, or its plots stood in
    another arrangement) fits it again: pyqtgraph sizes it to the view only when the view resizes."""
    central = getattr(view, "centralWidget", None)
    if isValid(view) and central is not None and getattr(view, "range", None) is not None:
        central.setGeometry(view.range)


def set_title(plot: pg.PlotItem, title: str, size: float = TITLE_PT) -> None:
    """setTitle (`size` in points at plain size), only when the text changes: each call re-lays out
    the whole canvas, which made titles a large part of a live refresh."""
    if getattr(plot, "_shown_title", None) != (title, size):
        text = html.escape(title, quote=False)  # rich text: "a < b" is no tag
        if isinstance(plot.titleLabel, WrappingTitle) and plot.titleLabel.isVisible():
            # not plot.setTitle: it sets the title's row back to one line first, then the wrapped lines
            # set it again, so every new text (a live percentage) laid out the canvas twice and repainted
            plot.titleLabel.setText(text, color=INK, size=_pt(size))
        else:
            plot.setTitle(text, color=INK, size=_pt(size))
        plot.titleLabel.setToolTip(title)
        plot._shown_title = (title, size)


def set_label(plot: pg.PlotItem, side: str, text: str) -> None:
    """setLabel, only when the text changes (a new label makes the axis redo its layout and ticks)."""
    axis = plot.getAxis(side)
    if getattr(axis, "_shown_label", None) != text:
        plot.setLabel(side, text, color=INK, **{"font-size": _pt(LABEL_PT)})
        axis._shown_label = text


def set_spin_range(box: QSpinBox, low: int, high: int) -> None:
    """setRange, only when the range changes: Qt's setRange asks for a new layout every time, and a
    spin box in a dock made the whole main window lay out its docks again at every live refresh."""
    if (box.minimum(), box.maximum()) != (low, high):
        box.setRange(low, high)


def set_captions_text(texts: dict[pg.TextItem, str], colour: str = INK) -> None:
    """Each caption's new text ("" for none): only those whose text changes are touched, as each
    setText re-lays out the item and repaints its plot (blanking every caption and writing them
    again repainted a panel twice a live refresh, even one with nothing to show)."""
    for item, text in texts.items():
        if getattr(item, "_shown", None) != (text, colour):
            item.setText(text)
            item.setColor(colour)
            item._shown = (text, colour)


class ImagePlot:
    """One plot holding ONE ImageItem (a whole mosaic), rows drawn top-down, square pixels.

    Captions over the picture (text items) are given the room they may fill, in image pixels: their
    text is sized to that room as shown on screen, and not shown at all when it would be too small
    to read (the hover line tells the same), so captions never run into each other."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, row: int = 0, col: int = 0):
        self.plot = styled_plot(canvas.addPlot(row=row, col=col))
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.item)
        self._framing: tuple | None = None
        self._captions: list[tuple[pg.TextItem, float, float]] = []
        self.plot.vb.sigResized.connect(self.fit_captions)
        self.plot.vb.sigRangeChanged.connect(self.fit_captions)

    def set_captions(self, rooms: list[tuple[pg.TextItem, float, float]]) -> None:
        """(text item, room width, room height) in image pixels, for the items that have text now."""
        self._captions = rooms
        self.fit_captions()

    def fit_captions(self, *_: Any) -> None:
        unit_w, unit_h = self.plot.vb.viewPixelSize()  # image pixels per screen pixel
        for item, width, height in self._captions:
            text = item.textItem.toPlainText()
            if not text or unit_w <= 0 or unit_h <= 0:
                item.setVisible(False)
                continue
            item.textItem.document().setDocumentMargin(0)  # the room is the text's alone
            font = QFont(item.textItem.font())
            largest = round(CAPTION_PX * PlotText.scale)
            font.setPixelSize(largest)
            metrics = QFontMetricsF(font)
            lines = text.split("\n")
            wide = max(metrics.horizontalAdvance(line) for line in lines) + 2
            tall = metrics.lineSpacing() * len(lines) + 2
            size = min(largest, largest * (width / unit_w) / wide, largest * (height / unit_h) / tall)
            item.setVisible(size >= MIN_CAPTION_PX)
            if size >= MIN_CAPTION_PX and item.textItem.font().pixelSize() != int(size):
                font.setPixelSize(int(size))
                item.setFont(font)

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
        if self.item.image is not None:  # (clearing an empty picture repainted the panel at every live probe)
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


def layer_choice(summary: Summary | None, index: int) -> str:
    """A layer in a chooser after its "Layer" label: '3 · MaxPool 2×2, s2' (short for narrow docks;
    the panel's title gives its output volume)."""
    rows = summary["layers"] if summary is not None else []
    return f"{index} · {rows[index]['label']}" if index < len(rows) else str(index)


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
        self.bar = FlowLayout()  # the controls wrap onto a second line in a narrow dock
        self.export_button = QPushButton("Export PNG…")
        self.export_button.clicked.connect(self._ask_export)
        self.bar.add_trailing(self.export_button)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setBackground(BACKGROUND)
        self.hover = QLabel(" ")
        self.hover.setObjectName("hover")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self.bar)
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
            item = self.bar.itemAt(i)
            if item is not None and item.widget() is not None:
                item.widget().hide()
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
