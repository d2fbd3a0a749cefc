"""A panel left alone stops drawing: no size makes its layout chase itself.

The latent panel at some sizes repainted on every turn of the event loop, forever (a quarter of a
core, idle or training): a plot's wrapped title changed its height, so its ticks, its axis's width,
its data area's width and so the title's lines again. Found at the benchmark's 1920×1080 window
with the five insight docks side by side."""
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from workbench.core.inference import summarize
from workbench.training.run_folder import open_run
from workbench.ui.insight import InsightHub

KINDS = ("filters", "activations", "latent", "reconstructions", "confusion")
SETTLE_TURNS, WATCHED_TURNS = 40, 20  # turns of the event loop, not time: a busy machine changes nothing


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
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
        paints = PaintCounter()
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
