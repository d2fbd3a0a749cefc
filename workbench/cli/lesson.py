"""`workbench lesson NAME -o FILE.png [--step N]`: render one of the course's worked examples;
`workbench lesson --list`: the lessons, one line each."""
from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from workbench.cli.errors import run_cli

if TYPE_CHECKING:
    from workbench.core.lessons import Lesson


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench lesson", description=__doc__)
    parser.add_argument("name", nargs="?", help="the lesson (see --list)")
    parser.add_argument("-o", "--output", help="the PNG to write")
    parser.add_argument("--list", action="store_true", help="list the lessons")
    parser.add_argument("--step", type=int, help="which step to show, from 1 (default: the last)")
    parser.add_argument("--size", default="1280x760", help="picture size WIDTHxHEIGHT (default 1280x760)")
    parser.add_argument("--scale", type=float, default=1.0, help="text scale, e.g. 1.6 for a projector")
    args = parser.parse_args(argv)

    def body() -> int:
        from workbench.core.lessons import LESSONS, get_lesson

        if args.list:
            width = max(map(len, LESSONS))
            for lesson in LESSONS.values():
                print(f"{lesson.name:<{width}}  {lesson.title}")
            return 0
        if not args.name:
            raise ValueError(f"name a lesson ({', '.join(LESSONS)}) or use --list")
        lesson = get_lesson(args.name)
        if not args.output:
            raise ValueError("give the picture to write with -o FILE.png")
        size = _size(args.size)
        if not 0.5 <= args.scale <= 4:
            raise ValueError(f"--scale {args.scale:g} is out of range (0.5…4)")
        return _render(lesson, args.output, None if args.step is None else args.step - 1, size, args.scale)

    return run_cli("lesson", body)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size {text!r} must look like 1280x760") from None
    if not (320 <= width <= 8000 and 240 <= height <= 8000):
        raise ValueError(f"--size {text} is out of range (320x240 … 8000x8000)")
    return width, height


def _render(lesson: Lesson, output: str, step: int | None, size: tuple[int, int], scale: float) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtWidgets import QApplication

    from workbench.core.project import write_atomic
    from workbench.ui.lessons_panel import lesson_picture

    app = QApplication.instance() or QApplication(["workbench lesson"])  # noqa: F841 (kept alive while painting)
    image = lesson_picture(lesson, step, size, scale)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("could not encode the picture as PNG")
    write_atomic(output, bytes(buffer.data()))
    print(f"{output}: {lesson.title} ({size[0]}×{size[1]})")
    return 0
