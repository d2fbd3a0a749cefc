"""How the window shares its room, at any screen size, plain and in presentation mode.

Plain: Layers on the left, the Inspector on the right, a lesson's steps across the top, and the
working docks (Summary, Training, Arithmetic, the insight panels, the lab) tabbed along the bottom.
Sizes are shares of the window, not pixels, so a 1024×768 projector gets the same picture as a
1920×1080 monitor: the network keeps the largest share of the width and at least a row of cards.

Presentation: what a class reads gets the room. Every dock is a tab of one full-height column on
the right, Layers and Summary hidden among them (View > Panels brings them back), and the builder
keeps two columns and two rows of its (enlarged) cards. Leaving it puts the plain layout back as it
was. Which dock is in front, and which docks are shown, carry over both ways.

The shares follow the window while the user has not moved a dock's edge; once they have, their
sizes stay (Qt's own rule: the central widget takes what the window gains or loses).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStyle, QTabBar

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
TOP, BOTTOM = Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
HORIZONTAL, VERTICAL = Qt.Orientation.Horizontal, Qt.Orientation.Vertical

RIGHT_SHARE = 0.27  # plain: the Inspector's share of the width
RIGHT_WIDTH = (250, 560)  # ... never narrower or wider than this (pixels at the plain font)
BOTTOM_SHARE = 0.5  # plain: the working docks' share of the height below the toolbar
BUILDER_SHARE = 0.58  # presentation: the builder's share of the width (at least two cards)


def never_elide(bar: QTabBar) -> None:
    """A dock tab's title is its whole name: tabs that do not fit scroll (arrows) instead of
    shrinking to "Arit…"."""
    bar.setElideMode(Qt.TextElideMode.ElideNone)
    bar.setUsesScrollButtons(True)


def hide_stale_tab_bars(window: QMainWindow) -> None:
    """Qt 6.11 leaves a copy of a tab bar behind when a window's second dock group is first tabified
    (and when docks move to another area): shown with the window, it sits over the docks below. Keep
    only the fullest bar per group, and of two alike the one that sits against its docks (the copy
    was seen over the Layers dock, "Ins…" of Inspector | Health)."""
    bars = [bar for bar in window.findChildren(QTabBar) if bar.parent() is window]
    docks = window.findChildren(QDockWidget)

    def tabs(bar: QTabBar, count: int | None = None) -> list[str]:
        return [bar.tabText(i) for i in range(bar.count() if count is None else count)]

    def against_its_docks(bar: QTabBar) -> bool:
        titles = set(tabs(bar))
        return any(dock.windowTitle() in titles and dock.isVisible()
                   and dock.geometry().adjusted(-4, -4, 4, 4).intersects(bar.geometry()) for dock in docks)

    for bar in bars:
        if any(other is not bar and other.count() > bar.count() and tabs(other, bar.count()) == tabs(bar)
               for other in bars):
            bar.hide()
        elif any(other is not bar and tabs(other) == tabs(bar) for other in bars) and not against_its_docks(bar):
            bar.hide()


def front_dock(window: QMainWindow, docks: list[QDockWidget]) -> QDockWidget | None:
    """The dock of `docks` whose tab is in front (None when none of them shows)."""
    return next((dock for dock in docks if dock.isVisible() and not dock.visibleRegion().isEmpty()), None)


class WindowLayout:
    """The arrangement of a main window's docks.

    palette, inspector, summary: the editing docks; lesson: the lesson's steps (top); working: the
    docks tabbed along the bottom in plain mode, in their tab order (Training, Arithmetic, …).
    """

    def __init__(self, window: QMainWindow, *, version: int, builder_width: Callable[[], int], palette: QDockWidget,
                 inspector: QDockWidget, summary: QDockWidget, lesson: QDockWidget, working: list[QDockWidget]):
        self.window, self.version = window, version
        self.builder_width = builder_width  # () -> pixels the builder needs in presentation mode
        self.palette, self.inspector, self.summary, self.lesson = palette, inspector, summary, lesson
        self.working = working
        self.presenting = False
        self.follow_window = True  # the shares follow the window until the user moves a dock's edge
        self._plain_state = QByteArray()
        self._resize_pending = False
        self._inspector_hidden = False  # hidden by show_inspector (not by the user)
        self._folded: list[QDockWidget] = []  # the docks tabbed with it that show_inspector hid too
        strip = lesson.widget()
        if hasattr(strip, "width_changed"):  # the strip's height follows its width and fonts
            strip.width_changed.connect(self._lesson_resized)

    # sizes --------------------------------------------------------------------------------------------
    def fit(self) -> None:
        """Give each area its share of the window now."""
        w = self.window
        if self.presenting:  # the builder keeps two columns of cards
            separator = w.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent, None, w)
            builder = max(self.builder_width(), round(BUILDER_SHARE * w.width())) + separator + 2
            right = max(w.width() - builder, 200)
            w.resizeDocks([self.inspector], [right], HORIZONTAL)
        else:
            palette = self.palette.widget().sizeHint().width()  # its longest entry, whole
            low, high = RIGHT_WIDTH
            right = round(min(max(RIGHT_SHARE * w.width(), low), high))
            w.resizeDocks([self.palette, self.inspector], [palette, right], HORIZONTAL)
            below_toolbar = w.height() - w.menuBar().height() - 60
            w.resizeDocks([self.summary], [round(BOTTOM_SHARE * below_toolbar)], VERTICAL)
        if self.lesson.isVisible():
            QTimer.singleShot(0, self.window, self.fit_lesson)  # at the strip's new width

    def fit_lesson(self) -> None:
        """The lesson strip as tall as its longest step needs at its width (its title bar included),
        and never shorter: when docks crowd the window, they give way, not the lesson's text."""
        widget = self.lesson.widget()
        if widget is not None and widget.hasHeightForWidth() and widget.width() > 0:
            needed = widget.heightForWidth(widget.width())
            widget.setMinimumHeight(needed)
            chrome = self.lesson.height() - widget.height()
            self.window.resizeDocks([self.lesson], [needed + chrome], VERTICAL)

    def _lesson_resized(self) -> None:
        if self.lesson.isVisible():
            QTimer.singleShot(0, self.window, self.fit_lesson)

    def window_resized(self) -> None:
        """Keep the shares while the user has not set sizes of their own, and the lesson strip as tall
        as its text (once per burst of resizes)."""
        if not self._resize_pending:
            self._resize_pending = True
            QTimer.singleShot(0, self.window, self._refit)

    def _refit(self) -> None:
        self._resize_pending = False
        if self.follow_window:
            self.fit()
        elif self.lesson.isVisible():
            self.fit_lesson()

    def edge_moved(self) -> None:
        """The user drags a dock's edge: their sizes win from now on."""
        self.follow_window = False

    def plain_state(self) -> QByteArray:
        """The plain layout (what is remembered for the next start, even when closed while presenting)."""
        return self._plain_state if self.presenting else self.window.saveState(self.version)

    def show_inspector(self, needed: bool) -> None:
        """An empty inspector takes no room: hidden while no card is selected, back in front when one
        is. One the user closed stays closed. In the plain layout the docks tabbed with it (Health)
        fold away with it when it was the one in front, or the column would stay as wide for them;
        one of them in front stays."""
        if not needed and self.inspector.isVisible():
            self._inspector_hidden = True
            if not self.presenting and front_dock(self.window, [self.inspector]) is not None:
                self._folded = [dock for dock in self.window.tabifiedDockWidgets(self.inspector) if dock.isVisible()]
            for dock in self._folded:
                dock.hide()
            self.inspector.hide()
        elif needed and self._inspector_hidden:
            self._inspector_hidden = False
            for dock in self._folded:
                dock.show()
            self._folded = []
            self.inspector.show()
            self.inspector.raise_()

    # presentation -----------------------------------------------------------------------------------
    def present(self, on: bool) -> None:
        if on == self.presenting:
            return
        w = self.window
        front = front_dock(w, self.working) or front_dock(w, [self.inspector])
        shown = {dock: dock.isVisible() for dock in [self.inspector, self.lesson, *self.working]}
        if on:
            self._plain_state = w.saveState(self.version)
            self._palette_shown, self._summary_shown = self.palette.isVisible(), self.summary.isVisible()
            self.palette.hide()
            self.summary.hide()
            w.setCorner(Qt.Corner.TopRightCorner, RIGHT)
            w.setCorner(Qt.Corner.BottomRightCorner, RIGHT)
            # Layers and Summary too, hidden: shown again (View > Panels), they are tabs of the column
            # and take nothing from the builder
            for dock in (*self.working, self.palette, self.summary):
                w.addDockWidget(RIGHT, dock)
                w.tabifyDockWidget(self.inspector, dock)
        else:
            w.setCorner(Qt.Corner.TopRightCorner, TOP)
            w.setCorner(Qt.Corner.BottomRightCorner, BOTTOM)
            w.restoreState(self._plain_state, self.version)
            self.palette.setVisible(self._palette_shown)
            self.summary.setVisible(self._summary_shown)
        self.presenting = on
        for dock, visible in shown.items():
            dock.setVisible(visible)
        if front is not None:
            front.raise_()
        QTimer.singleShot(0, self.window, self.fit)  # after the fonts of the new mode reach the builder
        QTimer.singleShot(0, self.window, lambda: hide_stale_tab_bars(self.window))

    def reset(self, default_state: QByteArray) -> None:
        """View > Reset Layout: the mode's default arrangement and shares; an open lesson stays."""
        lesson_shown = self.lesson.isVisible()
        presenting = self.presenting
        if presenting:
            self.present(False)
        self.window.restoreState(default_state, self.version)
        self.lesson.setVisible(lesson_shown)
        self.follow_window = True
        if presenting:
            self.present(True)
        else:
            self.fit()
