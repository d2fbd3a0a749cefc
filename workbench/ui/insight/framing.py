"""A steady frame for points that move: a scatter of latent codes, redrawn at every live probe.

pyqtgraph's auto-range fitted the view to the points at every refresh: the axes rescaled five times
a second (the cloud looked the same size whether it grew or shrank), and the fit ran while painting,
so each refresh painted the plot two or three times. Here the frame grows at once, with room to
grow on, when a point leaves it, and shrinks only when the points fill less than 1/SLACK of it; a
view the user zoomed or panned is left as it is until `SteadyFrame.reset`."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

MARGIN = 0.2  # of the points' extent, left free around them
GROWTH = 0.5  # the same when points have left the frame: codes spread as a network learns, and a
# frame that grew by just enough was outgrown at the next probe (more than half of cifar10-cnn's)
SLACK = 2.0  # a frame this many times the points' extent (with margins) shrinks to them


def steady_range(current: tuple[float, float], low: float, high: float) -> tuple[float, float] | None:
    """A new (low, high) for an axis whose values span low..high, or None to keep `current`."""
    extent = high - low
    if extent <= 0:  # one value (or all alike): a frame around it
        extent = max(abs(high), 1.0) * 0.1
    shown_low, shown_high = current
    inside = shown_low <= low and high <= shown_high
    if inside and shown_high - shown_low <= SLACK * extent * (1 + 2 * MARGIN):
        return None
    outgrown = not inside and shown_high > shown_low  # (no frame yet: framed as tight as a shrink)
    margin = (GROWTH if outgrown else MARGIN) * extent
    return low - margin, high + margin


class SteadyFrame:
    """Frames a plot's points with steady_range on both axes; the plot's own auto-range is off."""

    def __init__(self, plot: pg.PlotItem):
        self.view = plot.vb
        self.view.disableAutoRange()
        plot.hideButtons()  # pyqtgraph's "A" (auto-range) button would bring its fitting back
        self.user_framed = False
        self._framed = False
        self.view.sigRangeChangedManually.connect(self._user_moved)

    def reset(self) -> None:
        """Frame the next points afresh, whatever the user did to the view."""
        self.user_framed = self._framed = False

    def show(self, points: np.ndarray) -> None:
        """(n, 2) points: the frame follows them (unless the user moved the view)."""
        if self.user_framed or len(points) == 0 or not np.isfinite(points).all():
            return
        (x_shown, y_shown) = self.view.viewRange()
        if not self._framed:  # the first points: no frame to keep
            x_shown = y_shown = (np.inf, -np.inf)
        low, high = points.min(0), points.max(0)
        x = steady_range(tuple(x_shown), float(low[0]), float(high[0]))
        y = steady_range(tuple(y_shown), float(low[1]), float(high[1]))
        if x is not None or y is not None:
            self.view.setRange(xRange=x or x_shown, yRange=y or y_shown, padding=0)
        self._framed = True

    def _user_moved(self, *_: object) -> None:
        self.user_framed = True
