"""The network builder: the pipeline as cards from Input to output, each with its volume as a block.

One painted widget (a QAbstractScrollArea whose viewport paints the cards in view), so a 100-layer
network redraws in a few milliseconds. A chain's cards flow left to right and wrap like text. A
network with branches is drawn as a graph (graph_view: lanes side by side, merge cards, connections
routed around the cards); there a drop lands on a connection, a drag from a card's output port to a
later card connects them, and a bad Add's badge inserts its 1×1 projection in one click. The builder
reads the shared summary and selection; every edit it makes is a command.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (QColor, QContextMenuEvent, QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont,
                           QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPixmap)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QMenu, QToolTip, QWidget

from workbench.core import graph
from workbench.core.catalogue import CATALOGUE, fmt_shape
from workbench.core.commands import Command, InsertLayers, InsertProjection, MoveLayers, projection_fix
from workbench.core.summary import fmt_inputs
from workbench.ui.editing import graph_edits, health_cards, volumes
from workbench.ui.editing.card_menu import card_menu, projection_text
from workbench.ui.editing.graph_edits import Spot
from workbench.ui.editing.graph_layout import Metrics
from workbench.ui.editing.graph_view import GraphView, drawn_as_graph, merge_text
from workbench.ui.editing.health_model import HealthModel
from workbench.ui.editing.route_paint import paint_route, paint_tag
from workbench.ui.shell.icons import category_icon
from workbench.ui.shell.painted_text import PaintedTexts
from workbench.ui.editing.model import INPUT_ID, SelectionModel, SummaryModel
from workbench.ui.editing.palette import MIME_LAYER
from workbench.ui.shell.style import ERROR, WARNING, category_color, is_dark
from workbench.ui.editing.undo import Editor

MIME_CARDS = "application/x-workbench-cards"
NARROW_WIDTH = 116  # a narrow card's width at scale 1: "Noise gaussian 0.3" fits
NARROW = frozenset(name for name, kind in CATALOGUE.items()
                   if kind.category in ("Activation", "Normalization & regularization") or name == "Corruption")


@dataclass
class Card:
    id: str
    index: int  # -1: the Input card
    rect: QRect  # in content coordinates


@dataclass
class CardText:
    category: str
    title: str  # "Conv 96 @ 11×11, s4, p0"
    shape: list[int] | None
    volume: str  # "→ 55×55×96"
    params: str  # "34,944 params"
    status: str  # ok, warning, error, unknown
    message: str
    narrow: bool


def fix_text(layer: dict) -> str:
    """A bad Add's badge: the projection a click inserts ("Click: 1×1 conv 32, s2"), short enough
    for the card (the tooltip and the card menu say it in full)."""
    if layer["type"] != "Conv2d":
        return f"Click: projection to {layer.get('out_features')}"
    stride = layer.get("stride", 1)
    return f"Click: 1×1 conv {layer['out_channels']}" + (f", s{stride}" if stride != 1 else "")


def count_text(n: int | None, short: bool = False) -> str:
    """Every digit, as the inspector and the summary write counts: "37,752,832 params"."""
    if n is None:
        return "params ?"
    if n == 0:
        return "no params" if short else "no parameters"
    return f"{n:,} params"


class Builder(QAbstractScrollArea):
    def __init__(self, editor: Editor, summary: SummaryModel, selection: SelectionModel,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.editor, self.summary, self.selection = editor, summary, selection
        self.cards: list[Card] = []
        self.drop_gap: int | None = None  # where a drop would insert (0…n), drawn as a bar
        self.locked_reason = ""
        self.health: HealthModel | None = None  # a run's health on the cards (set_health)
        self._press: tuple[QPoint, Card] | None = None
        self._anchor: str | None = None
        self.graph: GraphView | None = None  # a network with branches: its geometry (None for a chain)
        self.drop_spot: Spot | None = None  # where a drop would go on a graph, its connection highlighted
        self.fixes: dict[str, str] = {}  # a bad Add's id -> the projection its badge inserts
        self._link: tuple[int, QPoint] | None = None  # a connection being dragged: source layer, pointer
        self._hover_port: int | None = None
        self.viewport().setAcceptDrops(True)
        self.viewport().setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("")
        self.painted = PaintedTexts()  # the text of the last paint and its room (the layout tests check it)
        summary.updated.connect(self._relayout)
        selection.changed.connect(self._on_selection)
        self._relayout()

    # geometry ---------------------------------------------------------------------------------
    @property
    def unit(self) -> float:
        """Everything scales with the font, so presentation mode enlarges the cards too."""
        return QFontMetrics(self.font()).height() / 16.0

    def card_size(self, narrow: bool = False) -> QSize:
        u = self.unit
        line = QFontMetrics(self.font()).height()
        return QSize(round((NARROW_WIDTH if narrow else 184) * u), round((volumes.AREA_H + 16) * u + 4.4 * line + 14))

    def row_width(self, cards: int) -> int:
        """The width the builder needs to show `cards` full-size cards side by side (scroll bar included)."""
        margin = round(14 * self.unit)
        scroll = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        return 2 * margin + cards * self.card_size().width() + (cards - 1) * self._gap() + scroll + 2 * self.frameWidth()

    def is_narrow(self, card_type: str | None) -> bool:
        """Element-wise layers keep the volume they get: a narrow card, so the network fits."""
        return card_type is not None and card_type in NARROW

    def _gap(self) -> int:
        return round(22 * self.unit)

    def port_dy(self) -> int:
        """A card's output (and a chain's arrow) this far below its top: level with its volume."""
        return round((volumes.AREA_H / 2 + 8) * self.unit)

    def _relayout(self) -> None:
        size, gap, margin = self.card_size(), self._gap(), round(14 * self.unit)
        sizes = {False: size, True: self.card_size(narrow=True)}
        width = max(self.viewport().width(), size.width() + 2 * margin)
        ids = [(INPUT_ID, -1, None)] + [(r["id"], r["index"], r["type"]) for r in self.summary.summary["layers"]]
        self.cards, x, y = [], margin, margin + (round(30 * self.unit) if self.locked_reason else 0)
        self._arrange_graph([sizes[self.is_narrow(t)].width() for _, _, t in ids], width, y)
        if self.graph is not None:
            self.cards = [Card(card_id, index, QRect(box.x, box.y, box.w, box.h))
                          for (card_id, index, _), box in zip(ids, self.graph.layout.boxes)]
            width = max(width, self.graph.layout.width)
        else:
            for card_id, index, card_type in ids:
                this = sizes[self.is_narrow(card_type)]
                if x + this.width() > width - margin and x > margin:
                    x, y = margin, y + size.height() + gap
                self.cards.append(Card(card_id, index, QRect(QPoint(x, y), this)))
                x += this.width() + gap
        bottom = (max(c.rect.bottom() for c in self.cards) + margin) if self.cards else 0
        self.verticalScrollBar().setRange(0, max(0, bottom - self.viewport().height()))
        self.verticalScrollBar().setPageStep(self.viewport().height())
        self.verticalScrollBar().setSingleStep(max(8, size.height() // 6))
        self.horizontalScrollBar().setRange(0, max(0, width - self.viewport().width()))
        self.viewport().update()

    def _arrange_graph(self, widths: list[int], avail: int, top: int) -> None:
        """A network with branches as a graph (self.graph; None for a chain), and the fix each bad Add's
        badge offers."""
        summary = self.summary.summary
        self.graph, self.fixes = None, {}
        if not drawn_as_graph(summary["layers"]):
            return
        u, small = self.unit, QFontMetrics(self._small_font())
        metrics = Metrics(card_h=self.card_size().height(), gap=self._gap(), lane_gap=self._gap(),
                          margin=round(14 * u), top=top, track=small.height() + 4, port_dy=self.port_dy(),
                          port_step=round(12 * u), tag_char=small.horizontalAdvance("#00 → ") / 6)
        self.graph = GraphView.arrange(summary, widths, metrics, avail)
        for row in summary["layers"]:
            fix = projection_fix(self.editor.project, row["id"]) if row["type"] == "Add" and row["status"] == "error" \
                else None
            if fix is not None:
                self.fixes[row["id"]] = fix_text(fix[1])

    def _small_font(self) -> QFont:
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, self.font().pointSizeF() * 0.85))
        return small

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - Qt override
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event) -> None:  # noqa: ANN001
        super().changeEvent(event)
        if event.type() in (event.Type.FontChange, event.Type.PaletteChange):
            self._relayout()

    def _offset(self) -> QPoint:
        return QPoint(self.horizontalScrollBar().value(), self.verticalScrollBar().value())

    def card_at(self, pos: QPoint) -> Card | None:
        """The card under a viewport position."""
        point = pos + self._offset()
        return next((card for card in self.cards if card.rect.contains(point)), None)

    def card_rect(self, card_id: str) -> QRect | None:
        """A card's rectangle in viewport coordinates (for tests and scrolling)."""
        card = next((c for c in self.cards if c.id == card_id), None)
        return card.rect.translated(-self._offset()) if card else None

    def gap_at(self, pos: QPoint) -> int:
        """The insertion gap (0…n layers) nearest a viewport position."""
        point = pos + self._offset()
        half = self._gap() // 2
        rows = [c for c in self.cards if c.rect.top() - half <= point.y() <= c.rect.bottom() + half]
        if not rows:
            return 0 if self.cards and point.y() < self.cards[0].rect.top() else len(self.cards) - 1
        after = next((c for c in rows if c.rect.center().x() > point.x()), None)
        if after is None:
            return rows[-1].index + 1
        return max(0, after.index)

    def ensure_visible(self, card_id: str) -> None:
        rect = self.card_rect(card_id)
        if rect is None:
            return
        bar = self.verticalScrollBar()
        if rect.top() < 0:
            bar.setValue(bar.value() + rect.top() - 8)
        elif rect.bottom() > self.viewport().height():
            bar.setValue(bar.value() + rect.bottom() - self.viewport().height() + 8)

    def _on_selection(self) -> None:
        if self.selection.current:
            self.ensure_visible(self.selection.current)
        self.viewport().update()

    def set_locked(self, reason: str) -> None:
        self.locked_reason = reason
        self._relayout()

    def set_health(self, model: HealthModel) -> None:
        self.health = model
        model.changed.connect(self.viewport().update)

    # painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.painted.begin()
        pal = self.palette()
        painter.fillRect(self.viewport().rect(), pal.color(QPalette.ColorRole.Base).darker(104 if not is_dark(pal) else 90))
        if self.locked_reason:
            self._paint_banner(painter)
        painter.translate(-self._offset())
        selected = set(self.selection.ids)
        # only the cards in the region to repaint: a 1,000-layer network has a screenful on view
        exposed = event.rect().translated(self._offset()).adjusted(-self._gap(), 0, self._gap(), 0)
        if self.graph is not None:
            self._paint_routes(painter, exposed, selected)
        for i, card in enumerate(self.cards):
            if not card.rect.intersects(exposed):
                continue
            if self.graph is None and i and self.cards[i - 1].rect.top() == card.rect.top():
                self._paint_arrow(painter, self.cards[i - 1].rect, card.rect)
            self._paint_card(painter, card, card.id in selected)
        self._paint_gestures(painter)
        if self.drop_gap is not None and self.graph is None:
            self._paint_drop_bar(painter, self.drop_gap)
        painter.end()

    def _paint_routes(self, painter: QPainter, exposed: QRect, selected: set[str]) -> None:
        """The graph's connections in view; those of the selected cards in the highlight colour."""
        assert self.graph is not None
        pal = self.palette()
        plain, marked = pal.color(QPalette.ColorRole.PlaceholderText), pal.color(QPalette.ColorRole.Highlight)
        ids = [c.id for c in self.cards]
        small = self._small_font()
        area = QRectF(exposed)
        for route in self.graph.layout.routes:
            x0, y0, x1, y1 = route.bounds()
            if not QRectF(x0 - 40, y0 - 20, x1 - x0 + 80, y1 - y0 + 40).intersects(area):
                continue
            mine = ids[route.source + 1] in selected or ids[route.target + 1] in selected
            color = marked if mine else plain
            paint_route(painter, route, color, (2.2 if mine else 1.6) * max(1.0, self.unit), 8 * self.unit)
            paint_tag(painter, route, small, color, pal.color(QPalette.ColorRole.Base), draw=self.painted.draw)

    def _paint_gestures(self, painter: QPainter) -> None:
        """A graph drop's connection, the port under the pointer, a connection being dragged."""
        color = self.palette().color(QPalette.ColorRole.Highlight)
        if self.graph is not None and self.drop_spot is not None:
            routes = self.graph.routes_of(self.drop_spot)
            for route in routes:
                paint_route(painter, route, color, 4, 8 * self.unit)
            if not routes:  # after the last layer, or a lane that reads on in the next band
                box = self.graph.end_box(self.drop_spot)
                x = box.right + self._gap() / 2
                painter.setPen(QPen(color, 4))
                painter.drawLine(QPointF(x, box.y + 4), QPointF(x, box.bottom - 4))
        source = self._link[0] if self._link is not None else self._hover_port
        if source is not None:
            start = self._port_point(source)
            painter.setPen(QPen(color, 2))
            painter.setBrush(self.palette().color(QPalette.ColorRole.Base))
            painter.drawEllipse(start, 5 * self.unit, 5 * self.unit)
            if self._link is not None:
                painter.setPen(QPen(color, 2.5, Qt.PenStyle.DashLine))
                painter.drawLine(start, QPointF(self._link[1]))

    def _paint_banner(self, painter: QPainter) -> None:
        rect = QRectF(0, 0, self.viewport().width(), 26 * self.unit)
        painter.fillRect(rect, QColor(WARNING.red(), WARNING.green(), WARNING.blue(), 60))
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        self.painted.draw_elided(painter, rect.adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter, self.locked_reason)

    def _paint_arrow(self, painter: QPainter, left: QRect, right: QRect) -> None:
        y = left.top() + (volumes.AREA_H / 2 + 8) * self.unit
        x0, x1 = left.right() + 5, right.left() - 5
        color = self.palette().color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(QPen(color, 1.6))
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.setBrush(color)
        painter.drawPolygon([QPointF(x1, y), QPointF(x1 - 6, y - 4), QPointF(x1 - 6, y + 4)])

    def card_text(self, card: Card) -> CardText:
        """What a card says (its painting draws exactly this)."""
        if card.index < 0:
            given = self.summary.summary["input"]
            return CardText("Input", "Input", given, fmt_shape(tuple(given)), "C×H×W " + "×".join(map(str, given)),
                            "ok", "", False)
        row = self.summary.summary["layers"][card.index]
        narrow = self.is_narrow(row["type"])
        shape = row["output"]
        volume = fmt_shape(tuple(shape)) if shape is not None else "?"
        merge = row["type"] in graph.MERGES  # says what it takes, and a bad Add's badge offers the fix
        return CardText(CATALOGUE[row["type"]].category, row["label"], shape, volume if narrow else "→ " + volume,
                        merge_text(row, self.summary.summary) if merge else count_text(row["params"], short=narrow),
                        row["status"], self.fixes.get(row["id"], row["message"]), narrow)

    def _fit(self, font: QFont, text: str, width: float) -> QFont:
        """Shrink a label's font (down to 70 %) before eliding it, so "Conv 96 @ 11×11, s4, p0" fits."""
        fitted = QFont(font)
        for _ in range(6):
            if QFontMetrics(fitted).horizontalAdvance(text) <= width:
                break
            fitted.setPointSizeF(fitted.pointSizeF() * 0.94)
        return fitted

    def _paint_card(self, painter: QPainter, card: Card, selected: bool) -> None:
        pal, dark, u = self.palette(), is_dark(self.palette()), self.unit
        text = self.card_text(card)
        line = QFontMetrics(self.font()).height()
        rect = QRectF(card.rect)
        edge = category_color(text.category, dark, "edge")
        painter.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 3) if selected
                       else QPen(edge if dark else edge.lighter(130), 1.2))
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 7, 7)
        area = QRectF(rect.left() + 6, rect.top() + 6, rect.width() - 12, (volumes.AREA_H + 4) * u)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(category_color(text.category, dark, "light"))
        painter.drawRoundedRect(area, 5, 5)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, self.font().pointSizeF() * 0.85))
        painter.setFont(small)
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        self.painted.draw(painter, area.adjusted(5, 2, -5, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                          "input" if card.index < 0 else f"#{card.index}")
        if text.narrow:  # the volume is the one before: show what the layer does instead
            icon = QRectF(0, 0, 30 * u, 30 * u)
            icon.moveCenter(area.center())
            category_icon(text.category).paint(painter, icon.toRect())
        elif text.shape is not None:
            volumes.paint_block(painter, area.adjusted(0, 4 * u, 0, 0), text.shape,
                                category_color(text.category, dark), edge.darker(130) if not dark else edge.lighter(120), u)
        else:
            painter.setPen(QPen(pal.color(QPalette.ColorRole.PlaceholderText), 1.2, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            box = QRectF(0, 0, 34 * u, 34 * u)
            box.moveCenter(area.center())
            painter.drawRect(box)
            self.painted.draw(painter, box, Qt.AlignmentFlag.AlignCenter, "?")
        text_rect = QRectF(rect.left() + 8, area.bottom() + 4, rect.width() - 16, line)
        bold = QFont(small)
        bold.setPointSizeF(self.font().pointSizeF() * (0.85 if text.narrow else 0.95))
        bold.setBold(True)
        bold = self._fit(bold, text.title, text_rect.width())
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        self.painted.draw_elided(painter, text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text.title)
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(self.font().pointSizeF() * (0.85 if text.narrow else 1.12))
        big = self._fit(big, text.volume, text_rect.width())
        painter.setFont(big)
        painter.setPen(edge)
        text_rect.translate(0, line + 1)
        text_rect.setHeight(QFontMetrics(big).height())
        self.painted.draw(painter, text_rect, Qt.AlignmentFlag.AlignLeft, text.volume)
        painter.setFont(self._fit(small if text.narrow else self.font(), text.params, text_rect.width()))
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        text_rect.translate(0, text_rect.height())
        text_rect.setHeight(line)
        self.painted.draw(painter, text_rect, Qt.AlignmentFlag.AlignLeft, text.params)
        if text.status in ("warning", "error"):  # "unknown" cards show their dashed "?" block only
            self._paint_badge(painter, rect, text.status, text.message, small)
        if self.health is not None and (mark := self.health.marks().get(card.id)) is not None:
            health_cards.paint_mark(painter, rect, area, mark, small, text.status in ("warning", "error"), text.narrow)

    def _paint_badge(self, painter: QPainter, rect: QRectF, status: str, message: str, font: QFont) -> None:
        color = {"warning": WARNING, "error": ERROR}.get(status, self.palette().color(QPalette.ColorRole.PlaceholderText))
        fm = QFontMetrics(font)
        strip = QRectF(rect.left() + 4, rect.bottom() - fm.height() - 8, rect.width() - 8, fm.height() + 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(color.red(), color.green(), color.blue(), 48))
        painter.drawRoundedRect(strip, 4, 4)
        painter.setFont(font)
        painter.setPen(color if status != "unknown" else self.palette().color(QPalette.ColorRole.Text))
        symbol = {"warning": "⚠", "error": "✖"}.get(status, "?")
        # a summary of the message (all of it in the card's tooltip, the inspector and the summary's notes)
        text = fm.elidedText(f"{symbol} {message}", Qt.TextElideMode.ElideRight, int(strip.width() - 8))
        self.painted.draw(painter, strip.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)
        side = max(16.0, fm.height())  # the mark fits its dot in presentation mode too
        dot = QRectF(rect.right() - 8 - side, rect.top() + 10, side, side)
        painter.setBrush(color)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(dot)
        painter.setPen(QColor("white"))
        self.painted.draw(painter, dot, Qt.AlignmentFlag.AlignCenter, "!" if status == "warning" else symbol)

    def _paint_drop_bar(self, painter: QPainter, gap: int) -> None:
        before = self.cards[min(gap, len(self.cards) - 1)].rect  # the Input card is cards[0]
        x = before.right() + self._gap() / 2
        color = self.palette().color(QPalette.ColorRole.Highlight)
        painter.setPen(QPen(color, 4))
        painter.drawLine(QPointF(x, before.top() + 4), QPointF(x, before.bottom() - 4))
        painter.setBrush(color)
        painter.drawEllipse(QPointF(x, before.top() + 4), 5, 5)
        painter.drawEllipse(QPointF(x, before.bottom() - 4), 5, 5)

    # tooltips ---------------------------------------------------------------------------------
    def viewportEvent(self, event) -> bool:  # noqa: ANN001
        if event.type() == event.Type.ToolTip:
            card = self.card_at(event.pos())
            if self._port_at(event.pos()) is not None:
                QToolTip.showText(event.globalPos(), "Drag from this output to a later card: onto an Add or Concat "
                                  "it is one more input, onto any other card a new merge after it", self.viewport())
            elif card is not None:
                QToolTip.showText(event.globalPos(), self.tooltip_for(card), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def tooltip_for(self, card: Card) -> str:
        if card.index < 0:
            c_h_w = self.summary.summary["input"]
            return (f"<b>Input</b> {fmt_shape(tuple(c_h_w))}<br>Select it to edit C×H×W in the inspector")
        row = self.summary.summary["layers"][card.index]
        kind = CATALOGUE[row["type"]]
        lines = [f"<b>{row['label']}</b> ({kind.name})", kind.description]
        if row["output"] is not None:
            lines.append(f"Output <b>{fmt_shape(tuple(row['output']))}</b>, {count_text(row['params'])}")
        if row["formula"]:
            lines.append(f"<i>{row['formula']}</i>")
        if self.graph is not None:
            lines.append(f"Inputs: {fmt_inputs(self.summary.summary, row)}")
        if row["message"]:
            lines.append(f"<b>{row['status']}</b>: {row['message']}")
        if row["id"] in self.fixes:
            fix = projection_fix(self.editor.project, row["id"])
            if fix is not None:
                lines.append(f"Click the badge: {projection_text(fix[1]).lower()}")
        if self.health is not None and (mark := self.health.marks().get(card.id)) is not None:
            lines += health_cards.tooltip_lines(mark)
        lines.append("Drag to move · from its right edge to a later card: connect · right-click: skip connections"
                     " · Delete removes · Ctrl+D duplicates")
        return "<br>".join(lines)

    # selection and dragging cards ----------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        card = self.card_at(event.position().toPoint())
        mods = event.modifiers()
        self._press = None
        port = self._port_at(event.position().toPoint())
        if port is not None and event.button() == Qt.MouseButton.LeftButton:
            self._link = (port, event.position().toPoint() + self._offset())
            return
        if card is not None and event.button() == Qt.MouseButton.LeftButton and self._on_fix(card, event):
            return
        if card is None:
            if not mods & Qt.KeyboardModifier.ControlModifier:
                self.selection.set([])
            return
        if event.button() == Qt.MouseButton.RightButton:
            if card.id not in self.selection.ids:
                self.selection.set([card.id])
            return
        if mods & Qt.KeyboardModifier.ControlModifier:
            self.selection.toggle(card.id)
        elif mods & Qt.KeyboardModifier.ShiftModifier and self._anchor:
            order = [c.id for c in self.cards]
            a, b = sorted((order.index(self._anchor) if self._anchor in order else 0, order.index(card.id)))
            self.selection.set(order[a:b + 1])
        elif card.id not in self.selection.ids:
            self.selection.set([card.id])
        if not mods & Qt.KeyboardModifier.ShiftModifier:
            self._anchor = card.id
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = (event.position().toPoint(), card)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._link is not None:
            self._connect_to(self.card_at(event.position().toPoint()))
            return
        if self._press is not None and not event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.selection.set([self._press[1].id])  # a plain click on a multi-selection picks one
        self._press = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._link is not None:
            self._link = None  # the connection being dragged is let go: the release connects nothing
            self.viewport().update()
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._track_link(event.position().toPoint()):
            return
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, card = self._press
        if (event.position().toPoint() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        if card.index < 0:
            return  # the Input card stays first
        indices = self.selection.indices() if card.id in self.selection.ids else [card.index]
        self.start_card_drag(indices or [card.index])

    def cards_mime(self, indices: list[int]) -> QMimeData:
        data = QMimeData()
        data.setData(MIME_CARDS, QByteArray(json.dumps({"builder": id(self), "indices": indices}).encode()))
        return data

    def start_card_drag(self, indices: list[int]) -> None:
        drag = QDrag(self.viewport())
        drag.setMimeData(self.cards_mime(indices))
        first = self.card_rect(self.summary.summary["layers"][indices[0]]["id"])
        if first is not None:
            pixmap: QPixmap = self.viewport().grab(first)
            drag.setPixmap(pixmap.scaledToWidth(max(1, pixmap.width() * 2 // 3),
                                                Qt.TransformationMode.SmoothTransformation))
        drag.exec(Qt.DropAction.MoveAction)

    # connections on a graph: the output port, a connection dragged from it, the fix on a badge ---------
    def _port_point(self, index: int) -> QPointF:
        rect = self.cards[index + 1].rect
        return QPointF(rect.right() + 1, rect.top() + self.port_dy())

    def _port_at(self, pos: QPoint) -> int | None:
        """The card (layer index, -1: Input) whose output port is under a viewport position; a
        network's last layer has none (nothing after it to connect to)."""
        point, reach = QPointF(pos + self._offset()), 8 * self.unit
        for card in self.cards[:-1]:
            port = self._port_point(card.index)
            if abs(point.x() - port.x()) <= reach and abs(point.y() - port.y()) <= reach:
                return card.index
        return None

    def _track_link(self, pos: QPoint) -> bool:
        """Follow the pointer: a connection being dragged, or the port it hovers. True while dragging."""
        if self._link is not None:
            self._link = (self._link[0], pos + self._offset())
            self._autoscroll(pos)
            self.viewport().update()
            return True
        port = self._port_at(pos)
        if port != self._hover_port:
            self._hover_port = port
            self.viewport().setCursor(Qt.CursorShape.CrossCursor if port is not None else Qt.CursorShape.ArrowCursor)
            self.viewport().update()
        return False

    def _connect_to(self, card: Card | None) -> None:
        """The end of a connection drag: onto a later card, a merge takes it or a new merge after the card."""
        assert self._link is not None
        source = self._link[0]
        self._link = None
        self.viewport().update()
        if card is None or card.index <= source:
            if card is not None and card.index >= 0:
                self.editor.refused.emit("a connection runs forward: drop it on a card after the one it leaves")
            return
        self._push(graph_edits.connect(self.summary.summary, source, card.index))

    def _on_fix(self, card: Card, event: QMouseEvent) -> bool:
        """A click on a bad Add's badge inserts the projection it offers."""
        if card.id not in self.fixes:
            return False
        badge_top = card.rect.bottom() - QFontMetrics(self._small_font()).height() - 8
        if event.position().toPoint().y() + self._offset().y() < badge_top:
            return False
        self._push(lambda p: InsertProjection(p, card.id))
        return True

    def _push(self, build: graph_edits.Build) -> Command | None:
        """Apply an edit, and select what it made (a new merge, inserted layers)."""
        command = self.editor.push(build)
        if command is not None and graph_edits.made(command):
            self.selection.set(graph_edits.made(command))
        return command

    def menu_for(self, card: Card | None) -> QMenu:
        """A card's context menu (card_menu): skip connections, a merge's inputs, the fix; then the
        window's card actions (Delete, Duplicate)."""
        return card_menu(self.editor, self.summary.summary, card.index if card is not None else -1,
                         self.viewport().actions(), self, lambda command: self.selection.set(graph_edits.made(command))
                         if graph_edits.made(command) else None)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        self.menu_for(self.card_at(event.pos())).exec(event.globalPos())

    # drops ------------------------------------------------------------------------------------
    def _accepts(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        mime = event.mimeData()
        return mime.hasFormat(MIME_LAYER) or self._own_cards(mime) is not None

    def _own_cards(self, mime: QMimeData) -> list[int] | None:
        """The layer indices a card drag from this builder carries (None for anything else)."""
        if not mime.hasFormat(MIME_CARDS):
            return None
        try:
            payload = json.loads(bytes(mime.data(MIME_CARDS).data()))
            if payload["builder"] != id(self):
                return None
            return [int(i) for i in payload["indices"]]
        except (ValueError, TypeError, KeyError):
            return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()
            self.drop_gap = self.gap_at(event.position().toPoint())
            self._aim(event.position().toPoint())
            self.viewport().update()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not self._accepts(event):
            event.ignore()
            return
        gap = self.gap_at(event.position().toPoint())
        if gap != self.drop_gap or self._aim(event.position().toPoint()):
            self.drop_gap = gap
            self.viewport().update()
        self._autoscroll(event.position().toPoint())
        if self.graph is not None and self.drop_spot is None:
            event.ignore()  # between two lanes: the pointer says a drop here would do nothing
        else:
            event.acceptProposedAction()

    def _autoscroll(self, pos: QPoint) -> None:
        bar, edge = self.verticalScrollBar(), round(30 * self.unit)
        if pos.y() < edge:
            bar.setValue(bar.value() - bar.singleStep())
        elif pos.y() > self.viewport().height() - edge:
            bar.setValue(bar.value() + bar.singleStep())

    def _aim(self, pos: QPoint) -> bool:
        """On a graph, the connection a drop at `pos` lands on (drop_spot); True when it changed."""
        point = pos + self._offset()
        spot = self.graph.spot_at(point.x(), point.y()) if self.graph is not None else None
        changed, self.drop_spot = spot != self.drop_spot, spot
        return changed

    def dragLeaveEvent(self, event) -> None:  # noqa: ANN001
        self.drop_gap = self.drop_spot = None
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_gap = self.drop_spot = None
        self.viewport().update()
        if not self._accepts(event):
            event.ignore()
            return
        if self.graph is not None:
            self._drop_on_graph(event)
            return
        gap = self.gap_at(event.position().toPoint())
        mime = event.mimeData()
        if mime.hasFormat(MIME_LAYER):
            kind = bytes(mime.data(MIME_LAYER).data()).decode(errors="replace")
            self.insert_kind(kind, gap)
        else:
            self._move(self._own_cards(mime) or [], gap)
        event.acceptProposedAction()

    def _drop_on_graph(self, event: QDropEvent) -> None:
        """A drop on a connection of a graph (nothing between two lanes, where it would be a guess)."""
        assert self.graph is not None
        point = event.position().toPoint() + self._offset()
        spot = self.graph.spot_at(point.x(), point.y())
        if spot is None:
            event.ignore()
            return
        mime = event.mimeData()
        if mime.hasFormat(MIME_LAYER):
            kind = bytes(mime.data(MIME_LAYER).data()).decode(errors="replace")
            if kind not in CATALOGUE:
                self.editor.refused.emit(f"unknown layer type {kind!r}")
            else:
                self._push(graph_edits.insert(spot, CATALOGUE[kind].new_layer()))
        else:
            rows = self.summary.summary["layers"]
            build = graph_edits.move([rows[i]["id"] for i in self._own_cards(mime) or []], spot)
            if build is not None:  # dropping cards next to themselves makes no undo step
                self.editor.push(build)
        event.acceptProposedAction()

    def insert_kind(self, kind: str, gap: int) -> None:
        if kind not in CATALOGUE:
            self.editor.refused.emit(f"unknown layer type {kind!r}")
            return
        if self.graph is not None:  # on the connection that continues the lane of the layer before the gap
            self._push(graph_edits.insert(self.graph.spot_after(gap - 1), CATALOGUE[kind].new_layer()))
            return
        command = self.editor.push(lambda p: InsertLayers(p, gap, [CATALOGUE[kind].new_layer()]))
        if command is not None:
            self.selection.set(command.ids)  # type: ignore[attr-defined]

    def _move(self, indices: list[int], gap: int) -> None:
        try:
            command = MoveLayers(self.editor.project, indices, gap)
        except ValueError as exc:
            self.editor.refused.emit(str(exc))
            return
        if command.changes_anything:  # dropping a card where it already is makes no undo step
            self.editor.push(lambda project: command)
