"""Text that a custom view paints itself (cards, the arithmetic canvas, a lesson's table), drawn
through one recorder that remembers each piece and the room it was given.

Standard widgets can be asked whether their text fits (size hints); a painted view cannot. Its
`PaintedTexts` answers instead: `clipped()` lists the pieces of its last paint that needed more
room than they had — what the window's layout tests check at every screen size.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QTransform

SLACK = 0.75  # pixels: rounding of text metrics, not a cut


@dataclass(frozen=True)
class PaintedText:
    text: str
    rect: QRectF  # the room it was given, in the painter's coordinates
    flags: int
    font: QFont
    transform: QTransform  # painter -> widget coordinates

    def room(self) -> QRectF:
        """The room, in widget coordinates."""
        return self.transform.mapRect(self.rect)

    def needed(self) -> QRectF:
        """Where the whole text would go, in widget coordinates."""
        return self.transform.mapRect(QFontMetricsF(self.font).boundingRect(self.rect, self.flags, self.text))

    def fits(self) -> bool:
        room, needed = self.room(), self.needed()
        return (needed.left() >= room.left() - SLACK and needed.right() <= room.right() + SLACK
                and needed.top() >= room.top() - SLACK and needed.bottom() <= room.bottom() + SLACK)


class PaintedTexts:
    """The recorder: `begin()` at the start of a paint, `draw()` instead of QPainter.drawText."""

    def __init__(self) -> None:
        self.items: list[PaintedText] = []

    def begin(self) -> None:
        self.items = []

    def draw(self, painter: QPainter, rect: QRectF, flags: Qt.AlignmentFlag | Qt.TextFlag | int, text: str) -> None:
        flags = int(flags)
        painter.drawText(rect, flags, text)
        if text:
            self.items.append(PaintedText(text, QRectF(rect), flags, QFont(painter.font()), painter.transform()))

    def draw_elided(self, painter: QPainter, rect: QRectF, flags: Qt.AlignmentFlag | int, text: str) -> None:
        """One line, shortened with "…" when it must be (the last resort of a fixed-size card); the
        whole text is recorded, so a shortened one counts as clipped."""
        shown = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, int(rect.width()))
        painter.drawText(rect, int(flags), shown)
        if text:
            self.items.append(PaintedText(text, QRectF(rect), int(flags), QFont(painter.font()), painter.transform()))

    def clipped(self, visible: QRectF | None = None) -> list[PaintedText]:
        """The pieces of the last paint that do not fit their room; with `visible` (widget
        coordinates), only those whose room is at least partly inside it."""
        return [item for item in self.items
                if (visible is None or visible.intersects(item.room())) and not item.fits()]
