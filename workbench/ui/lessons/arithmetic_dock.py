"""The Arithmetic dock: the arithmetic view following the selected conv or pooling layer.

It shows the layer's F, S, P on real numbers when a probe (live training or an opened run) gives
them: a crop of the layer's input activations and its trained first filter. Otherwise it slides the
window over example numbers. Other layer types get a hint instead of a picture.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from workbench.core.arithmetic import MAX_GRID
from workbench.core.lessons import ArithmeticSetup
from workbench.ui.lessons.arithmetic_view import ArithmeticView
from workbench.core.summary import Summary, input_index, input_shape
from workbench.training.events import Probe

HINT = ("Select a convolution or pooling layer: its window slides over real numbers here, one output at a "
        "time, with the size formula written out.")


def layer_numbers(probe: Probe, summary: Summary, index: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(the layer's input activations (C, H, W), its first trained filter's first slice (F, F)) from a
    probe, each None when absent or probed on a network whose shapes have changed since."""
    shape = input_shape(summary, index)
    if shape is None:
        return None, None
    source = input_index(summary, index)
    acts = probe.get("input") if source < 0 else probe.get("activations", {}).get(source)
    if acts is None or tuple(np.shape(acts)) != tuple(shape):
        acts = None
    weights = probe.get("filters", {}).get(index)
    out = summary["layers"][index]["output"]
    kernel = None
    if (weights is not None and weights.ndim == 4 and out and weights.shape[0] == out[0]
            and weights.shape[1] == shape[0] and weights.shape[2] == weights.shape[3]):
        kernel = weights[0, 0]
    return acts, kernel


def example_numbers(shape: list[int]) -> np.ndarray:
    """Single digits in the layer's input shape (one slice, at most MAX_GRID square): easy to add up
    by eye, and as large as the layer's window needs (a 11×11 stride-4 window needs 19×19)."""
    h, w = (min(int(n), MAX_GRID) for n in shape[-2:]) if len(shape) == 3 else (MAX_GRID, MAX_GRID)
    return np.random.default_rng(0).integers(0, 10, (1, h, w)).astype(float)


class ArithmeticPanel(QWidget):
    """A caption naming what is shown, over the arithmetic view (or a hint)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Arithmetic")
        self.view = ArithmeticView()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setMargin(24)
        self._pages = QStackedWidget()
        self._pages.addWidget(self.view)
        self._pages.addWidget(self.hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self._pages, 1)

    def showing_hint(self) -> bool:
        return self._pages.currentWidget() is self.hint

    def show_layer(self, layer: dict, index: int, summary: Summary, probe: Probe) -> None:
        """Layer `index` of the project (its dict) with the numbers a probe gives, if any."""
        row = summary["layers"][index]
        shape = input_shape(summary, index)
        if shape is None:
            self.show_hint(f"Layer {index} ({row['label']}) gets no known input shape: fix the error above it.")
            return
        acts, kernel = layer_numbers(probe, summary, index)
        try:
            self.view.set_layer(layer, list(shape), activations=acts if acts is not None else example_numbers(shape),
                                kernel=kernel)
        except ValueError:
            self.show_hint(f"Layer {index} is {row['label']}: it has no sliding window. " + HINT)
            return
        source = ("its input activations (channel 0) from the last probe" if acts is not None
                  else "example digits (train the network or open a run for its real activations)")
        weights = ", trained filter 0" if kernel is not None else ""
        self.caption.setText(f"<b>Layer {index} · {row['label']}</b> — window over {source}{weights}")
        self._pages.setCurrentWidget(self.view)

    def show_lesson(self, title: str, setup: ArithmeticSetup, pooling: str | None = None,
                    windows: int | None = None) -> None:
        """A lesson's step: its grid (with `pooling` swapped in) and `windows` computed (None: all)."""
        self.view.play(False)
        self.view.set_arithmetic(setup, pooling=pooling)
        self.view.set_step(self.view.step_count() if windows is None else windows)
        self.caption.setText(f"<b>{title}</b>")
        self._pages.setCurrentWidget(self.view)

    def set_scale(self, factor: float) -> None:
        """Presentation mode: the canvas's text grows (the labels follow the application font)."""
        self.view.set_scale(factor)

    def show_hint(self, text: str = HINT) -> None:
        self.caption.setText("")
        self.hint.setText(text)
        self._pages.setCurrentWidget(self.hint)
