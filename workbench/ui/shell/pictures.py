"""PNG bytes of what the window draws: panels' Export PNG, `workbench lesson`, `pca` and `plot`."""
from __future__ import annotations

from PySide6.QtCore import QBuffer, QIODevice, QSize
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QWidget


def encode_png(image: QImage | QPixmap) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("could not encode the picture as PNG")
    return bytes(buffer.data().data())


def widget_png(widget: QWidget, size: tuple[int, int] | None = None) -> bytes:
    """The widget as PNG bytes, first resized to `size` when given (offscreen is fine)."""
    if size is not None:
        widget.resize(QSize(*size))
        widget.grab()  # the first grab lays the widget out at its new size
    return encode_png(widget.grab())
