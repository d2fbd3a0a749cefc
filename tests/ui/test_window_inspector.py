"""The inspector: a form from the schema; every change re-infers at once and is one undo step."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox

from workbench.ui.editing.inspector import PairEditor, RangeSpinBox
from workbench.ui.editing.model import INPUT_ID

from .test_window_support import open_window


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch)


def test_form_follows_the_schema_and_shows_the_lecture_numbers(window):
    editors = window.inspector.editors
    assert list(editors) == ["out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
                             "padding_mode"]
    assert isinstance(editors["kernel_size"], PairEditor) and isinstance(editors["bias"], QCheckBox)
    assert isinstance(editors["padding_mode"], QComboBox) and editors["out_channels"].maximum() == 65_536
    labels = window.inspector.result_labels
    assert labels["formula"].text() == "1 + (227 − 11 + 2·0)/4 = 55"
    assert labels["receptive_field"].text() == "11×11"
    assert (labels["params"].text(), labels["params_unshared"].text()) == ("34,944", "105,705,600")


def test_typing_a_value_reinfers_at_once_and_steps_merge_into_one_undo(window, qtbot):
    padding = window.inspector.editors["padding"].h
    padding.setFocus()
    qtbot.keyClick(padding, Qt.Key.Key_Up)
    qtbot.keyClick(padding, Qt.Key.Key_Up)
    assert window.inspector.result_labels["formula"].text() == "1 + (227 − 11 + 2·2)/4 = 56"
    assert window.builder.card_text(window.builder.cards[1]).volume == "→ 56×56×96"
    assert window.summary_panel.model.cells(1)[2] == "56×56×96"
    assert window.editor.stack.count() == 1  # two steps, one undo
    window.action("undo").trigger()
    assert window.inspector.result_labels["formula"].text() == "1 + (227 − 11 + 2·0)/4 = 55"
    assert padding.value() == 0 and "padding" not in window.project.layer(0)


def test_out_of_range_value_is_refused_with_a_message(window, qtbot):
    kernel = window.inspector.editors["kernel_size"].h
    kernel.selectAll()
    qtbot.keyClicks(kernel, "5000")
    assert "kernel_size = 5000 is out of range (1…1024)" in window.inspector.message.text()
    assert window.project.layer(0)["kernel_size"] == 500  # the last accepted keystroke
    out = window.inspector.editors["out_channels"]
    out.selectAll()
    qtbot.keyClicks(out, "0")
    qtbot.keyClick(out, Qt.Key.Key_Return)
    assert "out_channels = 0 is out of range" in window.inspector.message.text()


def test_non_square_kernel_and_optional_stride(window):
    window.selection.select_index(3)  # MaxPool 3×3, s2
    stride = window.inspector.editors["stride"]
    stride.h.setValue(stride.h.minimum())  # "auto": the stride equals the kernel
    assert window.project.layer(3)["stride"] is None
    assert window.builder.card_text(window.builder.cards[4]).title == "MaxPool 3×3, s3"
    window.selection.select_index(0)
    kernel = window.inspector.editors["kernel_size"]
    kernel.square.setChecked(True)
    kernel.w.setValue(7)
    assert window.project.layer(0)["kernel_size"] == [11, 7]
    assert window.inspector.result_labels["formula"].text().startswith("H: 1 + (227 − 11 + 2·0)/4 = 55; W:")


def test_checkbox_combo_and_input_edits(window):
    window.inspector.editors["bias"].setChecked(False)
    assert window.inspector.result_labels["params"].text() == "34,848"
    window.inspector.editors["padding_mode"].setCurrentText("reflect")
    assert window.project.layer(0)["padding_mode"] == "reflect"
    window.selection.set([INPUT_ID])
    editors = window.inspector.editors
    assert [editors[k].value() for k in "012"] == [3, 227, 227]
    editors["1"].setValue(231)
    editors["2"].setValue(231)
    assert window.builder.card_text(window.builder.cards[1]).volume == "→ 56×56×96"
    assert window.editor.stack.count() == 3  # bias, padding_mode, and the merged input edit
    window.action("undo").trigger()
    assert window.project.input == [3, 227, 227] and editors["1"].value() == 227


def test_unflatten_list_entry(window, qtbot):
    window.files.load_template("autoencoder")
    window.selection.select_index(5)
    entry = window.inspector.editors["unflattened_size"]
    assert entry.text() == "1, 8, 8"
    entry.setFocus()
    entry.selectAll()
    qtbot.keyClicks(entry, "4, 4, 4")
    qtbot.keyClick(entry, Qt.Key.Key_Return)
    assert window.project.layer(5)["unflattened_size"] == [4, 4, 4]
    entry.selectAll()
    qtbot.keyClicks(entry, "4, x")
    qtbot.keyClick(entry, Qt.Key.Key_Return)
    assert "not a list of integers" in window.inspector.message.text()


def test_range_spin_box_accepts_values_in_range(qtbot):
    box = RangeSpinBox("k", 1, 10)
    qtbot.addWidget(box)
    seen = []
    box.refused.connect(seen.append)
    box.selectAll()
    qtbot.keyClicks(box, "7")
    assert box.value() == 7 and seen == []
