"""What the verbs that draw pictures share (`lesson`, `pca`, `plot`): the --size option and running
Qt offscreen when there is no display."""
from __future__ import annotations

import os
import sys


def parse_size(text: str, smallest: tuple[int, int] = (200, 150), option: str = "--size") -> tuple[int, int]:
    """"1280x760" -> (1280, 760); a ValueError names the option and the allowed range."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"{option} {text!r} must look like WIDTHxHEIGHT, e.g. 1280x760") from None
    if not (smallest[0] <= width <= 8000 and smallest[1] <= height <= 8000):
        raise ValueError(f"{option} {text} is out of range ({smallest[0]}x{smallest[1]} … 8000x8000)")
    return width, height


def offscreen_without_display() -> None:
    """Before Qt starts: with no X11 or Wayland display on Linux, draw offscreen (Qt would abort)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
