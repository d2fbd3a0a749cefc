"""Lessons in the window: the Lessons menu, a LessonPlayer for presentation mode, and lesson pictures.

`build_lessons_menu(menu, on_load)` fills a QMenu with one action per lesson (grouped as in the course);
the window's `on_load(lesson)` loads `lesson.project`, selects `lesson.layer` and opens `lesson.view`.
`LessonPlayer` shows the lesson's steps (caption, Back / Next) over its picture: the arithmetic view for
the convolution lessons, the network's volumes and parameter counts for the others. `lesson_picture`
renders the same picture to a QImage (the `workbench lesson` verb).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QFontMetricsF, QImage, QPainter, QPalette
from PySide6.QtWidgets import (QApplication, QHBoxLayout, QLabel, QMenu, QPushButton, QStackedWidget, QVBoxLayout,
                               QWidget)

from workbench.core.arithmetic import conv_parameters
from workbench.core.catalogue import CATALOGUE, fmt_shape, pair
from workbench.core.inference import summarize
from workbench.core.lessons import GROUPS, LESSONS, Lesson, LessonStep
from workbench.ui.lessons.arithmetic_view import WINDOW, ArithmeticCanvas, ArithmeticView
from workbench.core.summary import Summary

PICTURE_SIZE = (1280, 760)


def build_lessons_menu(menu: QMenu, on_load: Callable[[Lesson], None]) -> list[QAction]:
    """One action per lesson, in the course's groups; triggering one calls on_load(lesson)."""
    actions = []
    for group in GROUPS:
        menu.addSection(group)
        for lesson in (lesson for lesson in LESSONS.values() if lesson.group == group):
            action = menu.addAction(lesson.title)
            action.setToolTip(lesson.caption)
            action.setStatusTip(lesson.caption)
            action.setData(lesson.name)
            action.triggered.connect(lambda _=False, chosen=lesson: on_load(chosen))
            actions.append(action)
    menu.setToolTipsVisible(True)
    return actions


def _step_layer(lesson: Lesson, step: LessonStep) -> int | None:
    return step.layer if step.layer is not None else lesson.layer


# ---------------------------------------------------------------------------------------------
# The network picture: every layer's output volume and parameters, the selected one highlighted


def paint_network(painter: QPainter, rect: QRectF, lesson: Lesson, selected: int | None, palette: QPalette,
                  scale: float = 1.0) -> None:
    """A readable table of the lesson's network, with the selected layer's formula and parameter counts."""
    doc = lesson.project
    summary = summarize(doc)
    fg, dim = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.PlaceholderText)
    rows = [("", "Input", fmt_shape(tuple(doc["input"])), "", "")]
    for r in summary["layers"]:
        rows.append((str(r["index"]), r["label"], fmt_shape(tuple(r["output"])) if r["output"] else "?",
                     f"{r['params']:,}" if r["params"] else "—",
                     f"{r['params_unshared']:,}" if r["params_unshared"] and r["params_unshared"] != r["params"] else ""))
    notes = _layer_notes(doc, summary, selected)
    lines = len(rows) + 1 + len(notes) + 1.5
    row_h = min(34 * scale, rect.height() / lines)
    font = QFont(painter.font())
    font.setPixelSize(max(8, round(row_h * 0.62)))
    bold = QFont(font)
    bold.setBold(True)
    metrics = QFontMetricsF(font)
    header = ("#", "layer", "output volume", "parameters", "without sharing")
    widths = [max(metrics.horizontalAdvance(row[i]) for row in [header, *rows]) + row_h for i in range(5)]
    stretch = min(1.6, rect.width() / max(1.0, sum(widths)))
    widths = [w * stretch for w in widths]
    right = (False, False, False, True, True)

    def draw_row(y: float, cells: tuple[str, ...], row_font: QFont, color: QColor) -> None:
        painter.setFont(row_font)
        painter.setPen(color)
        x = rect.x()
        for text, w, align_right in zip(cells, widths, right):
            flags = (Qt.AlignmentFlag.AlignRight if align_right else Qt.AlignmentFlag.AlignLeft)
            painter.drawText(QRectF(x + row_h * 0.3, y, w - row_h * 0.6, row_h), flags | Qt.AlignmentFlag.AlignVCenter,
                             text)
            x += w

    y = rect.y()
    draw_row(y, header, bold, dim)
    y += row_h
    for i, cells in enumerate(rows):
        if i - 1 == selected:
            painter.fillRect(QRectF(rect.x(), y, sum(widths), row_h), QColor(WINDOW.red(), WINDOW.green(), WINDOW.blue(), 45))
        elif i % 2 == 0:
            painter.fillRect(QRectF(rect.x(), y, sum(widths), row_h), palette.color(QPalette.ColorRole.AlternateBase))
        draw_row(y, cells, bold if i - 1 == selected else font, fg)
        y += row_h
    y += row_h * 0.5
    for i, note in enumerate(notes):
        painter.setFont(bold if i == len(notes) - 1 else font)
        painter.setPen(WINDOW if i < len(notes) - 1 else fg)
        painter.drawText(QRectF(rect.x(), y, rect.width(), row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         note)
        y += row_h


def _layer_notes(doc: dict, summary: Summary, selected: int | None) -> list[str]:
    """The selected layer's size formula and parameter counts, then the network's total."""
    notes = []
    if selected is not None and 0 <= selected < len(summary["layers"]):
        row, layer = summary["layers"][selected], doc["layers"][selected]
        if row["formula"]:
            notes.append(f"{row['label']}: {row['formula']}")
        shape = [doc["input"], *[r["output"] for r in summary["layers"]]][selected]
        if layer["type"] == "Conv2d" and shape and len(shape) == 3:
            p = CATALOGUE["Conv2d"].resolve(layer)
            if pair(p["kernel_size"])[0] == pair(p["kernel_size"])[1] and p["groups"] == 1 and p["dilation"] == 1:
                notes += conv_parameters(shape, pair(p["kernel_size"])[0], pair(p["stride"])[0],
                                         pair(p["padding"])[0], p["out_channels"], p["bias"]).lines()
    total = f"Total: {summary['total_params']:,} parameters"
    if summary["total_params_unshared"] != summary["total_params"]:
        total += f" ({summary['total_params_unshared']:,} without sharing)"
    if summary["output"] is not None:
        total += f"; output {fmt_shape(tuple(summary['output']))}"
    return notes + [total]


class NetworkPicture(QWidget):
    """The network table of a lesson, painted to fit the widget."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lesson: Lesson | None = None
        self._selected: int | None = None
        self._scale = 1.0
        self.setMinimumSize(420, 260)

    def set_lesson(self, lesson: Lesson, selected: int | None) -> None:
        self._lesson, self._selected = lesson, selected
        self.update()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self._lesson is not None:
            margin = 14 * self._scale
            paint_network(painter, QRectF(margin, margin, self.width() - 2 * margin, self.height() - 2 * margin),
                          self._lesson, self._selected, self.palette(), self._scale)
        painter.end()


# ---------------------------------------------------------------------------------------------
# Presentation mode


class LessonPlayer(QWidget):
    """A lesson's steps: title, the step's caption, Back / Next, over the lesson's picture.

    Emits `layer_selected(index)` when a step names a layer, so the window can select it in the builder,
    and `step_changed(index)` on every step.
    """

    step_changed = Signal(int)
    layer_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lesson: Lesson | None = None
        self._index = 0
        self._scale = 1.0
        self.title = QLabel()
        self.title.setWordWrap(True)  # a long lesson title wraps instead of widening the dock
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.counter = QLabel()
        self.back_button, self.next_button = QPushButton("◀ Back"), QPushButton("Next ▶")
        self.back_button.setShortcut(Qt.Key.Key_Left)
        self.next_button.setShortcut(Qt.Key.Key_Right)
        self.arithmetic = ArithmeticView()
        self.network = NetworkPicture()
        self._pages = QStackedWidget()
        self._pages.addWidget(self.arithmetic)
        self._pages.addWidget(self.network)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addWidget(self.counter)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.about)
        layout.addWidget(self.caption)
        layout.addWidget(self._pages, 1)
        layout.addLayout(nav)
        self.back_button.clicked.connect(lambda: self.set_step(self._index - 1))
        self.next_button.clicked.connect(lambda: self.set_step(self._index + 1))
        self._apply_fonts()

    def lesson(self) -> Lesson | None:
        return self._lesson

    def step(self) -> int:
        return self._index

    def set_lesson(self, lesson: Lesson) -> None:
        self._lesson = lesson
        self.title.setText(lesson.title)
        self.about.setText(lesson.caption)
        self._pages.setCurrentWidget(self.arithmetic if lesson.arithmetic is not None else self.network)
        self._index = -1
        self.set_step(0)

    def set_step(self, index: int) -> None:
        lesson = self._lesson
        if lesson is None:
            return
        index = max(0, min(index, len(lesson.steps) - 1))
        if index == self._index:
            return
        self._index = index
        step = lesson.steps[index]
        self.caption.setText(step.caption)
        self.counter.setText(f"step {index + 1} / {len(lesson.steps)}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(lesson.steps) - 1)
        layer = _step_layer(lesson, step)
        if lesson.arithmetic is not None:
            self.arithmetic.play(False)
            self.arithmetic.set_arithmetic(lesson.arithmetic, pooling=step.pooling)
            self.arithmetic.set_step(step.windows if step.windows is not None else self.arithmetic.step_count())
        else:
            self.network.set_lesson(lesson, layer)
        self.step_changed.emit(index)
        if layer is not None:
            self.layer_selected.emit(layer)

    def set_scale(self, factor: float) -> None:
        """Presentation mode: larger title, caption and picture text."""
        self._scale = factor
        self.arithmetic.set_scale(factor)
        self.network.set_scale(factor)
        self._apply_fonts()

    def _apply_fonts(self) -> None:
        base = QApplication.font().pointSizeF() or 10.0
        for label, factor, bold in ((self.title, 1.7, True), (self.caption, 1.35, False), (self.about, 1.0, False)):
            font = QFont(label.font())
            font.setPointSizeF(base * factor * self._scale)
            font.setBold(bold)
            label.setFont(font)


# ---------------------------------------------------------------------------------------------
# Headless pictures


def lesson_picture(lesson: Lesson, step: int | None = None, size: tuple[int, int] = PICTURE_SIZE,
                   scale: float = 1.0) -> QImage:
    """The lesson's main picture at `step` (default: the last step) as an image: title and caption,
    then the arithmetic view's canvas or the network table. Needs a QApplication."""
    index = len(lesson.steps) - 1 if step is None else step
    if not 0 <= index < len(lesson.steps):
        raise ValueError(f"lesson {lesson.name!r} has steps 1…{len(lesson.steps)}, not {index + 1}")
    chosen = lesson.steps[index]
    width, height = size
    image = QImage(width, height, QImage.Format.Format_RGB32)
    palette = QApplication.palette()
    image.fill(palette.color(QPalette.ColorRole.Base))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    margin = 18 * scale
    title_font = QFont(QApplication.font())
    title_font.setPixelSize(round(26 * scale))
    title_font.setBold(True)
    caption_font = QFont(QApplication.font())
    caption_font.setPixelSize(round(17 * scale))
    painter.setFont(title_font)
    painter.setPen(palette.color(QPalette.ColorRole.Text))
    title_h = QFontMetricsF(title_font).height()
    painter.drawText(QRectF(margin, margin, width - 2 * margin, title_h), Qt.AlignmentFlag.AlignLeft, lesson.title)
    painter.setFont(caption_font)
    text = f"{lesson.caption}\n\n▸ {chosen.caption}"
    box = painter.boundingRect(QRectF(margin, margin + title_h * 1.3, width - 2 * margin, height / 3),
                               Qt.TextFlag.TextWordWrap, text)
    painter.drawText(box, Qt.TextFlag.TextWordWrap, text)
    top = int(box.bottom() + margin)
    body = QRectF(0, top, width, height - top)
    if lesson.arithmetic is not None:
        canvas = ArithmeticCanvas()
        canvas.set_scale(scale)
        st = lesson.arithmetic.run(chosen.pooling)
        params = None
        if st.kernel is not None:
            params = conv_parameters((1, *st.grid.shape), st.size, st.stride, st.padding, 1)
        canvas.set_step_through(st, params)
        canvas.set_steps(chosen.windows if chosen.windows is not None else len(st.windows))
        canvas.resize(int(body.width()), int(body.height()))
        canvas.render(painter, QPoint(0, top))
    else:
        paint_network(painter, body.adjusted(margin, 0, -margin, -margin), lesson, _step_layer(lesson, chosen),
                      palette, scale)
    painter.end()
    return image
