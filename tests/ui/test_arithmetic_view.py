"""The arithmetic view, the lesson player, the Lessons menu and the lesson pictures, offscreen."""
import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMenu

from workbench.core.lessons import LESSONS
from workbench.ui.lessons.arithmetic_view import WINDOW, ArithmeticView
from workbench.ui.lessons.player import LessonPlayer, build_lessons_menu, lesson_picture

from .test_window_support import WAIT_MS


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine() // 4, 4)[:, :image.width(), :3].copy()  # outlives image


def ink(image: QImage) -> float:
    """Fraction of pixels that differ from the background (the top-left pixel's colour)."""
    px = pixels(image)
    return float((np.abs(px.astype(int) - px[0, 0]).sum(axis=2) > 30).mean())


def orange_pixels(image: QImage) -> int:
    """Pixels in the highlighted window's colour: the window and its output cell are drawn."""
    px = pixels(image)[..., ::-1].astype(int)  # BGRA -> RGB
    return int((np.abs(px - [WINDOW.red(), WINDOW.green(), WINDOW.blue()]).sum(axis=2) < 40).sum())


@pytest.fixture
def view(qtbot):
    widget = ArithmeticView(interval_ms=5)
    widget.resize(1000, 640)
    qtbot.addWidget(widget)
    return widget


def test_view_steps_through_a_lesson_and_paints_the_window(view, tmp_path):
    view.set_arithmetic(LESSONS["zero-padding"].arithmetic)
    assert view.step_count() == 25 and view.step() == 0
    before = view.canvas.grab().toImage()
    view.set_step(7)
    image = view.canvas.grab().toImage()
    image.save(str(tmp_path / "mid-step.png"))
    assert image.width() == view.canvas.width() and ink(image) > 0.05
    assert orange_pixels(image) > orange_pixels(before) + 200  # the window and its cell light up
    assert view.slider.value() == 7 and view.position.text() == "window 7 / 25"
    view.next_button.click()
    assert view.step() == 8
    view.slider.setValue(25)
    np.testing.assert_array_equal(view.current().partial_output(view.step()), view.current().output)


def test_play_runs_to_the_last_window_and_stops(view, qtbot):
    view.set_arithmetic(LESSONS["stride-2"].arithmetic)
    with qtbot.waitSignal(view.play_button.toggled, timeout=WAIT_MS, check_params_cb=lambda on: not on):
        view.play()
    assert view.step() == view.step_count() == 9


def test_pooling_kinds_compare_on_the_same_numbers(view):
    view.set_arithmetic(LESSONS["max-pooling"].arithmetic)
    assert view.current().output.tolist() == [[6, 8], [3, 4]]
    view.operation.setCurrentIndex(view.operation.findData("average"))
    assert view.current().output.tolist() == [[3.25, 5.25], [2, 2]]
    view.operation.setCurrentIndex(view.operation.findData("l2"))
    np.testing.assert_allclose(view.current().output[0, 0], np.sqrt(1 + 1 + 25 + 36))
    assert view.current().grid.tolist() == [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]


def test_typed_numbers_drive_the_view_and_bad_ones_get_a_message(view):
    view.set_arithmetic(LESSONS["max-pooling"].arithmetic)
    view.input_edit.setPlainText("1 2\n3 9")
    assert view.current().output.tolist() == [[9]]
    view.input_edit.setPlainText("1 2\n3")
    assert "row 2 has 1 numbers but row 1 has 2" in view.message.text()
    assert view.current().output.tolist() == [[9]]  # the last good picture stays
    view.stride_box.setValue(1)
    view.padding_box.setValue(1)
    assert view.message.text() == "" or view.current().output.shape == (3, 3)


def test_a_conv_layer_with_a_real_activation_crop(view):
    volume = np.random.default_rng(0).random((3, 12, 12)).astype(np.float32)
    layer = {"type": "Conv2d", "out_channels": 96, "kernel_size": 3, "stride": 2, "padding": 1}
    view.set_layer(layer, [3, 12, 12], activations=volume, channel=1)
    st_ = view.current()
    assert (st_.size, st_.stride, st_.padding) == (3, 2, 1) and st_.grid.shape == (7, 7)
    np.testing.assert_allclose(st_.grid, volume[1, 2:9, 2:9], rtol=1e-6)
    assert (view.size_box.value(), view.stride_box.value(), view.padding_box.value()) == (3, 2, 1)
    view.set_layer({"type": "AvgPool2d", "kernel_size": 2}, [3, 12, 12])
    assert view.current().pooling == "average" and view.current().stride == 2
    with pytest.raises(ValueError, match="Conv2d and pooling layers"):
        view.set_layer({"type": "Linear", "out_features": 3}, [10])


def first_line_height(image: QImage) -> int:
    """Height in pixels of the topmost line of text (the header with the size formula)."""
    px = pixels(image).astype(int)
    inked = (np.abs(px - px[0, 0]).sum(axis=2) > 30).any(axis=1)
    top = int(np.argmax(inked))
    return int(np.argmin(inked[top:]))


def test_presentation_scale_grows_the_text(view):
    view.set_arithmetic(LESSONS["stride-1"].arithmetic)
    view.set_step(3)
    small = first_line_height(view.canvas.grab().toImage())
    view.set_scale(1.8)
    assert first_line_height(view.canvas.grab().toImage()) > 1.25 * small > 0  # shrunk only to fit the width


def test_lesson_player_steps_through_captions_and_the_view(qtbot):
    player = LessonPlayer()
    qtbot.addWidget(player)
    lesson = LESSONS["max-pooling"]
    player.set_lesson(lesson)
    assert player.caption.text() == lesson.steps[0].caption and not player.back_button.isEnabled()
    assert player.arithmetic.step() == lesson.steps[0].windows
    for _ in range(3):
        player.next_button.click()
    assert player.step() == 3 and player.arithmetic.current().pooling == "average"
    assert player.counter.text() == f"step 4 / {len(lesson.steps)}"
    player.back_button.click()
    assert player.arithmetic.current().pooling == "max"
    selected = []
    player.layer_selected.connect(selected.append)
    player.set_lesson(LESSONS["alexnet"])
    player.set_step(1)
    assert selected == [0, 3]
    player.set_scale(1.6)
    assert player.title.font().pointSizeF() > player.caption.font().pointSizeF() > 0


def test_lessons_menu_loads_the_chosen_lesson(qtbot):
    menu = QMenu()
    loaded = []
    actions = build_lessons_menu(menu, loaded.append)
    assert [a.data() for a in actions] == list(LESSONS)
    actions[3].trigger()
    assert loaded == [LESSONS["max-pooling"]]
    assert actions[0].text() == LESSONS["stride-1"].title


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_lesson_picture_is_rendered(qapp, name, tmp_path):
    image = lesson_picture(LESSONS[name], size=(900, 560))
    image.save(str(tmp_path / f"{name}.png"))
    assert (image.width(), image.height()) == (900, 560)
    assert ink(image) > 0.03
    if LESSONS[name].arithmetic is not None:
        assert orange_pixels(image) > 100


def test_a_picture_step_out_of_range_is_refused(qapp):
    with pytest.raises(ValueError, match="has steps 1…4, not 9"):
        lesson_picture(LESSONS["stride-1"], step=8)
