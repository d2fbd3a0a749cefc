"""Lessons in the window: the Lessons menu and the LessonPlayer, a lesson's steps.

`build_lessons_menu(menu, on_load)` fills a QMenu with one action per lesson (grouped as in the course);
the window's `on_load(lesson)` loads `lesson.project`, selects `lesson.layer` and opens `lesson.view`.
The picture of a step is one of the window's own views, never a copy: the Arithmetic dock for the
convolution lessons (it follows `step_changed`), the builder, inspector and summary for the others
(the step's layer is selected). `workbench.ui.lessons.picture` renders a lesson as one image.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.lessons import GROUPS, LESSONS, Lesson
from workbench.ui.lessons.picture import step_layer

# label -> (its size against the window's font, bold)
FONTS = {"title": (1.45, True), "about": (1.0, False), "caption": (1.25, False)}


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


class LessonPlayer(QWidget):
    """A lesson's steps as a strip: the title, what the lesson shows and the step's caption, with
    Back / Next beside them. Text and controls are always on screen together, and the buttons do not
    move from step to step: `heightForWidth` is what the lesson's longest step needs, and the window
    makes the strip that tall (workbench.ui.shell.layout).

    Emits `step_changed(index)` on every step and `layer_selected(index)` when a step is about a layer.
    """

    step_changed = Signal(int)
    layer_selected = Signal(int)
    width_changed = Signal()  # the height it needs (heightForWidth) changed with it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lesson: Lesson | None = None
        self._index = 0
        self.title, self.about, self.caption = QLabel(), QLabel(), QLabel()
        for label in (self.title, self.about, self.caption):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wraps, never widens
        self.counter = QLabel()
        self.counter.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.back_button, self.next_button = QPushButton("◀ Back"), QPushButton("Next ▶")
        self.back_button.setShortcut(Qt.Key.Key_Left)
        self.next_button.setShortcut(Qt.Key.Key_Right)
        self.back_button.setToolTip("The previous step (←)")
        self.next_button.setToolTip("The next step (→)")
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        for label in (self.title, self.about, self.caption):
            text.addWidget(label)
        text.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        nav = QVBoxLayout()
        nav.setContentsMargins(0, 0, 0, 0)
        nav.addLayout(buttons)
        nav.addWidget(self.counter)
        nav.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
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
        self.caption.setText(f"▸ {step.caption}")
        self.counter.setText(f"step {index + 1} / {len(lesson.steps)}")
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(lesson.steps) - 1)
        layer = step_layer(lesson, step)
        if layer is not None:  # first: the views that follow the selection are then shown the step
            self.layer_selected.emit(layer)
        self.step_changed.emit(index)

    # size -------------------------------------------------------------------------------------
    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        """The height the lesson's longest step needs at this width (title, what it shows, caption)."""
        if self._lesson is None:
            return self.minimumSizeHint().height()
        margins = self.layout().contentsMargins()
        nav = self.layout().itemAt(1).sizeHint()
        room = max(40, width - margins.left() - margins.right() - self.layout().spacing() - nav.width())
        spacing = self.layout().itemAt(0).layout().spacing()

        def lines(label: QLabel, texts: list[str]) -> int:
            flags = int(Qt.TextFlag.TextWordWrap)
            return max(QFontMetrics(label.font()).boundingRect(0, 0, room, 100_000, flags, t).height() for t in texts)

        text = (lines(self.title, [self._lesson.title]) + lines(self.about, [self._lesson.caption])
                + lines(self.caption, [f"▸ {s.caption}" for s in self._lesson.steps]) + 2 * spacing)
        return margins.top() + margins.bottom() + max(text, nav.height()) + 2

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.width_changed.emit()

    # fonts ------------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode: the strip's text follows
            self._apply_fonts()

    def _apply_fonts(self) -> None:
        base = self.font()
        for name, (factor, bold) in FONTS.items():
            font = QFont(base)
            font.setPointSizeF(base.pointSizeF() * factor)
            font.setBold(bold)
            getattr(self, name).setFont(font)
        self.width_changed.emit()  # the same width needs another height
