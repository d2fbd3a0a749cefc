"""The builder driven as a user would: drag from the palette, drop, reorder, delete, duplicate, undo."""
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from workbench.core.templates import template
from workbench.ui.shell.app import MainWindow
from workbench.ui.editing.model import INPUT_ID

from .test_window_support import open_window

ACTIONS = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch)


def drag_and_drop(target, mime, pos: QPoint) -> tuple[int | None, bool]:
    """Enter, move and drop on `target` (the builder's viewport); returns (indicator gap, accepted)."""
    QApplication.sendEvent(target, QDragEnterEvent(pos, ACTIONS, mime, Qt.MouseButton.LeftButton,
                                                   Qt.KeyboardModifier.NoModifier))
    move = QDragMoveEvent(pos, ACTIONS, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, move)
    shown = target.parent().drop_gap
    drop = QDropEvent(QPointF(pos), ACTIONS, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return shown, drop.isAccepted()


def palette_mime(window, kind: str):
    tree = window.palette_panel.tree
    return tree.mimeData([tree.item_for(kind)])


def card_titles(window) -> list[str]:
    return [window.builder.card_text(card).title for card in window.builder.cards]


def left_part_of(window, index: int) -> QPoint:
    rect = window.builder.card_rect(window.project.layer(index)["id"])
    return QPoint(rect.left() + 8, rect.center().y())


def test_cards_show_label_volume_params_like_the_lecture(window):
    texts = [window.builder.card_text(card) for card in window.builder.cards[:2]]
    assert (texts[0].title, texts[0].volume) == ("Input", "227×227×3")
    assert (texts[1].title, texts[1].volume, texts[1].params) == ("Conv 96 @ 11×11, s4, p0", "→ 55×55×96",
                                                                 "34,944 params")
    image = window.builder.viewport().grab().toImage()
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}) > 20


def test_drop_from_palette_inserts_where_the_indicator_shows(window, qtbot):
    viewport = window.builder.viewport()
    shown, accepted = drag_and_drop(viewport, palette_mime(window, "BatchNorm2d"), left_part_of(window, 1))
    assert accepted and shown == 1
    assert card_titles(window)[1:4] == ["Conv 96 @ 11×11, s4, p0", "BatchNorm", "ReLU"]
    assert window.builder.drop_gap is None  # the indicator goes away after the drop
    assert window.selection.current_index() == 1
    row = window.summary_panel.model.cells(2)
    assert row[1:4] == ("BatchNorm", "55×55×96", "192")
    assert window.summary_panel.totals.text().startswith("<b>Total: 62,378,536 parameters")
    window.action("undo").trigger()
    assert "BatchNorm" not in card_titles(window)
    window.action("redo").trigger()
    assert card_titles(window)[2] == "BatchNorm"


def test_drop_on_empty_space_after_the_last_card_appends(window):
    viewport = window.builder.viewport()
    window.builder.verticalScrollBar().setValue(window.builder.verticalScrollBar().maximum())
    last = window.builder.card_rect(window.project.layer(len(window.project) - 1)["id"])
    _, accepted = drag_and_drop(viewport, palette_mime(window, "Linear"), QPoint(last.right() + 40, last.center().y()))
    assert accepted and card_titles(window)[-1] == "FC 64"
    assert window.builder.card_text(window.builder.cards[-1]).volume == "→ 64"


def test_a_foreign_drop_is_refused(window):
    from PySide6.QtCore import QMimeData

    mime = QMimeData()
    mime.setText("Conv2d")
    _, accepted = drag_and_drop(window.builder.viewport(), mime, left_part_of(window, 1))
    assert not accepted and len(window.project) == 24


def test_reorder_by_dragging_a_card_and_undo(window):
    before = card_titles(window)
    mime = window.builder.cards_mime([3])  # the first MaxPool, dragged before the first conv
    _, accepted = drag_and_drop(window.builder.viewport(), mime, left_part_of(window, 0))
    assert accepted
    assert card_titles(window)[1:3] == ["MaxPool 3×3, s2", "Conv 96 @ 11×11, s4, p0"]
    assert window.builder.card_text(window.builder.cards[1]).volume == "→ 113×113×3"
    assert window.builder.card_text(window.builder.cards[2]).volume == "→ 26×26×96"
    window.action("undo").trigger()
    assert card_titles(window) == before


def test_delete_duplicate_multiselect_with_the_mouse(window, qtbot):
    viewport = window.builder.viewport()
    relu = window.builder.card_rect(window.project.layer(1)["id"]).center()
    lrn = window.builder.card_rect(window.project.layer(2)["id"]).center()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=relu)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, pos=lrn)
    assert window.selection.indices() == [1, 2]
    window.action("duplicate").trigger()
    assert card_titles(window)[1:6] == ["Conv 96 @ 11×11, s4, p0", "ReLU", "LRN", "ReLU", "LRN"]
    assert window.selection.indices() == [3, 4]
    window.action("delete").trigger()
    window.selection.set([window.project.layer(0)["id"]])
    window.action("delete").trigger()
    assert card_titles(window)[1:3] == ["ReLU", "LRN"]
    assert window.builder.card_text(window.builder.cards[1]).volume == "227×227×3"
    for _ in range(3):
        window.action("undo").trigger()
    assert card_titles(window) == ["Input"] + [r["label"] for r in MainWindow(template("alexnet")).summary.summary[
        "layers"]]


def test_error_badge_and_first_error_row(window):
    window.selection.set([INPUT_ID])
    boxes = window.inspector.editors
    boxes["1"].setValue(8)  # H = 8: an 11×11 window no longer fits
    conv = window.builder.card_text(window.builder.cards[1])
    assert conv.status == "error" and "larger than the padded input" in conv.message
    assert window.builder.card_text(window.builder.cards[2]).status == "unknown"
    model = window.summary_panel.model
    assert model.data(model.index(1, 0), Qt.ItemDataRole.BackgroundRole) is not None  # highlighted row
    assert model.data(model.index(2, 0), Qt.ItemDataRole.BackgroundRole) is None
    assert "✖ layer 0:" in window.summary_panel.totals.text()


def test_clicking_a_summary_row_selects_the_card(window, qtbot):
    table = window.summary_panel.table
    rect = table.visualRect(window.summary_panel.model.index(5, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.selection.current_index() == 4
    assert window.inspector.result_labels["formula"].text() == "1 + (27 − 5 + 2·2)/1 = 27"


def test_dragging_a_card_with_the_mouse_starts_a_card_drag(window, qtbot, monkeypatch):
    started = []
    monkeypatch.setattr(window.builder, "start_card_drag", started.append)
    viewport = window.builder.viewport()
    start = window.builder.card_rect(window.project.layer(3)["id"]).center()
    press = QMouseEvent(QMouseEvent.Type.MouseButtonPress, QPointF(start), QPointF(viewport.mapToGlobal(start)),
                        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, press)
    end = start + QPoint(60, 0)
    move = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(end), QPointF(viewport.mapToGlobal(end)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, move)
    assert started == [[3]]


def test_locked_editing_shows_a_banner(window):
    window.set_editing_locked(True, "Training run 3: edits apply to the next run")
    assert window.builder.locked_reason.startswith("Training run 3")
    window.set_editing_locked(False)
    assert window.builder.locked_reason == ""


def _random_ui_edit(window, rng) -> None:
    """One thing a user might do, through the real widgets."""
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

    from workbench.core.catalogue import CATALOGUE
    from workbench.core.templates import TEMPLATES
    from workbench.ui.editing.inspector import PairEditor

    palette_kinds = [name for name, kind in CATALOGUE.items() if not kind.opaque]  # opaque cards are only imported
    builder, viewport = window.builder, window.builder.viewport()
    bar = builder.verticalScrollBar()
    bar.setValue(rng.randint(0, bar.maximum()))
    point = QPoint(rng.randrange(viewport.width()), rng.randrange(viewport.height()))
    n = len(window.project)
    op = rng.choice(["drop", "drop", "move", "delete", "duplicate", "param", "param", "param", "input", "template",
                     "undo", "redo"])
    if op == "drop":
        drag_and_drop(viewport, palette_mime(window, rng.choice(palette_kinds)), point)
    elif op == "move" and n:
        drag_and_drop(viewport, builder.cards_mime(rng.sample(range(n), rng.randint(1, min(3, n)))), point)
    elif op in ("delete", "duplicate") and n:
        window.selection.set([window.project.layer(i)["id"] for i in rng.sample(range(n), rng.randint(1, min(2, n)))])
        window.action(op).trigger()
    elif op == "param" and n:
        window.selection.select_index(rng.randrange(n))
        editors = list(window.inspector.editors.values())
        if not editors:
            return
        widget = rng.choice(editors)
        if isinstance(widget, PairEditor):
            widget.square.setChecked(rng.random() < 0.3)
            widget.h.setValue(rng.randint(widget.h.minimum(), 13))
        elif isinstance(widget, QSpinBox):
            widget.setValue(rng.randint(widget.minimum(), 300))
        elif isinstance(widget, QDoubleSpinBox):
            widget.setValue(rng.uniform(widget.minimum(), min(widget.maximum(), 3.0)))
        elif isinstance(widget, QCheckBox):
            widget.toggle()
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(rng.randrange(widget.count()))
        elif isinstance(widget, QLineEdit):
            widget.setText(rng.choice(["16, 4, 4", "1, 8, 8", "64", "3, x"]))
            widget.editingFinished.emit()
    elif op == "input":
        window.selection.set([INPUT_ID])
        box = rng.choice(list(window.inspector.editors.values()))
        box.setValue(rng.randint(1, 240))
    elif op == "template":
        window.action(f"template:{rng.choice(list(TEMPLATES))}").trigger()
    elif op in ("undo", "redo"):
        window.action(op).trigger()


def test_200_random_ui_edits_never_raise_and_undo_all_restores(window):
    import random

    rng = random.Random(7)
    original = window.project.to_dict()
    for _ in range(200):
        _random_ui_edit(window, rng)
        window.builder.viewport().repaint()  # paint every state, errors and all
    assert window.editor.stack.count() > 60
    while window.editor.stack.canUndo():
        window.action("undo").trigger()
    assert window.project.to_dict() == original
    assert [window.builder.card_text(c).title for c in window.builder.cards[1:3]] == ["Conv 96 @ 11×11, s4, p0", "ReLU"]
