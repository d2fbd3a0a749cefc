"""A panel left alone stops drawing: no size makes its layout chase itself; a live refresh lays out
nothing outside its panel.

The latent panel at some sizes repainted on every turn of the event loop, forever (a quarter of a
core, idle or training): a plot's wrapped title changed its height, so its ticks, its axis's width,
its data area's width and so the title's lines again. Found at the benchmark's 1920×1080 window
with the five insight docks side by side."""
from PySide6.QtCore import QEvent, QObject
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from workbench.core.inference import summarize
from workbench.training.probes import ProbeRequest, RunProbe
from workbench.training.run_folder import open_run
from workbench.ui.insight import InsightHub

KINDS = ("filters", "activations", "latent", "reconstructions", "confusion")
SETTLE_TURNS, WATCHED_TURNS = 40, 20  # turns of the event loop, not time: a busy machine changes nothing


class EventCounter(QObject):
    def __init__(self, kind: QEvent.Type = QEvent.Type.Paint) -> None:
        super().__init__()
        self.kind = kind
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == self.kind:
            self.count += 1
        return False


def test_no_panel_repaints_itself_once_drawn_at_any_size(qtbot, tiny_run):
    run = open_run(tiny_run("digits-cnn"))
    hub = InsightHub()
    for name in KINDS:
        qtbot.addWidget(hub[name])
        hub[name].show()
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    restless = []
    for name in KINDS:
        panel = hub[name]
        paints = EventCounter()
        panel.canvas.viewport().installEventFilter(paints)
        for width in range(200, 801, 40):
            for height in range(150, 601, 50):
                panel.resize(width, height)
                for _ in range(SETTLE_TURNS):
                    QApplication.processEvents()
                paints.count = 0
                for _ in range(WATCHED_TURNS):
                    QApplication.processEvents()
                if paints.count:
                    restless.append((name, width, height, paints.count))
    assert restless == []


def test_a_live_refresh_does_not_lay_the_window_out_again(qtbot, tiny_run):
    """Each panel in a dock of a main window, refreshed with probes as a run sends them: the window
    around it is never laid out again (a spin box's range set at every refresh made the main window
    lay out all its docks at every live probe: a third of the window's CPU per probe)."""
    run = open_run(tiny_run("digits-cnn"))
    window = QMainWindow()
    qtbot.addWidget(window)
    hub = InsightHub()
    for name in KINDS:
        dock = QDockWidget(name)
        dock.setWidget(hub[name])
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.resize(1600, 700)
    window.show()
    hub.set_summary(summarize(run.project))
    probe = RunProbe(run).capture(ProbeRequest.for_panels(list(KINDS)))
    hub.update_probe(probe)
    hub["filters"].set_layer(2)  # the second convolution: 16 input channels, a channel box shown
    assert hub["filters"].channel.isVisible()
    for _ in range(SETTLE_TURNS):
        QApplication.processEvents()
    layouts = EventCounter(QEvent.Type.LayoutRequest)
    window.installEventFilter(layouts)
    relaid = {}
    for name in KINDS:
        for _ in range(3):
            hub[name].update_probe(probe)
            for _ in range(SETTLE_TURNS):
                QApplication.processEvents()
        relaid[name], layouts.count = layouts.count, 0
    assert relaid == dict.fromkeys(KINDS, 0)
