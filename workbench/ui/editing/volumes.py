"""Volumes drawn as 3-D blocks, as in the lecture's AlexNet figure.

The front face is depth (channels) wide and height tall; the width recedes at an angle. Spatial
sizes use a square-root scale and depths a log scale, so 227 and 6, or 3 and 4096 channels, are
all visible on one card yet keep their order. Vectors are thin bars whose height grows with N.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

# At scale 1 a block fits in AREA_W × AREA_H pixels (the card scales these with its font).
AREA_W, AREA_H = 118.0, 96.0
_SPATIAL, _SPATIAL_MAX = 5.4, 76.0
_RECEDE = 0.45  # depth of the receding side relative to the front height, per unit of width
_ANGLE = math.radians(35)


def spatial(size: int) -> float:
    return min(_SPATIAL_MAX, max(3.0, _SPATIAL * math.sqrt(size)))


def depth(channels: int) -> float:
    return min(96.0, 4.0 + 7.0 * math.log2(max(1, channels)))


def geometry(shape: list[int] | tuple[int, ...], scale: float = 1.0) -> tuple[float, float, float, float]:
    """(front width, front height, dx, dy) of the block for a C×H×W volume or an N vector."""
    if len(shape) == 3:
        c, h, w = shape
        front_w, front_h, recede = depth(c), spatial(h), _RECEDE * spatial(w)
    else:
        n = shape[0]
        front_w, front_h, recede = 8.0, min(AREA_H - 10, 6.0 + 7.0 * math.log2(max(1, n))), 8.0
    return (front_w * scale, front_h * scale, recede * math.cos(_ANGLE) * scale, recede * math.sin(_ANGLE) * scale)


def paint_block(painter: QPainter, area: QRectF, shape: list[int] | tuple[int, ...], color: QColor,
                edge: QColor, scale: float = 1.0) -> QRectF:
    """Draw the block centred in `area`; returns the block's bounding box."""
    fw, fh, dx, dy = geometry(shape, scale)
    x = area.center().x() - (fw + dx) / 2
    y = area.center().y() - (fh - dy) / 2  # top of the front face
    front = QRectF(x, y, fw, fh)
    top = QPolygonF([QPointF(x, y), QPointF(x + dx, y - dy), QPointF(x + fw + dx, y - dy), QPointF(x + fw, y)])
    side = QPolygonF([QPointF(x + fw, y), QPointF(x + fw + dx, y - dy), QPointF(x + fw + dx, y + fh - dy),
                      QPointF(x + fw, y + fh)])
    painter.save()
    painter.setPen(QPen(edge, 1.0))
    painter.setBrush(color.lighter(125))
    painter.drawPolygon(top)
    painter.setBrush(color.darker(118))
    painter.drawPolygon(side)
    painter.setBrush(color)
    painter.drawRect(front)
    painter.restore()
    return QRectF(x, y - dy, fw + dx, fh + dy)
