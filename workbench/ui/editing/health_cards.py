"""A run's health drawn on a builder card: an amber or red outline with the worst finding in a few
words along the card's foot, the measured time per batch in the card's top corner (amber when the
layer takes far more time than its share of the MACs), and every finding's sentence in its tooltip.

The builder calls `paint_mark` at the end of painting a card and adds `tooltip_lines` to its tooltip;
the marks come from workbench.ui.editing.health_model.HealthModel.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication

from workbench.ui.editing.health_marks import LayerMark
from workbench.ui.shell.style import ERROR, WARNING

LEVEL_COLOURS = {"amber": WARNING, "red": ERROR}
SYMBOLS = {"amber": "⚠", "red": "✖"}


def paint_mark(painter: QPainter, rect: QRectF, area: QRectF, mark: LayerMark, font: QFont, badge: bool,
               narrow: bool) -> None:
    """Draw `mark` on the card at `rect` (`area`: its volume picture's); `badge`: the card already shows
    a shape warning or error at its foot and a dot in its corner (those stay: the health outline and
    time go around them); `narrow`: a narrow card, whose index leaves no room beside it for the time."""
    fm = QFontMetrics(font)
    painter.setFont(font)
    if mark.per_batch:  # top right of the volume area (the index is top left); a narrow card's bottom right
        corner = area.adjusted(4, 2, -(26 if badge and not narrow else 4), -2)
        where = Qt.AlignmentFlag.AlignBottom if narrow else Qt.AlignmentFlag.AlignTop
        painter.setPen(WARNING.darker(115) if mark.slow else QApplication.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(corner, Qt.AlignmentFlag.AlignRight | where, mark.per_batch)
    if mark.level is None:
        return
    colour = LEVEL_COLOURS[mark.level]
    painter.setPen(QPen(colour, 3))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRoundedRect(rect.adjusted(2.5, 2.5, -2.5, -2.5), 6, 6)
    if badge:  # the shape problem keeps the foot: the network as drawn must be fixed first
        return
    strip = QRectF(rect.left() + 5, rect.bottom() - fm.height() - 9, rect.width() - 10, fm.height() + 4)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour.red(), colour.green(), colour.blue(), 48))
    painter.drawRoundedRect(strip, 4, 4)
    painter.setPen(colour.darker(115))
    text = fm.elidedText(f"{SYMBOLS[mark.level]} {mark.headline}", Qt.TextElideMode.ElideRight, int(strip.width() - 8))
    painter.drawText(strip.adjusted(4, 0, -4, 0), Qt.AlignmentFlag.AlignVCenter, text)


def tooltip_lines(mark: LayerMark) -> list[str]:
    """The tooltip's health part (rich text): each finding's sentence, then the measured time."""
    lines = []
    if mark.level is not None:
        colour = LEVEL_COLOURS[mark.level].name()
        lines += [f"<span style='color:{colour}'>{SYMBOLS[mark.level]} <b>{html.escape(mark.headline)}</b></span>"]
        lines += [f"• {html.escape(sentence)}" for sentence in mark.sentences]
    if mark.time:
        lines.append(f"Measured per batch: {html.escape(mark.time)}")
    if mark.slow_sentence:
        lines.append(html.escape(mark.slow_sentence))
    return lines
