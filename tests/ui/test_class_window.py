"""The window in front of a class (issue 11): what a teacher and the students see at classroom screen
sizes, presentation mode, lessons, the panels after a run, a fresh project, the first start."""
import itertools
import os
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QTabBar

from workbench.core.lessons import LESSONS
from workbench.core.templates import TEMPLATES, short_description
from workbench.ui.insight.base import CLASS_COLOURS
from workbench.ui.lessons.arithmetic_view import ArithmeticView
from workbench.ui.shell.app import MainWindow

from .layout_checks import si_factor_axes, tick_texts
from .test_window_support import open_window


def settle(qtbot) -> None:
    for _ in range(5):
        QApplication.processEvents()
    qtbot.wait(5)


def sized(qtbot, tmp_path, monkeypatch, size, name="digits-cnn", presenting=False) -> MainWindow:
    window = open_window(qtbot, tmp_path, monkeypatch, name)
    window.resize(*size)
    window.action("presentation").setChecked(presenting)
    settle(qtbot)
    return window


def fully_visible_cards(window) -> int:
    viewport = window.builder.viewport().rect()
    return sum(viewport.contains(window.builder.card_rect(card.id)) for card in window.builder.cards)


# 1. plot axes ------------------------------------------------------------------------------------

def test_axes_read_accuracy_as_a_fraction_and_epochs_whole(qtbot, tmp_path, monkeypatch, tiny_run):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    assert window.open_run(tiny_run("digits-cnn"))
    window.docks.raise_dock("training")
    settle(qtbot)
    assert si_factor_axes(window) == []  # no "accuracy (x0.001)"
    accuracy = window.training_panel.plots["accuracy"]
    assert accuracy.getAxis("left").autoSIPrefixScale == 1.0 and accuracy.getAxis("left").labelString().count("(x") == 0
    low, high = accuracy.vb.viewRange()[1]
    assert low <= 0.0 and 1.0 <= high < 1.1  # the whole 0–1 scale
    ticks = [text for _, text in tick_texts(accuracy.getAxis("left"))]
    assert ticks and all(0.0 <= float(t) <= 1.0 for t in ticks)
    epochs = [text for _, text in tick_texts(window.training_panel.plots["loss"].getAxis("bottom"))]
    assert epochs and all(t.isdigit() for t in epochs)


@pytest.mark.parametrize("presenting", [False, True])
def test_the_last_epoch_is_written_on_the_axis(qtbot, tmp_path, monkeypatch, tiny_run, presenting):
    """A finished run's last epoch has its number: the label at the axis's end was hidden."""
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720), presenting=presenting)
    window.training_panel.epochs = 8  # as after an 8-epoch run
    window.training_panel._frame_epochs()
    window.docks.raise_dock("training")
    settle(qtbot)
    try:
        for name, plot in window.training_panel.plots.items():
            epochs = [text for _, text in tick_texts(plot.getAxis("bottom"))]
            assert "8" in epochs, (name, epochs)
    finally:
        window.action("presentation").setChecked(False)  # (the mode's fonts are the application's)


# 2. presentation mode ----------------------------------------------------------------------------

def test_presentation_mode_makes_room_for_what_a_class_reads(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    plain_card = window.builder.card_size().width()
    window.action("presentation").setChecked(True)
    qtbot.waitUntil(lambda: window.builder.card_size().width() > 1.4 * plain_card)
    settle(qtbot)
    assert fully_visible_cards(window) >= 4
    assert window.palette_dock.isHidden() and window.summary_dock.isHidden()  # what the teacher doesn't need
    bars = [bar for bar in window.findChildren(QTabBar) if bar.isVisible()]
    assert bars and all(bar.elideMode() == Qt.TextElideMode.ElideNone for bar in bars)
    window.action("presentation").setChecked(False)
    settle(qtbot)
    assert window.palette_dock.isVisible() and window.summary_dock.isVisible()  # the plain layout is back


# 3. small screens --------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_the_network_gets_the_largest_share_and_an_empty_inspector_none(qtbot, tmp_path, monkeypatch, size):
    window = sized(qtbot, tmp_path, monkeypatch, size)
    builder = window.builder.width()
    assert builder > window.inspector_dock.width() and builder > window.palette_dock.width()
    assert builder > 0.4 * size[0]
    window.selection.set([])  # a click on the builder's background
    qtbot.waitUntil(lambda: window.inspector_dock.isHidden())
    settle(qtbot)
    assert window.builder.width() > builder
    window.selection.select_index(1)
    qtbot.waitUntil(lambda: window.inspector_dock.isVisible())
    assert window.health.health_dock.isVisible()  # (tabbed with the Inspector, it folded away with it)
    window.health.health_dock.raise_()
    window.selection.set([])
    settle(qtbot)
    assert window.inspector_dock.isHidden() and window.health.health_dock.isVisible()  # in front: it stays


# 4. lessons --------------------------------------------------------------------------------------

def test_a_lesson_has_one_view_of_its_step_in_step_with_its_narrative(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    window.load_lesson(LESSONS["max-pooling"])
    settle(qtbot)
    player, view = window.docks.player, window.docks.arithmetic.view
    assert not window.docks.docks["lesson"].findChildren(ArithmeticView)  # no second copy in the lesson
    player.next_button.click()  # "Stride 2: the next window (2, 4, 7, 8) gives 8."
    current = view.current().windows[view.step() - 1]
    assert (current.row, current.col, current.value) == (0, 1, 8)
    for _ in range(len(LESSONS["max-pooling"].steps)):
        player.next_button.click()
    assert view.current().operation == "l2" and view.step() == view.step_count()
    settle(qtbot)
    lesson = window.docks.docks["lesson"]
    for widget in (player.caption, player.next_button, player.back_button):  # together, on screen
        corner = widget.mapTo(window, QPoint(widget.width() - 1, widget.height() - 1))
        assert widget.isVisible() and window.rect().contains(corner) and lesson.geometry().contains(corner)


# 5. insight panels -------------------------------------------------------------------------------

def test_the_panels_get_room_and_ten_classes_ten_colours(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    assert window.summary_dock.height() >= 0.4 * (720 - window.menuBar().height())  # the bottom docks' share

    def lab(colour):  # CIE L*a*b* of an sRGB colour
        c = np.array(colour.getRgb()[:3]) / 255.0
        c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
        xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ c
        f = np.where(xyz / [0.95047, 1, 1.08883] > 0.008856, np.cbrt(xyz / [0.95047, 1, 1.08883]),
                     7.787 * xyz / [0.95047, 1, 1.08883] + 16 / 116)
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    closest = min(np.linalg.norm(lab(a) - lab(b)) for a, b in itertools.combinations(CLASS_COLOURS, 2))
    assert len(CLASS_COLOURS) == 10 and closest > 25  # (evenly spaced hues put classes 3 and 4 at 23.6)


def test_legends_sit_outside_the_data(qtbot, tmp_path, monkeypatch, tiny_run):
    window = sized(qtbot, tmp_path, monkeypatch, (1920, 1080))
    assert window.open_run(tiny_run("digits-cnn"))
    for name in ("training", "latent", "curves"):
        window.docks.raise_dock(name)
        settle(qtbot)
        for view in (v for v in window.findChildren(pg.GraphicsView) if v.isVisible()):
            boxes = [item.sceneBoundingRect() for item in view.scene().items() if isinstance(item, pg.ViewBox)]
            legends = [item for item in view.scene().items() if isinstance(item, pg.LegendItem) and item.isVisible()]
            assert all(not legend.sceneBoundingRect().intersects(box) for legend in legends for box in boxes), (
                name, type(view.parentWidget()).__name__)


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_latent_codes_in_presentation_mode_are_plots_not_slivers(qtbot, tmp_path, monkeypatch, tiny_run, size):
    """In the side column the two scatters stacked under five-line titles had 70 px of points."""
    window = sized(qtbot, tmp_path, monkeypatch, size, presenting=True)
    try:
        assert window.open_run(tiny_run("digits-cnn"))
        window.docks.raise_dock("latent")
        settle(qtbot)
        latent = window.insight["latent"]
        assert latent.points > 0
        for plot in (latent.codes_plot, latent.inputs_plot):
            assert plot.vb.height() >= 0.3 * latent.canvas.height() and plot.vb.width() >= 100
        legend = latent.legend.sceneBoundingRect()
        assert legend.top() >= latent.codes_plot.vb.sceneBoundingRect().bottom()  # under the points
        assert legend.bottom() <= latent.canvas.height() and len(latent.legend.items) == 10
    finally:
        window.action("presentation").setChecked(False)


# 6. and 7. after a run, and after another project ------------------------------------------------

def test_a_panel_opened_after_a_run_shows_it_and_another_project_starts_clean(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    window.training_panel.runs_root = tmp_path / "runs"
    window.training_panel.epochs_box.setValue(1)
    window.project.set_section("data", {**window.project.section("data"), "count": 120})
    window.docks.raise_dock("training")
    with qtbot.waitSignal(window.training_panel.run_finished, timeout=60_000) as finished:
        window.training_panel.start()
    assert finished.args[0]["status"] == "finished"
    latent = window.insight["latent"]
    assert latent.points == 0  # its tab was not in front: it was not probed during the run
    window.docks.raise_dock("latent")
    qtbot.waitUntil(lambda: latent.points > 0, timeout=10_000)  # the run's last state, from its checkpoint

    window.files.new()
    training = window.training_panel
    assert training.curves["val_loss"].n == 0 and training.status.text() == ""
    assert training.progress.format() == "idle" and window.insight["curves"].events == []
    assert latent.points == 0


# 8. replacing an unsaved project -----------------------------------------------------------------

def test_templates_and_lessons_ask_before_replacing_unsaved_work(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    window.selection.select_index(0)
    window.delete_selected()
    before = window.project.to_dict()
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    window.action("template:alexnet").trigger()
    window.load_lesson(LESSONS["alexnet-conv1"])
    assert len(asked) == 2 and window.project.to_dict() == before and window.isWindowModified()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.action("template:alexnet").trigger()
    assert window.project.name == "alexnet" and not window.isWindowModified()
    assert window.windowTitle().startswith("alexnet")


# 9. undo from anywhere ---------------------------------------------------------------------------

def test_ctrl_z_undoes_while_an_inspector_field_has_focus(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.selection.select_index(0)
    kernel = window.inspector.editors["kernel_size"].h
    kernel.setFocus()
    qtbot.waitUntil(kernel.hasFocus, timeout=2000)
    kernel.setValue(5)
    assert window.project.layer(0)["kernel_size"] == 5
    qtbot.keyClick(kernel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.project.layer(0).get("kernel_size", 3) == 3 and kernel.value() == 3
    qtbot.keyClick(kernel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.project.layer(0)["kernel_size"] == 5


# 10. quitting ------------------------------------------------------------------------------------

def test_quitting_after_an_inspector_edit_prints_nothing(tmp_path):
    script = textwrap.dedent("""
        from PySide6.QtCore import QTimer
        from workbench.ui.shell.app import MainWindow, create_app
        from workbench.core.templates import template

        if __name__ == "__main__":
            app = create_app()
            window = MainWindow(template("digits-cnn"), restore_layout=False)
            window.files.recovery_path = __import__("pathlib").Path(r"RECOVERY")
            window.show()
            window.selection.select_index(0)
            window.inspector.editors["kernel_size"].h.setValue(5)  # an edit, as typed into the field
            window.files.editor.stack.setClean()  # (no unsaved-changes question)
            QTimer.singleShot(300, window.action("quit").trigger)
            app.exec()
    """).replace("RECOVERY", str(tmp_path / "recovery.json"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "WORKBENCH_SETTINGS_SCOPE": "tests"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if "propagateSizeHints" not in line]  # offscreen's note
    assert done.returncode == 0 and errors == [], done.stderr


# 11. controls that stay put ----------------------------------------------------------------------

def test_the_training_controls_keep_their_place_during_a_run(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    panel = window.training_panel
    panel.runs_root = tmp_path / "runs"
    panel.epochs_box.setValue(3)
    window.project.set_section("data", {**window.project.section("data"), "count": 240})
    window.docks.raise_dock("training")
    settle(qtbot)

    def places():
        return [(w.mapTo(window, QPoint(0, 0)), w.size()) for w in (panel.stop_button, panel.progress, panel.canvas)]

    before = places()
    with qtbot.waitSignal(panel.run_finished, timeout=60_000):
        panel.start()
        qtbot.waitUntil(lambda: panel.curves["val_loss"].n >= 1, timeout=60_000)
        settle(qtbot)
        assert places() == before
    settle(qtbot)
    assert places() == before


# 13. smaller things ------------------------------------------------------------------------------

def test_smaller_things_a_class_would_notice(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720), "alexnet")
    # the arithmetic writes the floor, as the inspector does
    window.selection.select_index(3)  # MaxPool 3×3, s2 on 55×55: (55 − 3)/2 = 26
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.set_setup(np.ones((7, 7)), pooling="max", size=2, stride=2)
    assert view.current().size_formula() == "1 + (7 − 2)/2 = 3.5 → 3 (floor)"
    # the inspector's description reads in the text's own colour
    assert window.inspector.description.isEnabled()
    # one way of writing parameter counts: every digit, on the cards as in the inspector and summary
    counts = [window.builder.card_text(card).params for card in window.builder.cards[1:]]
    assert "37,752,832 params" in counts and "4,097,000 params" in counts and not any(" M " in c for c in counts)
    # the Templates menu says what each is
    for name in TEMPLATES:
        assert short_description(name) in window.action(f"template:{name}").text()
    # activation maps have no pixel axes
    plot = window.insight["activations"].view.plot
    assert not plot.getAxis("left").isVisible() and not plot.getAxis("bottom").isVisible()
    # an invalid network has no totals
    window.editor.push(lambda p: __import__("workbench.core.commands", fromlist=["SetInput"]).SetInput(p, [3, 4, 4]))
    assert window.summary.summary["first_error"] is not None
    assert "Total:" not in window.summary_panel.totals.text() and "no totals" in window.summary_panel.totals.text()
    # Reset Layout keeps an open lesson
    window.load_lesson(LESSONS["stride-1"])
    window.action("reset_layout").trigger()
    settle(qtbot)
    assert window.docks.docks["lesson"].isVisible()


def test_a_reopened_file_is_named_in_the_title(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720), "alexnet")
    path = tmp_path / "my-alexnet.json"
    assert window.files.save_as(path)
    from workbench.core.spec import load_spec

    reopened = MainWindow(load_spec(str(path)), restore_layout=False)
    qtbot.addWidget(reopened)
    reopened.files.adopt(path)  # what `workbench my-alexnet.json` does
    assert reopened.windowTitle().startswith("my-alexnet.json") and not reopened.isWindowModified()
    assert reopened.files.path == path


# 14. first start ---------------------------------------------------------------------------------

@pytest.mark.parametrize("way", ["build", "train", "course"])
def test_a_first_start_offers_three_ways_in_and_then_gets_out_of_the_way(qtbot, tmp_path, monkeypatch, way):
    monkeypatch.setenv("WORKBENCH_SETTINGS_SCOPE", f"tests-{uuid.uuid4().hex}")  # a machine never started on
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(restore_layout=True)
    window.files.recovery_path = tmp_path / "recovery.json"
    window.training_panel.runs_root = tmp_path / "runs"
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.welcome_dock.isVisible() and set(window.welcome.buttons) == {"build", "train", "course"}
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.welcome.buttons[way].click()
    assert window.welcome_dock.isHidden()
    if way == "build":
        assert window.palette_dock.isVisible() and window.palette_panel.search.hasFocus()
    elif way == "train":
        assert window.training_panel.is_training and window.docks.on_screen("filters")
        window.training_panel.stop_and_wait()
    else:
        assert window.docks.player.lesson().name == "stride-1" and window.docks.docks["lesson"].isVisible()
    window.close()
    again = MainWindow(restore_layout=True)  # the next start: no guidance (Help > Getting Started has it)
    again.files.recovery_path = tmp_path / "recovery.json"
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.welcome_dock.isHidden()
    again.close()


def test_the_guidance_makes_way_for_presentation_mode_and_a_lesson(qtbot, tmp_path, monkeypatch):
    """Seen in the walk: a first start's strip left up, presentation mode and a lesson squeezed the
    builder off the screen."""
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    window.show_welcome()
    window.load_lesson(LESSONS["max-pooling"])
    settle(qtbot)
    assert window.welcome_dock.isHidden() and fully_visible_cards(window) >= 2  # a row of cards
    window.show_welcome()
    window.action("presentation").setChecked(True)
    qtbot.waitUntil(lambda: window.welcome_dock.isHidden())
    settle(qtbot)
    assert fully_visible_cards(window) >= 2 and window.docks.player.next_button.isVisible()
    window.action("presentation").setChecked(False)


def test_presentation_mode_enlarges_the_health_plots_too(qtbot, tmp_path, monkeypatch):
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    plot = window.health.panel.plots["gradient"]
    plain = plot.getAxis("bottom").style["tickFont"].pointSizeF(), plot.getAxis("left").width()
    window.action("presentation").setChecked(True)
    try:
        settle(qtbot)
        assert plot.getAxis("bottom").style["tickFont"].pointSizeF() > 1.4 * plain[0]
        assert plot.getAxis("left").width() > 1.3 * plain[1]  # its numbers still fit
    finally:
        window.action("presentation").setChecked(False)


def test_coloured_text_grows_with_presentation_mode(qtbot, tmp_path, monkeypatch):
    """Labels coloured by a style sheet kept their plain font (the health findings, error lines)."""
    window = sized(qtbot, tmp_path, monkeypatch, (1280, 720))
    labels = [window.health.panel.findings, window.inspector.message, window.docks.arithmetic.view.message]
    plain = [label.font().pointSizeF() for label in labels]
    window.action("presentation").setChecked(True)
    try:
        settle(qtbot)
        assert all(label.font().pointSizeF() > 1.4 * size for label, size in zip(labels, plain))
    finally:
        window.action("presentation").setChecked(False)
