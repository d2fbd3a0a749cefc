"""`workbench lesson NAME -o FILE.png [--step N]`: render one of the course's worked examples;
`workbench lesson --list`: the lessons, one line each."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workbench.cli.errors import run_cli
from workbench.cli.pictures import offscreen_without_display, parse_size

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
        size = parse_size(args.size, (320, 240))
        if not 0.5 <= args.scale <= 4:
            raise ValueError(f"--scale {args.scale:g} is out of range (0.5…4)")
        return _render(lesson, args.output, None if args.step is None else args.step - 1, size, args.scale)

    return run_cli("lesson", body)


def _render(lesson: Lesson, output: str, step: int | None, size: tuple[int, int], scale: float) -> int:
    offscreen_without_display()
    from PySide6.QtWidgets import QApplication

    from workbench.core.project import write_atomic
    from workbench.ui.lessons.picture import lesson_picture
    from workbench.ui.shell.pictures import encode_png

    app = QApplication.instance() or QApplication(["workbench lesson"])  # noqa: F841 (kept alive while painting)
    write_atomic(output, encode_png(lesson_picture(lesson, step, size, scale)))
    print(f"{output}: {lesson.title} ({size[0]}×{size[1]})")
    return 0
