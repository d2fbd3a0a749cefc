"""The real main window at the screen sizes of a classroom, plain and in presentation mode: every dock,
every bottom tab and every lesson brought to the front, with curves and panels filled from a real
short run. Nothing on screen may be cut, no chart text may sit on other chart text, no axis may show
an SI factor. One window per size, reused for every check (the checks are in layout_checks.py)."""
import pytest
from PySide6.QtWidgets import QApplication

from workbench.core.lessons import LESSONS

from .layout_checks import problems_on_screen
from .test_window_support import open_window, wait_for_hardware

SIZES = ((1024, 768), (1280, 720), (1366, 768), (1920, 1080))


@pytest.fixture(scope="module")
def runs(tiny_run):
    return {"classify": tiny_run("digits-cnn"), "autoencoder": tiny_run("denoising-autoencoder")}


def settle(qtbot) -> None:
    """Docks, fonts and layouts settle through posted events."""
    for _ in range(5):
        QApplication.processEvents()
    qtbot.wait(5)


def look(window, qtbot, what: str, found: dict[str, str]) -> None:
    """Adds each problem seen (once, with where it was first seen)."""
    settle(qtbot)
    for problem in problems_on_screen(window):
        found.setdefault(problem, what)


def look_at_every_dock(window, qtbot, mode: str, found: dict[str, str], names=None) -> None:
    docks = {"layers": window.palette_dock, "inspector": window.inspector_dock, "summary": window.summary_dock,
             **window.docks.docks, "health": window.health.health_dock, "filters forming": window.health.scrubber_dock}
    for name, dock in docks.items():
        if names is not None and name not in names:
            continue
        hidden = dock.isHidden()
        dock.show()
        dock.raise_()
        look(window, qtbot, f"{mode}, {name} in front", found)
        dock.setHidden(hidden)  # as the mode had it (presentation mode hides Layers and Summary)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_on_screen_is_cut(qtbot, tmp_path, monkeypatch, runs, size):
    window = open_window(qtbot, tmp_path, monkeypatch, "digits-cnn")
    wait_for_hardware(qtbot, window)
    window.resize(*size)
    found: dict[str, str] = {}
    for presentation in (False, True):
        mode = "presentation" if presentation else "plain"
        window.action("presentation").setChecked(presentation)
        settle(qtbot)
        window.show_welcome()  # what a first start shows
        look(window, qtbot, f"{mode}, as it first opens", found)
        window.welcome_dock.hide()
        assert window.open_run(runs["classify"])
        look_at_every_dock(window, qtbot, mode, found)
        assert window.open_run(runs["autoencoder"])
        look_at_every_dock(window, qtbot, f"{mode}, autoencoder run", found,
                           ("training", "latent", "reconstructions", "curves", "activations"))
        for lesson in LESSONS.values():
            window.load_lesson(lesson)
            look(window, qtbot, f"{mode}, lesson {lesson.name}", found)
            player = window.docks.player
            player.set_step(len(lesson.steps) - 1)
            look(window, qtbot, f"{mode}, lesson {lesson.name} last step", found)
    window.action("presentation").setChecked(False)
    assert not found, f"{len(found)} problems:\n" + "\n".join(f"{where}: {problem}" for problem, where in found.items())
