"""Painting the builder's connections (graph_layout.Route): lines with rounded corners, an
arrowhead where they reach a card, and the "→ #30" tag where one continues in another band."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from workbench.ui.editing.graph_layout import Route

DrawText = Callable[[QPainter, QRectF, int, str], None]  # QPainter.drawText, or a recorder of painted text

INSET = 5.0  # the gap between a card's edge and the line that leaves or reaches it


def route_path(points: list[QPointF], radius: float) -> QPainterPath:
    """The polyline with its corners rounded (a corner never takes more than half a segment)."""
    path = QPainterPath(points[0])
    for i in range(1, len(points) - 1):
        before, corner, after = points[i - 1], points[i], points[i + 1]
        r = min(radius, _length(corner - before) / 2, _length(after - corner) / 2)
        path.lineTo(corner + _unit(before - corner) * r)
        path.quadTo(corner, corner + _unit(after - corner) * r)
    path.lineTo(points[-1])
    return path


def _length(v: QPointF) -> float:
    return (v.x() ** 2 + v.y() ** 2) ** 0.5


def _unit(v: QPointF) -> QPointF:
    n = _length(v)
    return QPointF(v.x() / n, v.y() / n) if n else QPointF(0, 0)


def paint_route(painter: QPainter, route: Route, color: QColor, width: float, radius: float) -> None:
    """One connection, kept INSET clear of the cards it leaves and reaches."""
    points = [QPointF(x, y) for x, y in route.points]
    if route.from_card:
        points[0] += QPointF(INSET, 0)
    if route.arrow:
        points[-1] -= QPointF(INSET, 0)
    painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(route_path(points, radius))
    if route.arrow:
        tip = points[-1]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon([tip, tip + QPointF(-6, -4), tip + QPointF(-6, 4)])


def paint_tag(painter: QPainter, route: Route, font: QFont, color: QColor, background: QColor,
              draw: DrawText = lambda painter, rect, flags, text: painter.drawText(rect, flags, text)) -> None:
    """The cards at the other end of a connection continued in another band, on a pill over its
    run in the channel: at a band's start ("#24 →") from where the run begins; where it leaves its
    card for the next band ("→ #30 #37"), just before the corner it turns up or down at."""
    if not route.label:
        return
    metrics = QFontMetricsF(font)
    w, h = metrics.horizontalAdvance(route.label) + 8, metrics.height() + 2
    if route.from_card:
        (x, _), (_, y) = route.points[1], route.points[-1]
        pill = QRectF(max(2.0, x - 3 - w), y - h / 2, w, h)
    else:
        x, y = route.points[0]
        pill = QRectF(x, y - h / 2, w, h)
    painter.setPen(QPen(color, 1.2))
    painter.setBrush(background)
    painter.drawRoundedRect(pill, h / 2, h / 2)
    painter.setFont(font)
    painter.setPen(color)
    draw(painter, pill, int(Qt.AlignmentFlag.AlignCenter), route.label)
