"""The arithmetic view: a conv or pooling window sliding over real numbers, one output at a time.

The numbers come from the Qt-free `workbench.core.arithmetic.step_through`; this module only paints
them (QPainter, sized to the widget so it reads on a projector) and drives the step: play / step /
scrub. The padded input is drawn with its border of zeros (−∞ for max pooling, as torch pads), the
highlighted window carries the kernel's weights in its corners, the sum of products is written out
under it, and the output grid fills in. Bad typed numbers show a one-line message; the last good
picture stays.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QSlider,
                               QSpinBox, QStyle, QToolButton, QVBoxLayout, QWidget)

from workbench.core.arithmetic import (MAX_GRID, MAX_PADDING, POOLING_NAMES, ParameterCount, StepThrough,
                                       activation_crop, conv_parameters, fmt_number, format_grid, parse_grid,
                                       step_through)
from workbench.core.catalogue import CATALOGUE, pair
from workbench.core.lessons import ArithmeticSetup
from workbench.ui.shell.flow import FlowLayout
from workbench.ui.shell.painted_text import PaintedTexts
from workbench.ui.shell.style import ERROR, colour_text

OPERATIONS = {"conv": "Convolution", "max": "Max pooling", "average": "Average pooling", "l2": "L2-norm pooling"}
POOLING_TYPES = {"MaxPool2d": "max", "AvgPool2d": "average", "LPPool2d": "l2"}
WINDOW = QColor(232, 118, 0)  # the highlighted window and the cell it computes
KERNEL = QColor(40, 110, 200)  # kernel weights, and every output cell the shared kernel made
PLAY_INTERVAL_MS = 650
BESIDE_RATIO = 2.4  # a canvas this many times wider than high writes its text beside the grids
MIN_NUMBER_PX = 7  # smaller numbers are not drawn in the cells


def default_kernel(size: int) -> np.ndarray:
    """A kernel for a layer whose trained weights are not given: the course's 3×3 sharpening kernel,
    or a vertical-edge detector for other sizes."""
    if size == 3:
        return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
    kernel = np.zeros((size, size))
    if size > 1:
        kernel[:, 0], kernel[:, -1] = -1, 1
    else:
        kernel[0, 0] = 1
    return kernel


def _wrapped_height(font: QFont, text: str, width: float) -> float:
    """The height `text` takes in `font`, wrapped at word boundaries to `width`."""
    flags = int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap)
    return QFontMetricsF(font).boundingRect(QRectF(0, 0, max(width, 1.0), 1e5), flags, text).height()


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


class ArithmeticCanvas(QWidget):
    """Paints one step of a StepThrough: padded input and window, kernel, output grid, equation, counts."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._st: StepThrough | None = None
        self._params: ParameterCount | None = None
        self._steps = 0
        self._scale = 1.0
        self._text_scale = 1.0  # the scale, lowered while painting if the text would crowd out the grids
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(420, 260)
        self.painted = PaintedTexts()  # what the last paint wrote where (the layout tests check it fits)

    def set_step_through(self, st: StepThrough, params: ParameterCount | None) -> None:
        self._st, self._params = st, params
        self._steps = min(self._steps, len(st.windows))
        self.update()

    def set_steps(self, steps: int) -> None:
        self._steps = steps
        self.update()

    def set_scale(self, factor: float) -> None:
        self._scale = factor
        self.update()

    def sizeHint(self) -> QSize:
        """Small: it grows into the room it is given (a scroll area would size it by this hint)."""
        return QSize(420, 260)

    # painting ----------------------------------------------------------------------------------
    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        self.painted.begin()
        if self._st is not None:
            self._paint(painter, pal)
        painter.end()

    def _text_font(self, px: float, bold: bool = False) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(max(8, round(px * self._text_scale)))
        font.setBold(bold)
        return font

    def _paint(self, painter: QPainter, pal: QPalette) -> None:
        st = self._st
        assert st is not None
        margin = 14 * self._scale
        width, height = self.width() - 2 * margin, self.height() - 2 * margin
        note_lines = self._notes()
        hp, wp = st.padded.shape
        ho, wo = st.output.shape
        k_cols = st.size if st.kernel is not None else 0
        gap_cells = 1.6
        cols = wp + wo + gap_cells + (k_cols + gap_cells if k_cols else 0)
        rows = max(hp, ho) + 0.9  # + a caption row under each grid
        # a wide, low canvas (a bottom dock) puts the text beside the grids, else under them
        beside = width >= BESIDE_RATIO * height
        self._text_scale = self._scale
        while True:  # the grids keep at least half the room: on a small canvas the text gives way
            header_font, eq_font, note_font = self._text_font(17, True), self._text_font(20), self._text_font(14)
            line_h = QFontMetricsF(header_font).height()
            note_width = width if not beside else width * 0.4
            note_heights = [_wrapped_height(note_font, line, note_width) for line in note_lines]
            text_block = line_h * 1.6 + QFontMetricsF(eq_font).height() * 1.8 + \
                sum(note_heights) + QFontMetricsF(note_font).height() * 0.4
            if text_block <= height * (1.0 if beside else 0.5) or self._text_scale <= min(1.0, self._scale):
                break
            self._text_scale = max(min(1.0, self._scale), self._text_scale - 0.1)
        if beside:
            cell = min(width * 0.6 / cols, height / rows, 96 * self._scale)
            top, text_x = margin, margin + (cols + 1) * cell
            text_rect = QRectF(text_x, margin, width + margin - text_x, height)
        else:
            cell = min(width / cols, (height - text_block) / rows, 96 * self._scale)
            top = margin + line_h * 1.6
            text_rect = QRectF(margin, margin, width, height)
        cell = max(cell, 10.0)
        fg = pal.color(QPalette.ColorRole.Text)

        # header: what, and the output size formula on these numbers
        # (the controls above say the operation and F, S, P: in a narrow view those give way first, so
        # the formula keeps a readable size instead of the whole line shrinking)
        formula = f"output {st.size_formula()}"
        settings = f"F = {st.size}, S = {st.stride}, P = {st.padding}  ·  {formula}"
        metrics = QFontMetricsF(header_font)
        header = next((text for text in (f"{OPERATIONS[st.operation]}  ·  {settings}", settings)
                       if metrics.horizontalAdvance(text) <= text_rect.width()), formula)
        self._line(painter, header_font, fg, QRectF(text_rect.x(), text_rect.y(), text_rect.width(), line_h), header)
        current = st.windows[self._steps - 1] if self._steps > 0 else None

        # input grid
        x = margin
        self._paint_input(painter, pal, QPointF(x, top), cell, current)
        self._caption(painter, pal, QRectF(x, top + hp * cell, wp * cell, 0.9 * cell),
                      f"input {st.grid.shape[0]}×{st.grid.shape[1]}" + (f", padded by {st.padding}" if st.padding else ""))
        x += (wp + gap_cells) * cell
        symbol_y = top + (min(hp, st.size if st.kernel is not None else ho) / 2 - 0.5) * cell
        if st.kernel is not None:
            self._symbol(painter, fg, QRectF(x - gap_cells * cell, symbol_y, gap_cells * cell, cell), "∗")
            self._paint_kernel(painter, pal, QPointF(x, top), cell)
            self._caption(painter, pal, QRectF(x - cell, top + st.size * cell, (st.size + 2) * cell, 0.9 * cell),
                          "the kernel")
            x += (k_cols + gap_cells) * cell
        self._symbol(painter, fg, QRectF(x - gap_cells * cell, symbol_y, gap_cells * cell, cell),
                     "=" if st.kernel is not None else "→")
        self._paint_output(painter, pal, QPointF(x, top), cell, current)
        self._caption(painter, pal, QRectF(x - cell, top + ho * cell, (wo + 2) * cell, 0.9 * cell),
                      f"output {ho}×{wo}")

        # the equation of the highlighted window, then the notes
        y = text_rect.y() + line_h * 1.6 if beside else top + rows * cell + 0.3 * line_h
        eq_h = QFontMetricsF(eq_font).height()
        text = self._equation(current, eq_font, text_rect.width())
        self._line(painter, eq_font, WINDOW if current is not None else pal.color(QPalette.ColorRole.PlaceholderText),
                   QRectF(text_rect.x(), y, text_rect.width(), eq_h * 1.4), text)
        y += eq_h * 1.8
        for i, line in enumerate(note_lines):  # a long note wraps (small text would be unreadable)
            height = _wrapped_height(note_font, line, text_rect.width())
            painter.setFont(note_font)
            painter.setPen(KERNEL if i == 0 and st.kernel is not None else fg)
            self.painted.draw(painter, QRectF(text_rect.x(), y, text_rect.width(), height),
                              Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap, line)
            y += height

    def _equation(self, window: object, font: QFont, width: float) -> str:
        st = self._st
        assert st is not None
        if window is None:
            return f"press ▶ or step to slide the {st.size}×{st.size} window ({len(st.windows)} positions)"
        metrics = QFontMetricsF(font)
        prefix = f"out[{window.row}, {window.col}] = "  # type: ignore[attr-defined]
        for max_terms in range(len(window.terms), 2, -1):  # type: ignore[attr-defined]
            text = prefix + window.equation(max_terms)  # type: ignore[attr-defined]
            if metrics.horizontalAdvance(text) <= width:
                return text
        return prefix + window.equation(3)  # type: ignore[attr-defined]

    def _notes(self) -> list[str]:
        st = self._st
        assert st is not None
        n = len(st.windows)
        if st.kernel is None:
            return [f"{POOLING_NAMES[st.operation].capitalize()} has no parameters: the same rule in each of "
                    f"the {n} windows, on every depth slice."]
        f = st.size
        lines = [f"Parameter sharing: the same {f}×{f} kernel ({f * f} weights + 1 bias) is reused at all {n} positions."]
        if self._params is not None:
            lines += self._params.lines()
        return lines

    def _fitted(self, font: QFont, text: str, width: float) -> QFont:
        """`font`, shrunk until `text` fits `width` (a long formula at presentation scale)."""
        advance = QFontMetricsF(font).horizontalAdvance(text)
        if advance > width > 0:
            font = QFont(font)
            font.setPixelSize(max(7, math.floor(font.pixelSize() * width / advance)))
        return font

    def _line(self, painter: QPainter, font: QFont, color: QColor, rect: QRectF, text: str) -> None:
        painter.setFont(self._fitted(font, text, rect.width()))
        painter.setPen(color)
        self.painted.draw(painter, rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _symbol(self, painter: QPainter, color: QColor, rect: QRectF, text: str) -> None:
        font = QFont(self.font())
        font.setPixelSize(max(8, round(rect.height() * 0.6)))
        painter.setFont(font)
        painter.setPen(color)
        self.painted.draw(painter, rect, Qt.AlignmentFlag.AlignCenter, text)

    def _caption(self, painter: QPainter, pal: QPalette, rect: QRectF, text: str) -> None:
        wide = rect.adjusted(-rect.width() / 2, 0, rect.width() / 2, 0)  # may overhang the grid, not the canvas
        wide = wide.intersected(QRectF(0, wide.y(), self.width(), wide.height()))
        font = self._fitted(self._text_font(13), text, wide.width())
        if QFontMetricsF(font).height() > wide.height():  # a small cell: a caption row as low as it
            font.setPixelSize(max(6, math.floor(font.pixelSize() * wide.height() / QFontMetricsF(font).height())))
        painter.setFont(font)
        painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        self.painted.draw(painter, wide, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, text)

    def _number_font(self, cell: float, texts: list[str], share: float = 0.86, height: float = 0.8) -> QFont | None:
        """The largest font (up to a third of the cell, half in presentation mode: a class reads the
        numbers from the back of the room) in which every text fits `share` of the cell's width and
        `height` of its height; None when that is too small to read: the cells then show no numbers
        (the equation still gives those of the window)."""
        font = QFont(self.font())
        font.setPixelSize(max(1, round(cell * min(0.36 * self._scale, 0.5))))
        metrics = QFontMetricsF(font)
        widest = max((metrics.horizontalAdvance(t) for t in texts), default=0.0)
        px = font.pixelSize() * min(1.0, cell * share / max(widest, 1.0), cell * height / metrics.height())
        if px < MIN_NUMBER_PX:
            return None
        font.setPixelSize(math.floor(px))
        return font

    def _cell(self, painter: QPainter, rect: QRectF, text: str, fill: QColor, pen: QColor, border: QColor,
              font: QFont | None) -> None:
        painter.fillRect(rect, fill)
        painter.setPen(QPen(border, 1))
        painter.drawRect(rect)
        if font is None:
            return
        painter.setFont(font)
        painter.setPen(pen)
        self.painted.draw(painter, rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_input(self, painter: QPainter, pal: QPalette, origin: QPointF, cell: float, window: object) -> None:
        st = self._st
        assert st is not None
        base, fg = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        mid = pal.color(QPalette.ColorRole.Mid)
        pad_fill = _mix(base, mid, 0.35)
        pad_text = pal.color(QPalette.ColorRole.PlaceholderText)
        font = self._number_font(cell, [fmt_number(v) for v in st.padded.ravel()])
        (hp, wp), p = st.padded.shape, st.padding
        for r in range(hp):
            for c in range(wp):
                is_pad = not (p <= r < hp - p and p <= c < wp - p)
                rect = QRectF(origin.x() + c * cell, origin.y() + r * cell, cell, cell)
                self._cell(painter, rect, fmt_number(st.padded[r, c]), pad_fill if is_pad else base,
                           pad_text if is_pad else fg, mid, font)
        if window is None:
            return
        f = st.size
        frame = QRectF(origin.x() + window.left * cell, origin.y() + window.top * cell, f * cell, f * cell)  # type: ignore[attr-defined]
        painter.fillRect(frame, QColor(WINDOW.red(), WINDOW.green(), WINDOW.blue(), 40))
        kernel = st.kernel
        weights = ["×" + fmt_number(v) for v in kernel.ravel()] if kernel is not None else []
        small = self._number_font(cell * 0.7, weights, share=1.0, height=0.5) if weights else None
        if kernel is not None and small is not None:  # the kernel's weight in each cell's corner, as on the slide
            small.setBold(True)
            painter.setFont(small)
            painter.setPen(KERNEL)
            for i in range(f):
                for j in range(f):
                    corner = QRectF(frame.x() + j * cell, frame.y() + i * cell, cell - 3, cell - 1)
                    self.painted.draw(painter, corner, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                                      "×" + fmt_number(kernel[i, j]))
        painter.setPen(QPen(WINDOW, max(2.0, cell * 0.08)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(frame)

    def _paint_kernel(self, painter: QPainter, pal: QPalette, origin: QPointF, cell: float) -> None:
        st = self._st
        assert st is not None and st.kernel is not None
        base = pal.color(QPalette.ColorRole.Base)
        fill = _mix(base, KERNEL, 0.16)
        font = self._number_font(cell, [fmt_number(v) for v in st.kernel.ravel()])
        for i in range(st.size):
            for j in range(st.size):
                rect = QRectF(origin.x() + j * cell, origin.y() + i * cell, cell, cell)
                self._cell(painter, rect, fmt_number(st.kernel[i, j]), fill, KERNEL, KERNEL, font)

    def _paint_output(self, painter: QPainter, pal: QPalette, origin: QPointF, cell: float, window: object) -> None:
        st = self._st
        assert st is not None
        partial = st.partial_output(self._steps)
        base, fg, mid = (pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text),
                         pal.color(QPalette.ColorRole.Mid))
        done_fill = _mix(base, KERNEL if st.kernel is not None else WINDOW, 0.10)
        font = self._number_font(cell, [fmt_number(v) for v in st.output.ravel()])
        for r in range(partial.shape[0]):
            for c in range(partial.shape[1]):
                rect = QRectF(origin.x() + c * cell, origin.y() + r * cell, cell, cell)
                value = partial[r, c]
                filled = not np.isnan(value)
                self._cell(painter, rect, fmt_number(value) if filled else "", done_fill if filled else base,
                           fg, mid, font)
        if window is not None:
            rect = QRectF(origin.x() + window.col * cell, origin.y() + window.row * cell, cell, cell)  # type: ignore[attr-defined]
            painter.fillRect(rect.adjusted(1, 1, -1, -1), _mix(base, WINDOW, 0.25))
            if font is not None:
                painter.setFont(font)
                painter.setPen(fg)
                self.painted.draw(painter, rect, Qt.AlignmentFlag.AlignCenter, fmt_number(window.value))  # type: ignore[attr-defined]
            painter.setPen(QPen(WINDOW, max(2.0, cell * 0.08)))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)


class ArithmeticView(QWidget):
    """Controls (operation, F, S, P, typed numbers) + the canvas + play / step / scrub.

    Feed it a lesson's setup (`set_setup`), the selected project layer (`set_layer`, with a real
    crop of a sample's activations and a trained filter when there are some), or let the user type.
    """

    step_changed = Signal(int)  # number of windows computed (the last one highlighted)

    def __init__(self, parent: QWidget | None = None, interval_ms: int = PLAY_INTERVAL_MS):
        super().__init__(parent)
        self._grid = np.array(
            [[60, 113, 56, 139, 85], [73, 121, 54, 84, 128], [131, 99, 70, 129, 127], [80, 57, 115, 69, 134],
             [104, 126, 123, 95, 130]], dtype=float)
        self._kernel = default_kernel(3)
        self._operation = "conv"
        self._depth, self._filters = 1, 1  # the selected layer's input depth and filter count
        self._st: StepThrough | None = None
        self._steps = 0
        self._updating = False

        self.canvas = ArithmeticCanvas(self)
        self.operation = QComboBox()
        for key, text in OPERATIONS.items():
            self.operation.addItem(text, key)
        self.size_box, self.stride_box, self.padding_box = (QSpinBox() for _ in range(3))
        for box, label, low, high in ((self.size_box, "F", 1, MAX_GRID), (self.stride_box, "S", 1, MAX_GRID),
                                      (self.padding_box, "P", 0, MAX_PADDING)):
            box.setRange(low, high)
            box.setPrefix(f"{label} = ")
        self.edit_button = QToolButton(text="Edit numbers")
        self.edit_button.setCheckable(True)
        self.input_edit, self.kernel_edit = QPlainTextEdit(), QPlainTextEdit()
        for edit, tip in ((self.input_edit, "input: one row per line, numbers separated by spaces"),
                          (self.kernel_edit, "kernel: F rows of F numbers")):
            edit.setPlaceholderText(tip)
            edit.setToolTip(tip)
            edit.setMaximumHeight(130)
        self.message = QLabel()
        colour_text(self.message, ERROR)
        self.message.setWordWrap(True)

        self.first_button, self.back_button, self.play_button, self.next_button, self.last_button = (
            QToolButton() for _ in range(5))
        self.play_button.setCheckable(True)
        icons = QStyle.StandardPixmap
        for button, icon, tip in ((self.first_button, icons.SP_MediaSkipBackward, "start over"),
                                  (self.back_button, icons.SP_MediaSeekBackward, "one window back"),
                                  (self.play_button, icons.SP_MediaPlay, "play / pause"),
                                  (self.next_button, icons.SP_MediaSeekForward, "next window"),
                                  (self.last_button, icons.SP_MediaSkipForward, "compute every window")):
            button.setIcon(self.style().standardIcon(icon))
            button.setToolTip(tip)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimumWidth(30)  # the transport fits a narrow dock: the slider gives way
        self.position = QLabel()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)  # time per window while playing

        controls = FlowLayout()  # wraps in a narrow dock instead of widening it
        controls.addWidget(self.operation)
        for box in (self.size_box, self.stride_box, self.padding_box):
            controls.addWidget(box)
        controls.addWidget(self.edit_button)
        self._editor = QWidget()
        editor = QHBoxLayout(self._editor)
        editor.setContentsMargins(0, 0, 0, 0)
        editor.addWidget(self.input_edit, 3)
        editor.addWidget(self.kernel_edit, 1)
        self._editor.setVisible(False)
        transport = QHBoxLayout()
        for button in (self.first_button, self.back_button, self.play_button, self.next_button, self.last_button):
            transport.addWidget(button)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.position)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self._editor)
        layout.addWidget(self.message)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(transport)

        self.operation.currentIndexChanged.connect(self._on_operation)
        for box in (self.size_box, self.stride_box, self.padding_box):
            box.valueChanged.connect(self._on_geometry)
        self.edit_button.toggled.connect(self._editor.setVisible)
        self.input_edit.textChanged.connect(self._on_typed)
        self.kernel_edit.textChanged.connect(self._on_typed)
        self.first_button.clicked.connect(lambda: self.set_step(0))
        self.back_button.clicked.connect(lambda: self.set_step(self._steps - 1))
        self.next_button.clicked.connect(lambda: self.set_step(self._steps + 1))
        self.last_button.clicked.connect(lambda: self.set_step(self.step_count()))
        self.play_button.toggled.connect(self._on_play)
        self._timer.timeout.connect(self._advance)
        self.slider.valueChanged.connect(self.set_step)
        self.set_setup(self._grid, kernel=self._kernel, padding=1)

    # public API ----------------------------------------------------------------------------------
    def set_setup(self, grid: np.ndarray | list, *, kernel: np.ndarray | list | None = None,
                  pooling: str | None = None, size: int | None = None, stride: int = 1, padding: int = 0,
                  depth: int = 1, filters: int = 1) -> None:
        """Show a grid with a kernel (convolution) or a pooling kind; `depth` and `filters` are the
        layer's input depth and filter count, used only for the parameter counts."""
        st = step_through(grid, kernel=kernel, pooling=pooling, size=size, stride=stride, padding=padding)
        self._grid = st.grid
        if st.kernel is not None:
            self._kernel = st.kernel
        self._operation = st.operation
        self._depth, self._filters = depth, filters
        self._show(st)
        self._sync_controls(sync_text=True)

    def set_arithmetic(self, setup: ArithmeticSetup, pooling: str | None = None) -> None:
        """A lesson's setup; `pooling` swaps the pooling kind (to compare max, average and L2)."""
        self.set_setup(np.array(setup.grid), kernel=None if setup.kernel is None else np.array(setup.kernel),
                       pooling=pooling or setup.pooling, size=setup.size, stride=setup.stride, padding=setup.padding)

    def set_layer(self, layer: dict, input_shape: list[int], activations: np.ndarray | None = None,
                  kernel: np.ndarray | None = None, channel: int = 0) -> None:
        """The selected project layer (Conv2d, MaxPool2d, AvgPool2d, LPPool2d): its F, S, P on a small
        grid — a crop of `activations` (C×H×W of the layer's input) when given, else the current numbers —
        with `kernel` (a trained F×F filter slice) or a default kernel. Raises ValueError for other layers."""
        kind = CATALOGUE.get(layer.get("type", ""))
        if kind is None or (kind.name != "Conv2d" and kind.name not in POOLING_TYPES):
            raise ValueError(f"the arithmetic view shows Conv2d and pooling layers, not {layer.get('type')!r}")
        p = kind.resolve(layer)
        (f, _), (s, _) = pair(p["kernel_size"]), pair(p["stride"] if p["stride"] is not None else p["kernel_size"])
        pad = pair(p.get("padding", 0))[0]
        grid = activation_crop(activations, channel, max(7, f + 2 * s)) if activations is not None else self._grid
        depth = input_shape[0] if len(input_shape) == 3 else 1
        if kind.name == "Conv2d":
            weights = np.asarray(kernel, dtype=float) if kernel is not None else default_kernel(f)
            self.set_setup(grid, kernel=weights, stride=s, padding=pad, depth=depth, filters=p["out_channels"])
        else:
            self.set_setup(grid, pooling=POOLING_TYPES[kind.name], size=f, stride=s, padding=pad, depth=depth)

    def set_step(self, steps: int) -> None:
        """Compute the first `steps` windows (0: none; step_count(): all), highlighting the last."""
        steps = max(0, min(int(steps), self.step_count()))
        if steps == self._steps and self.slider.value() == steps:
            return
        self._steps = steps
        self.canvas.set_steps(steps)
        self._sync_transport()
        self.step_changed.emit(steps)

    def step(self) -> int:
        return self._steps

    def step_count(self) -> int:
        return len(self._st.windows) if self._st is not None else 0

    def current(self) -> StepThrough | None:
        """The step-through shown."""
        return self._st

    def set_scale(self, factor: float) -> None:
        """Presentation mode: scale the canvas's text (cells already fill the space they have)."""
        self.canvas.set_scale(factor)

    def play(self, playing: bool = True) -> None:
        self.play_button.setChecked(playing)

    # internals -------------------------------------------------------------------------------
    def _show(self, st: StepThrough) -> None:
        self._st = st
        params = None
        if st.kernel is not None:
            h, w = st.grid.shape
            params = conv_parameters((self._depth, h, w), st.size, st.stride, st.padding, self._filters)
        self.canvas.set_step_through(st, params)
        self.message.clear()
        self._steps = min(self._steps, len(st.windows))
        self.canvas.set_steps(self._steps)
        self._sync_transport()

    def _sync_controls(self, sync_text: bool) -> None:
        st = self._st
        assert st is not None
        self._updating = True
        try:
            self.operation.setCurrentIndex(list(OPERATIONS).index(st.operation))
            self.size_box.setValue(st.size)
            self.stride_box.setValue(st.stride)
            self.padding_box.setValue(st.padding)
            if sync_text:
                self.input_edit.setPlainText(format_grid(st.grid))
                self.kernel_edit.setPlainText(format_grid(self._kernel))
            self.kernel_edit.setEnabled(st.kernel is not None)
        finally:
            self._updating = False

    def _sync_transport(self) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, self.step_count())
        self.slider.setValue(self._steps)
        self.slider.blockSignals(False)
        self.position.setText(f"window {self._steps} / {self.step_count()}")

    def _rebuild(self, grid: np.ndarray, kernel: np.ndarray, sync_text: bool) -> None:
        """Recompute from the controls; a bad combination shows its message and keeps the last picture."""
        op = self._operation
        try:
            st = step_through(grid, kernel=kernel if op == "conv" else None, pooling=None if op == "conv" else op,
                              size=None if op == "conv" else self.size_box.value(), stride=self.stride_box.value(),
                              padding=self.padding_box.value())
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self._grid = st.grid
        if op == "conv":
            self._kernel = kernel
        self._show(st)
        self._sync_controls(sync_text)

    def _on_operation(self) -> None:
        if self._updating:
            return
        self._operation = self.operation.currentData()
        if self._operation != "conv" and self.padding_box.value() > self.size_box.value() // 2:
            self.padding_box.blockSignals(True)
            self.padding_box.setValue(self.size_box.value() // 2)
            self.padding_box.blockSignals(False)
        kernel = self._kernel if self._kernel.shape[0] == self.size_box.value() else default_kernel(self.size_box.value())
        self._rebuild(self._grid, kernel, sync_text=True)

    def _on_geometry(self) -> None:
        if self._updating:
            return
        f = self.size_box.value()
        kernel = self._kernel if self._kernel.shape[0] == f else default_kernel(f)
        self._rebuild(self._grid, kernel, sync_text=kernel is not self._kernel)

    def _on_typed(self) -> None:
        if self._updating:
            return
        try:
            grid = parse_grid(self.input_edit.toPlainText(), "input")
            kernel = parse_grid(self.kernel_edit.toPlainText(), "kernel") if self._operation == "conv" else self._kernel
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self._rebuild(grid, kernel, sync_text=False)

    def _on_play(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        if playing:
            if self._steps >= self.step_count():
                self.set_step(0)
            self._timer.start()
        else:
            self._timer.stop()

    def _advance(self) -> None:
        if self._steps >= self.step_count():
            self.play_button.setChecked(False)
            return
        self.set_step(self._steps + 1)
