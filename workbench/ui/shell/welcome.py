"""First-run guidance: three ways in, across the top of the window, gone once one is taken.

The window shows it on its first start (nothing remembered in the settings yet) and from Help >
Getting Started; taking a way in, or "Not now", hides it for good (`Welcome.done` is remembered).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from workbench.ui.shell import settings as app_settings
from workbench.ui.shell.flow import FlowLayout

DONE_KEY = "welcome/done"

# (signal, button, what it does)
WAYS = (("build", "Build a network", "Drag layers from the palette: every card shows its output volume and "
                                     "parameters, the inspector writes the size formula out."),
        ("train", "Train and look inside", "Train the digits CNN and watch its filters, activations and "
                                           "confusion matrix while it learns."),
        ("course", "Follow the course", "Step through the lessons: a 3×3 filter on a 7×7 input, zero padding, "
                                        "pooling, AlexNet's 55×55×96."))


def first_start() -> bool:
    """Whether no way in has been taken yet (the settings remember it)."""
    return not app_settings.settings().value(DONE_KEY, False, type=bool)


class Welcome(QWidget):
    """Three ways in (signals build, train, course) and "Not now" (dismissed); taking any is
    remembered (the window then puts the strip away)."""

    build = Signal()
    train = Signal()
    course = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        title = QLabel("Welcome to workbench: three ways in")
        font = QFont(title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        title.setFont(font)
        self.buttons: dict[str, QPushButton] = {}
        ways = FlowLayout(spacing=12)  # three columns, or fewer lines' worth in a narrow window
        for name, text, description in WAYS:
            button = QPushButton(text)
            button.setDefault(name == "build")
            button.clicked.connect(lambda _=False, n=name: self._taken(n))
            about = QLabel(description)
            about.setWordWrap(True)
            about.setFixedWidth(max(button.sizeHint().width(), about.fontMetrics().averageCharWidth() * 34))
            about.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
            column = QWidget()
            box = QVBoxLayout(column)
            box.setContentsMargins(0, 0, 0, 0)
            box.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
            box.addWidget(about)
            ways.addWidget(column)
            self.buttons[name] = button
        self.later = QPushButton("Not now")
        self.later.setFlat(True)
        self.later.setToolTip("Help > Getting Started shows these again")
        self.later.clicked.connect(lambda: self._taken("dismissed"))
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(self.later)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addLayout(ways)

    def _taken(self, name: str) -> None:
        app_settings.settings().setValue(DONE_KEY, True)
        getattr(self, name).emit()
