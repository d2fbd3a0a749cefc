"""A lesson as one picture (the `workbench lesson` verb): its title and step, over the arithmetic
view's canvas or a table of the lesson's network with the selected layer's formula and parameter
counts. Headless: needs a QApplication, no window."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication

from workbench.core.arithmetic import conv_parameters
from workbench.core.catalogue import CATALOGUE, fmt_shape, pair
from workbench.core.inference import summarize
from workbench.core.lessons import Lesson, LessonStep
from workbench.core.summary import Summary
from workbench.ui.lessons.arithmetic_view import WINDOW, ArithmeticCanvas

PICTURE_SIZE = (1280, 760)


def step_layer(lesson: Lesson, step: LessonStep) -> int | None:
    """The layer a step is about (the lesson's own when the step names none)."""
    return step.layer if step.layer is not None else lesson.layer


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
    header = ("#", "layer", "output volume", "parameters", "without sharing")
    font = QFont(painter.font())
    font.setPixelSize(max(8, round(row_h * 0.62)))
    bold = QFont(font)
    bold.setBold(True)
    widths = _column_widths(bold, [header, *rows], row_h)
    if sum(widths) > rect.width():  # a narrower picture gets smaller text, never cut columns
        for f in (font, bold):
            f.setPixelSize(max(6, int(f.pixelSize() * rect.width() / sum(widths))))
        widths = _column_widths(bold, [header, *rows], row_h)
    widths = [w * min(1.6, rect.width() / max(1.0, sum(widths))) for w in widths]
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
        note_font = QFont(bold if i == len(notes) - 1 else font)
        advance = QFontMetricsF(note_font).horizontalAdvance(note)
        if advance > rect.width():  # a long formula gets smaller text, never a cut number
            note_font.setPixelSize(max(6, int(note_font.pixelSize() * rect.width() / advance)))
        painter.setFont(note_font)
        painter.setPen(WINDOW if i < len(notes) - 1 else fg)
        painter.drawText(QRectF(rect.x(), y, rect.width(), row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         note)
        y += row_h


def _column_widths(font: QFont, rows: list[tuple[str, ...]], pad: float) -> list[float]:
    metrics = QFontMetricsF(font)
    return [max(metrics.horizontalAdvance(row[i]) for row in rows) + pad for i in range(len(rows[0]))]


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
        paint_network(painter, body.adjusted(margin, 0, -margin, -margin), lesson, step_layer(lesson, chosen),
                      palette, scale)
    painter.end()
    return image
