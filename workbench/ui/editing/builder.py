"""The network builder: the pipeline as cards from Input to output, each with its volume as a block.

One painted widget (a QAbstractScrollArea whose viewport paints every card), so a 100-layer network
redraws in a few milliseconds. Cards flow left to right and wrap like text. The builder reads the
shared summary and selection; every edit it makes (drop from the palette, reorder) is a command.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QMimeData, QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (QColor, QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent, QFont, QFontMetrics,
                           QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QPixmap)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QToolTip, QWidget

from workbench.core.catalogue import CATALOGUE, fmt_shape
from workbench.core.commands import InsertLayers, MoveLayers
from workbench.ui.editing import volumes
from workbench.ui.shell.icons import category_icon
from workbench.ui.editing.model import INPUT_ID, SelectionModel, SummaryModel
from workbench.ui.editing.palette import MIME_LAYER
from workbench.ui.shell.style import ERROR, WARNING, category_color, is_dark
from workbench.ui.editing.undo import Editor

MIME_CARDS = "application/x-workbench-cards"
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


def count_text(n: int | None, short: bool = False) -> str:
    if n is None:
        return "params ?"
    if n == 0:
        return "no params" if short else "no parameters"
    return f"{n:,} params" if n < 10_000_000 else f"{n / 1e6:.1f} M params"


class Builder(QAbstractScrollArea):
    def __init__(self, editor: Editor, summary: SummaryModel, selection: SelectionModel,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.editor, self.summary, self.selection = editor, summary, selection
        self.cards: list[Card] = []
        self.drop_gap: int | None = None  # where a drop would insert (0…n), drawn as a bar
        self.locked_reason = ""
        self._press: tuple[QPoint, Card] | None = None
        self._anchor: str | None = None
        self.viewport().setAcceptDrops(True)
        self.viewport().setMouseTracking(True)
        self.viewport().setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("")
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
        return QSize(round((100 if narrow else 184) * u), round((volumes.AREA_H + 16) * u + 4.4 * line + 14))

    def is_narrow(self, card_type: str | None) -> bool:
        """Element-wise layers keep the volume they get: a narrow card, so the network fits."""
        return card_type is not None and card_type in NARROW

    def _gap(self) -> int:
        return round(22 * self.unit)

    def _relayout(self) -> None:
        size, gap, margin = self.card_size(), self._gap(), round(14 * self.unit)
        sizes = {False: size, True: self.card_size(narrow=True)}
        width = max(self.viewport().width(), size.width() + 2 * margin)
        ids = [(INPUT_ID, -1, None)] + [(r["id"], r["index"], r["type"]) for r in self.summary.summary["layers"]]
        self.cards, x, y = [], margin, margin + (round(30 * self.unit) if self.locked_reason else 0)
        for card_id, index, card_type in ids:
            this = sizes[self.is_narrow(card_type)]
            if x + this.width() > width - margin and x > margin:
                x, y = margin, y + size.height() + gap
            self.cards.append(Card(card_id, index, QRect(QPoint(x, y), this)))
            x += this.width() + gap
        bottom = (self.cards[-1].rect.bottom() + margin) if self.cards else 0
        self.verticalScrollBar().setRange(0, max(0, bottom - self.viewport().height()))
        self.verticalScrollBar().setPageStep(self.viewport().height())
        self.verticalScrollBar().setSingleStep(max(8, size.height() // 6))
        self.horizontalScrollBar().setRange(0, max(0, width - self.viewport().width()))
        self.viewport().update()

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

    # painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self.viewport())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        painter.fillRect(self.viewport().rect(), pal.color(QPalette.ColorRole.Base).darker(104 if not is_dark(pal) else 90))
        if self.locked_reason:
            self._paint_banner(painter)
        painter.translate(-self._offset())
        selected = set(self.selection.ids)
        # only the cards in the region to repaint: a 1,000-layer network has a screenful on view
        exposed = event.rect().translated(self._offset()).adjusted(-self._gap(), 0, self._gap(), 0)
        for i, card in enumerate(self.cards):
            if not card.rect.intersects(exposed):
                continue
            if i and self.cards[i - 1].rect.top() == card.rect.top():
                self._paint_arrow(painter, self.cards[i - 1].rect, card.rect)
            self._paint_card(painter, card, card.id in selected)
        if self.drop_gap is not None:
            self._paint_drop_bar(painter, self.drop_gap)
        painter.end()

    def _paint_banner(self, painter: QPainter) -> None:
        rect = QRectF(0, 0, self.viewport().width(), 26 * self.unit)
        painter.fillRect(rect, QColor(WARNING.red(), WARNING.green(), WARNING.blue(), 60))
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        painter.drawText(rect.adjusted(10, 0, -10, 0), Qt.AlignmentFlag.AlignVCenter, self.locked_reason)

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
        return CardText(CATALOGUE[row["type"]].category, row["label"], shape, volume if narrow else "→ " + volume,
                        count_text(row["params"], short=narrow), row["status"], row["message"], narrow)

    def _fit(self, font: QFont, text: str, width: float) -> QFont:
        """Shrink a label's font (down to 80 %) before eliding it, so "Conv 96 @ 11×11, s4, p0" fits."""
        fitted = QFont(font)
        for _ in range(4):
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
        painter.drawText(area.adjusted(5, 2, -5, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
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
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")
        text_rect = QRectF(rect.left() + 8, area.bottom() + 4, rect.width() - 16, line)
        bold = QFont(small)
        bold.setPointSizeF(self.font().pointSizeF() * (0.85 if text.narrow else 0.95))
        bold.setBold(True)
        bold = self._fit(bold, text.title, text_rect.width())
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.Text))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetrics(bold).elidedText(text.title, Qt.TextElideMode.ElideRight, int(text_rect.width())))
        big = QFont(self.font())
        big.setBold(True)
        big.setPointSizeF(self.font().pointSizeF() * (0.85 if text.narrow else 1.12))
        big = self._fit(big, text.volume, text_rect.width())
        painter.setFont(big)
        painter.setPen(edge)
        text_rect.translate(0, line + 1)
        text_rect.setHeight(QFontMetrics(big).height())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, text.volume)
        painter.setFont(small if text.narrow else self.font())
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        text_rect.translate(0, text_rect.height())
        text_rect.setHeight(line)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignLeft, text.params)
        if text.status in ("warning", "error"):  # "unknown" cards show their dashed "?" block only
            self._paint_badge(painter, rect, text.status, text.message, small)

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
        text = fm.elidedText(f"{symbol} {message}", Qt.TextElideMode.ElideRight, int(strip.width() - 8))
        painter.drawText(strip.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)
        dot = QRectF(rect.right() - 24, rect.top() + 10, 16, 16)
        painter.setBrush(color)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(dot)
        painter.setPen(QColor("white"))
        painter.drawText(dot, Qt.AlignmentFlag.AlignCenter, "!" if status == "warning" else symbol)

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
            if card is not None:
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
        if row["message"]:
            lines.append(f"<b>{row['status']}</b>: {row['message']}")
        lines.append("Drag to reorder · Delete removes · Ctrl+D duplicates")
        return "<br>".join(lines)

    # selection and dragging cards ----------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        card = self.card_at(event.position().toPoint())
        mods = event.modifiers()
        self._press = None
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
        if self._press is not None and not event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.selection.set([self._press[1].id])  # a plain click on a multi-selection picks one
        self._press = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
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
            self.viewport().update()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not self._accepts(event):
            event.ignore()
            return
        gap = self.gap_at(event.position().toPoint())
        if gap != self.drop_gap:
            self.drop_gap = gap
            self.viewport().update()
        self._autoscroll(event.position().toPoint())
        event.acceptProposedAction()

    def _autoscroll(self, pos: QPoint) -> None:
        bar, edge = self.verticalScrollBar(), round(30 * self.unit)
        if pos.y() < edge:
            bar.setValue(bar.value() - bar.singleStep())
        elif pos.y() > self.viewport().height() - edge:
            bar.setValue(bar.value() + bar.singleStep())

    def dragLeaveEvent(self, event) -> None:  # noqa: ANN001
        self.drop_gap = None
        self.viewport().update()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_gap = None
        self.viewport().update()
        if not self._accepts(event):
            event.ignore()
            return
        gap = self.gap_at(event.position().toPoint())
        mime = event.mimeData()
        if mime.hasFormat(MIME_LAYER):
            kind = bytes(mime.data(MIME_LAYER).data()).decode(errors="replace")
            self.insert_kind(kind, gap)
        else:
            self._move(self._own_cards(mime) or [], gap)
        event.acceptProposedAction()

    def insert_kind(self, kind: str, gap: int) -> None:
        if kind not in CATALOGUE:
            self.editor.refused.emit(f"unknown layer type {kind!r}")
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
