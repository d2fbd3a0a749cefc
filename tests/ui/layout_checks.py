"""What a user would see cut off in a window: text that does not fit its room, plot axes with an SI
factor, chart text piled on other text. Used by the window's layout tests (no tests here).

Each check returns human-readable problems ("QLabel 'Size formula' 120 px wide needs 164"), so a
failure says what to look at. Only what is on screen counts: hidden widgets, docks behind another
tab, and widgets scrolled out of their scroll area are skipped. A widget cut by the left or right
edge of the area that shows it counts as cut (no panel should need sideways scrolling); one cut at
the bottom is a scrolled panel and is fine.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QPoint, QRect, QRectF
from PySide6.QtGui import QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractScrollArea, QCheckBox, QComboBox, QDockWidget,
                               QHeaderView, QLabel, QLineEdit,
                               QStyle, QStyleOptionComboBox, QStyleOptionFrame, QStyleOptionViewItem, QTabBar,
                               QTreeView, QWidget)

SLACK = 1  # pixels of rounding


def _name(widget: QWidget, text: str) -> str:
    return f"{type(widget).__name__} {text[:60]!r}"


def visible_rect(widget: QWidget, window: QWidget) -> tuple[QRect, QRect]:
    """(the widget's rect, the part of the window that shows it), both in window coordinates."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    clip = rect
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        clip = clip.intersected(QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect, clip.intersected(window.rect())


def on_screen(widget: QWidget, window: QWidget) -> bool:
    if not widget.isVisible() or widget.width() <= 0 or widget.height() <= 0:
        return False
    return not visible_rect(widget, window)[1].isEmpty()


def _cut_sideways(widget: QWidget, window: QWidget, text: str) -> str | None:
    rect, clip = visible_rect(widget, window)
    if rect.left() < clip.left() - SLACK or rect.right() > clip.right() + SLACK:
        return f"{_name(widget, text)} is cut by the edge of its area ({rect.width()} px wide, {clip.width()} shown)"
    return None


def _label_problem(label: QLabel) -> str | None:
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull():
        return None
    if label.wordWrap():
        needed = label.heightForWidth(label.width())
        if needed > label.height() + SLACK:
            return f"{_name(label, text)} wraps to {needed} px in {label.height()} px"
        return None
    needed = label.minimumSizeHint()
    if needed.width() > label.width() + SLACK or needed.height() > label.height() + SLACK:
        return f"{_name(label, text)} is {label.width()}×{label.height()} px, needs {needed.width()}×{needed.height()}"
    return None


def _button_problem(button: QAbstractButton) -> str | None:
    if not button.text():
        return None
    needed = button.sizeHint().width() if not isinstance(button, QCheckBox) else button.minimumSizeHint().width()
    if needed > button.width() + SLACK:
        return f"{_name(button, button.text())} is {button.width()} px wide, needs {needed}"
    return None


def _combo_problem(combo: QComboBox) -> str | None:
    text = combo.currentText()
    if not text or combo.isEditable():
        return None
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    needed = combo.fontMetrics().horizontalAdvance(text)
    if not combo.itemIcon(combo.currentIndex()).isNull():
        needed += combo.iconSize().width() + 4
    if needed > field.width() + SLACK:
        return f"{_name(combo, text)} shows {field.width()} px of {needed}"
    return None


def _line_edit_problem(edit: QLineEdit) -> str | None:
    text = edit.text() or edit.placeholderText()
    if not text:
        return None
    option = QStyleOptionFrame()
    edit.initStyleOption(option)
    room = edit.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, edit)
    margins = edit.textMargins()
    room = room.width() - margins.left() - margins.right() - 4  # Qt keeps 2 px each side of the text
    needed = edit.fontMetrics().horizontalAdvance(text)
    if needed > room + SLACK:
        return f"{_name(edit, text)} shows {room} px of {needed}"
    return None


def _tab_problems(bar: QTabBar) -> list[str]:
    problems = []
    space = bar.style().pixelMetric(QStyle.PixelMetric.PM_TabBarTabHSpace, None, bar)
    for i in range(bar.count()):
        rect = bar.tabRect(i)
        if not bar.isTabVisible(i) or not rect.intersects(bar.rect()):
            continue
        needed = QFontMetrics(bar.font()).horizontalAdvance(bar.tabText(i)) + space
        if not bar.tabIcon(i).isNull():
            needed += bar.iconSize().width() + 4
        if bar.tabButton(i, QTabBar.ButtonPosition.RightSide) is not None:
            needed += bar.tabButton(i, QTabBar.ButtonPosition.RightSide).width()
        if needed > rect.width() + SLACK:
            problems.append(f"tab {bar.tabText(i)!r} is {rect.width()} px wide, needs {needed}")
    return problems


def _header_problems(header: QHeaderView) -> list[str]:
    problems = []
    model = header.model()
    if model is None:
        return problems
    margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
    metrics = QFontMetrics(header.font())
    for section in range(header.count()):
        if header.isSectionHidden(section):
            continue
        text = str(model.headerData(section, header.orientation()) or "")
        position = header.sectionViewportPosition(section)
        size = header.sectionSize(section)
        if not text or position + size <= 0 or position >= header.viewport().width():
            continue
        bold = header.font()
        bold.setBold(True)  # Fusion draws the headers of a selected row's columns in bold
        needed = QFontMetrics(bold).horizontalAdvance(text) + 2 * margin
        if needed > size + SLACK:
            problems.append(f"header {text!r} is {size} px wide, needs {needed} ({metrics.horizontalAdvance(text)} text)")
    return problems


def _item_problems(view: QTreeView) -> list[str]:
    problems = []
    model = view.model()
    if model is None:
        return problems
    width = view.viewport().width()

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            index = model.index(row, 0, parent)
            if view.isRowHidden(row, parent):
                continue
            rect = view.visualRect(index)
            if rect.isValid() and rect.bottom() >= 0 and rect.top() <= view.viewport().height():
                option = QStyleOptionViewItem()
                option.initFrom(view)
                option.decorationSize = view.iconSize()
                option.font = view.font()
                needed = view.itemDelegate().sizeHint(option, index).width()
                room = min(width, rect.left() + view.columnWidth(0) - view.header().sectionViewportPosition(0)) \
                    - rect.left()
                if needed > room + SLACK:
                    problems.append(f"item {model.data(index)!r} has {room} px, needs {needed}")
            if view.isExpanded(index):
                walk(index)

    walk(QModelIndex())
    return problems


def clipped_widget_texts(window: QWidget) -> list[str]:
    """Every on-screen label, button, combo box, line edit, tab title, table header and tree item
    whose text does not fit, or that the edge of its area cuts."""
    problems: list[str] = []
    for widget in [window, *window.findChildren(QWidget)]:
        if not on_screen(widget, window):
            continue
        text = ""
        found: list[str | None] = []
        if isinstance(widget, QLabel):
            text = widget.text()
            found.append(_label_problem(widget))
        elif isinstance(widget, QAbstractButton):
            text = widget.text()
            found.append(_button_problem(widget))
        elif isinstance(widget, QComboBox):
            text = widget.currentText()
            found.append(_combo_problem(widget))
        elif isinstance(widget, QLineEdit):
            text = widget.text() or widget.placeholderText()
            found.append(_line_edit_problem(widget))
        elif isinstance(widget, QTabBar):
            found.extend(_tab_problems(widget))
        elif isinstance(widget, QHeaderView):
            found.extend(_header_problems(widget))
        elif isinstance(widget, QTreeView) and isinstance(widget, QAbstractItemView):
            found.extend(_item_problems(widget))
        if text:
            found.append(_cut_sideways(widget, window, text))
        problems.extend(problem for problem in found if problem)
    return problems


def clipped_painted_texts(window: QWidget) -> list[str]:
    """Text that on-screen custom views (cards, arithmetic, lessons) painted outside its room."""
    problems = []
    for widget in window.findChildren(QWidget):
        log = getattr(widget, "painted", None)
        if log is None:
            continue
        surface = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget  # where it paints
        if not on_screen(surface, window):
            continue
        surface.repaint()  # the log is of the last paint: make it this layout's
        visible = QRectF(surface.rect())
        for item in log.clipped(visible):
            room, needed = item.room(), item.needed()
            problems.append(f"{type(widget).__name__} painted {item.text[:60]!r} in {room.width():.0f}×"
                            f"{room.height():.0f} px, needs {needed.width():.0f}×{needed.height():.0f}")
        for item in log.items:  # cut by the left or right edge (a row of cards cut at the bottom is scrolled)
            needed = item.needed()
            if visible.intersects(item.room()) and (needed.left() < visible.left() - SLACK
                                                    or needed.right() > visible.right() + SLACK):
                problems.append(f"{type(widget).__name__} painted {item.text[:60]!r} past its edge")
    return problems


# plots ----------------------------------------------------------------------------------------

def plots_on_screen(window: QWidget) -> list[pg.PlotItem]:
    plots = []
    for view in window.findChildren(pg.GraphicsView):
        if not on_screen(view, window):
            continue
        plots.extend(item for item in view.scene().items() if isinstance(item, pg.PlotItem) and item.isVisible())
    return plots


def plots_past_their_view(window: QWidget) -> list[str]:
    """Plots and legends that stick out of the view that shows them (a canvas laid out wider or
    taller than its widget cuts its titles and axes off)."""
    problems = []
    for view in window.findChildren(pg.GraphicsView):
        if not on_screen(view, window):
            continue
        shown = view.mapToScene(view.viewport().rect()).boundingRect().adjusted(-SLACK, -SLACK, SLACK, SLACK)
        for item in view.scene().items():
            if isinstance(item, (pg.PlotItem, pg.LegendItem)) and item.isVisible() and item.parentItem() is not None \
                    and not isinstance(item.parentItem(), pg.ViewBox) and not shown.contains(item.sceneBoundingRect()):
                name = item.titleLabel.text if isinstance(item, pg.PlotItem) else "a legend"
                problems.append(f"{name!r} sticks out of its view ({item.sceneBoundingRect().width():.0f}×"
                                f"{item.sceneBoundingRect().height():.0f} px in {shown.width():.0f}×{shown.height():.0f})")
    return problems


def si_factor_axes(window: QWidget) -> list[str]:
    """Axes of on-screen plots that rescale their numbers by an SI factor ("loss (x0.001)")."""
    problems = []
    for plot in plots_on_screen(window):
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            if axis.isVisible() and (axis.autoSIPrefixScale != 1.0 or "(x" in axis.labelString()):
                problems.append(f"axis {axis.labelString()!r} of {plot.titleLabel.text!r} shows an SI factor")
    return problems


def tick_texts(axis: pg.AxisItem) -> list[tuple[QRectF, str]]:
    """The tick labels an axis would draw now, with their rectangles (scene coordinates)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    return [(axis.mapRectToScene(QRectF(rect)), text) for rect, _flags, text in specs[2]]


def crowded_plot_texts(window: QWidget) -> list[str]:
    """Chart text on top of other chart text: tick labels, titles and text items of on-screen plots,
    and text items that stick out of their plot."""
    problems = []
    for plot in plots_on_screen(window):
        texts: list[tuple[QRectF, str]] = []
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            if axis.isVisible() and axis.style.get("showValues", True):
                texts.extend(tick_texts(axis))
        view = plot.vb.sceneBoundingRect()
        for item in plot.vb.addedItems:
            if isinstance(item, pg.TextItem) and item.isVisible() and item.textItem.toPlainText().strip():
                rect = item.sceneBoundingRect()
                texts.append((rect, item.textItem.toPlainText()))
                if not view.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(rect):
                    problems.append(f"{item.textItem.toPlainText()!r} sticks out of {plot.titleLabel.text!r}")
        title = plot.titleLabel
        if title.isVisible() and title.text.strip():
            text = title.itemRect()
            if text.width() > title.rect().width() + SLACK or text.height() > title.rect().height() + SLACK:
                problems.append(f"title {title.text!r} is cut ({title.rect().width():.0f}×{title.rect().height():.0f}"
                                f" px for {text.width():.0f}×{text.height():.0f})")
        for i, (a, a_text) in enumerate(texts):
            for b, b_text in texts[i + 1:]:
                overlap = a.intersected(b)
                if overlap.width() > 2 and overlap.height() > 2:
                    problems.append(f"{a_text!r} and {b_text!r} overlap in {plot.titleLabel.text!r}")
        legends = [item for item in plot.scene().items() if isinstance(item, pg.LegendItem) and item.isVisible()]
        if any(legend.sceneBoundingRect().intersects(view) for legend in legends):
            problems.append(f"a legend covers the data of {plot.titleLabel.text!r}")
    return problems


def stray_tab_bars(window: QWidget) -> list[str]:
    """Dock tab bars shown away from their docks (Qt's stale copies sat over the Layers dock)."""
    docks = window.findChildren(QDockWidget)
    problems = []
    for bar in (b for b in window.findChildren(QTabBar) if b.parent() is window and b.isVisible()):
        titles = {bar.tabText(i) for i in range(bar.count())}
        if not any(dock.windowTitle() in titles and dock.isVisible()
                   and dock.geometry().adjusted(-4, -4, 4, 4).intersects(bar.geometry()) for dock in docks):
            problems.append(f"a tab bar {sorted(titles)} away from its docks at {bar.geometry().getRect()}")
    return problems


def problems_on_screen(window: QWidget) -> list[str]:
    return (clipped_widget_texts(window) + clipped_painted_texts(window) + si_factor_axes(window)
            + crowded_plot_texts(window) + plots_past_their_view(window) + stray_tab_bars(window))
