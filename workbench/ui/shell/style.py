"""Colours and fonts: category colours that work on light and dark palettes, presentation mode.

The window never sets its own palette: it follows the system's light/dark scheme and reads the
palette when painting, so custom drawings (cards, blocks, icons) match it.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

PRESENTATION_SCALE = 1.6

# Category -> hue (degrees): one colour family per kind of layer, used by icons, cards and blocks.
_HUES = {
    "Input": 210,
    "Convolution": 212,
    "Pooling": 25,
    "Fully connected": 275,
    "Activation": 140,
    "Normalization & regularization": 185,
    "Reshape & autoencoder": 45,
    "Merge": 330,
    "Imported": 0,  # opaque imported parts: grey
}
_SATURATION = {"Input": 20, "Imported": 0}


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def category_color(category: str, dark: bool | None = None, tone: str = "fill") -> QColor:
    """tone: "fill" (block faces, icons), "light" (card background tint), "edge" (outlines, text)."""
    dark = is_dark() if dark is None else dark
    hue = _HUES.get(category, 0)
    sat = _SATURATION.get(category, 150)
    if tone == "light":
        return QColor.fromHsl(hue, sat // 2, 60 if dark else 238)
    if tone == "edge":
        return QColor.fromHsl(hue, sat, 175 if dark else 75)
    return QColor.fromHsl(hue, sat, 120 if dark else 150)


WARNING = QColor(214, 138, 0)
ERROR = QColor(205, 45, 45)


def colour_text(widget: QWidget, colour: QColor, background: QColor | None = None) -> None:
    """A widget's text (and background) colour through its palette, not a style sheet: a widget with
    a style sheet keeps the font it had when presentation mode enlarges the application's."""
    palette = widget.palette()
    palette.setColor(QPalette.ColorRole.WindowText, colour)
    palette.setColor(QPalette.ColorRole.Text, colour)
    if background is not None:
        palette.setColor(QPalette.ColorRole.Window, background)
        widget.setAutoFillBackground(True)
    widget.setPalette(palette)


def set_presentation_mode(enabled: bool, base: QFont) -> None:
    """Scale the application font (every widget and card follows) for a classroom projector."""
    font = QFont(base)
    size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
    font.setPointSizeF(size * (PRESENTATION_SCALE if enabled else 1.0))
    QApplication.setFont(font)  # propagates to every widget that did not set its own font
