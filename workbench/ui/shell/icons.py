"""Category icons drawn with QPainter (no image files to ship or lose), one per catalogue category."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from workbench.ui.shell.style import category_color, is_dark

SIZE = 32


def _conv(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.4))
    for i in range(5):  # a 4×4 grid, with the 2×2 window the filter sees
        p.drawLine(QPointF(6 + 5 * i, 6), QPointF(6 + 5 * i, 26))
        p.drawLine(QPointF(6, 6 + 5 * i), QPointF(26, 6 + 5 * i))
    p.fillRect(QRectF(6, 6, 10, 10), c)


def _pool(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.4))
    p.drawRect(QRectF(3, 5, 14, 14))
    p.drawLine(QPointF(10, 5), QPointF(10, 19))
    p.drawLine(QPointF(3, 12), QPointF(17, 12))
    p.fillRect(QRectF(20, 16, 9, 9), c)
    p.drawLine(QPointF(15, 17), QPointF(20, 20))


def _fc(p: QPainter, c: QColor) -> None:
    left = [QPointF(7, 7 + 9 * i) for i in range(3)]
    right = [QPointF(25, 11 + 10 * i) for i in range(2)]
    p.setPen(QPen(c, 1.0))
    for a in left:
        for b in right:
            p.drawLine(a, b)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c)
    for point in left + right:
        p.drawEllipse(point, 3.2, 3.2)


def _activation(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c.lighter(150) if is_dark() else c.darker(120), 1.0, Qt.PenStyle.DotLine))
    p.drawLine(QPointF(4, 20), QPointF(28, 20))
    p.setPen(QPen(c, 3.0))
    path = QPainterPath(QPointF(4, 20))
    path.lineTo(16, 20)
    path.lineTo(28, 6)
    p.drawPath(path)


def _norm(p: QPainter, c: QColor) -> None:
    path = QPainterPath(QPointF(3, 26))
    for i in range(27):
        x = 3 + i
        y = 26 - 18 * 2.718 ** (-((x - 16) / 5.0) ** 2)
        path.lineTo(x, y)
    p.setPen(QPen(c, 2.4))
    p.drawPath(path)


def _reshape(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.4))
    p.setBrush(c)
    p.drawRect(QRectF(4, 6, 9, 20))
    p.setBrush(Qt.BrushStyle.NoBrush)
    for i in range(4):
        p.drawRect(QRectF(20, 4 + 6.5 * i, 7, 4.5))
    p.drawLine(QPointF(14, 16), QPointF(18, 16))


def _merge(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    path = QPainterPath(QPointF(3, 6))  # two branches flow into one
    path.cubicTo(QPointF(10, 6), QPointF(10, 16), QPointF(15, 16))
    path.moveTo(3, 26)
    path.cubicTo(QPointF(10, 26), QPointF(10, 16), QPointF(15, 16))
    path.moveTo(15, 16)
    path.lineTo(29, 16)
    p.drawPath(path)
    p.setBrush(c)
    p.drawEllipse(QPointF(16, 16), 3.2, 3.2)


def _input(p: QPainter, c: QColor) -> None:
    p.setPen(QPen(c, 1.6))
    p.drawRect(QRectF(4, 6, 24, 20))
    p.setBrush(c)
    p.drawPolygon([QPointF(6, 24), QPointF(14, 14), QPointF(19, 20), QPointF(22, 17), QPointF(26, 24)])


_DRAW = {"Convolution": _conv, "Pooling": _pool, "Fully connected": _fc, "Activation": _activation,
         "Normalization & regularization": _norm, "Reshape & autoencoder": _reshape, "Merge": _merge,
         "Input": _input}


@lru_cache(maxsize=32)
def _icon(category: str, dark: bool) -> QIcon:
    pixmap = QPixmap(SIZE * 2, SIZE * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _DRAW.get(category, _input)(painter, category_color(category, dark, "edge"))
    painter.end()
    return QIcon(pixmap)


def category_icon(category: str) -> QIcon:
    return _icon(category, is_dark())
