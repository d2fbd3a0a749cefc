"""The builder on networks with branches, driven as a user would: what the cards and connections say,
a skip connection from the card menu or by dragging from a card's output port, a drop on a
connection, the badge's one-click projection fix; every edit undone with Ctrl+Z."""
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QMenu

from workbench.core.templates import template
from workbench.ui.editing.summary import INPUTS

from .test_window_builder import ACTIONS, palette_mime
from .test_window_support import WAIT_MS, open_window

CTRL = Qt.KeyboardModifier.ControlModifier


def ctrl_z(qtbot, window) -> None:
    """Ctrl+Z typed on the builder of the active window."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    qtbot.keyClick(window.builder.viewport(), Qt.Key.Key_Z, CTRL)


def card(window, layer_id: str):
    return next(c for c in window.builder.cards if c.id == layer_id)


def mouse(viewport, kind, pos: QPoint, buttons=Qt.MouseButton.LeftButton) -> None:
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button,
                                                 buttons, Qt.KeyboardModifier.NoModifier))


def test_resnet_opens_as_a_graph_its_adds_taking_two_inputs(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "resnet-20")
    builder, layers = window.builder, template("resnet-20")["layers"]
    assert builder.graph is not None
    add = next(i for i, layer in enumerate(layers) if layer["type"] == "Add")
    text = builder.card_text(builder.cards[add + 1])
    assert (text.title, text.volume, text.params) == ("Add", "→ 32×32×16", "2 × 32×32×16")
    into = {r.source for r in builder.graph.layout.routes if r.target == add}
    assert into == {add - 1, 2}  # the block's last BatchNorm, and the shortcut from ReLU #2
    shortcut = next(r for r in builder.graph.layout.routes if r.target == add and r.source == 2)
    assert shortcut.skip
    # the shortcut is drawn: a pixel half way along its run above the cards has the line's colour
    pieces = [r for r in builder.graph.layout.routes if r.target == add and r.source == 2]  # wrapped: two
    (x0, y), (x1, _) = max((seg for r in pieces for seg in zip(r.points, r.points[1:])),
                           key=lambda seg: abs(seg[1][0] - seg[0][0]))
    assert y < builder.graph.layout.box(add).y and x1 - x0 > 20
    builder.horizontalScrollBar().setValue(0)
    builder.verticalScrollBar().setValue(round(y) - 40)
    x, y = round((x0 + x1) / 2), round(y) - builder.verticalScrollBar().value()
    image = builder.viewport().grab().toImage()
    line, ground = image.pixelColor(x, y), image.pixelColor(x, y - 6)
    assert line != ground and line.lightness() < ground.lightness()
    # the inspector and the summary table list the Add's inputs
    window.selection.select_index(add)
    assert window.inspector.result_labels["inputs"].text() == f"#{add - 1} (32×32×16), #2 (32×32×16)"
    table = window.summary_panel
    column = table.model.headerData(INPUTS, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
    assert column == "Inputs" and not table.table.isColumnHidden(INPUTS)
    assert table.model.cells(add + 1)[INPUTS] == f"#{add - 1}, #2"


def test_a_chain_stays_a_chain_without_the_inputs_column(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "conv-autoencoder")
    assert window.builder.graph is None and window.summary_panel.table.isColumnHidden(INPUTS)
    first, second = window.builder.cards[1].rect, window.builder.cards[2].rect
    assert first.top() == second.top() and first.left() < second.left()  # cards flow as text


def test_a_skip_connection_from_the_card_menu_and_ctrl_z(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "conv-autoencoder")
    original = window.project.to_dict()
    relu4, relu7 = window.project.layer(4)["id"], window.project.layer(7)["id"]
    menu = window.builder.menu_for(card(window, relu7))
    skip = next(a.menu() for a in menu.actions() if a.text() == "Add a skip connection from…")
    offer = next(a for a in skip.actions() if a.text().startswith("#4 ReLU"))
    assert offer.font().bold()  # 16×16×16 both: the sum needs nothing more
    offer.trigger()
    add = window.project.layer(8)
    assert add["type"] == "Add" and add["inputs"] == [relu7, relu4]
    assert window.builder.graph is not None and window.selection.ids == [add["id"]]
    assert window.builder.card_text(card(window, add["id"])).params == "2 × 16×16×16"
    assert window.summary.summary["first_error"] is None
    ctrl_z(qtbot, window)
    assert window.project.to_dict() == original and window.builder.graph is None


def test_dragging_from_an_output_port_onto_a_later_card_connects_them(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "conv-autoencoder")
    builder, viewport = window.builder, window.builder.viewport()
    builder.ensure_visible(window.project.layer(4)["id"])
    relu4, relu7 = window.project.layer(4)["id"], window.project.layer(7)["id"]
    source, target = builder.card_rect(relu4), builder.card_rect(relu7)
    port = QPoint(source.right(), source.top() + builder.port_dy())
    mouse(viewport, QMouseEvent.Type.MouseButtonPress, port)
    mouse(viewport, QMouseEvent.Type.MouseMove, target.center())
    mouse(viewport, QMouseEvent.Type.MouseButtonRelease, target.center(), Qt.MouseButton.NoButton)
    add = window.project.layer(8)
    assert add["type"] == "Add" and add["inputs"] == [relu7, relu4]
    assert window.editor.stack.count() == 1
    window.editor.stack.undo()
    assert len(window.project) == 10


def test_escape_lets_a_dragged_connection_go(qtbot, tmp_path, monkeypatch) -> None:
    """Escape during a drag from an output port: the line goes, and the release on a later card
    connects nothing (as Escape cancels a card drag)."""
    window = open_window(qtbot, tmp_path, monkeypatch, "conv-autoencoder")
    builder, viewport = window.builder, window.builder.viewport()
    builder.ensure_visible(window.project.layer(4)["id"])
    source, target = builder.card_rect(window.project.layer(4)["id"]), builder.card_rect(window.project.layer(7)["id"])
    port = QPoint(source.right(), source.top() + builder.port_dy())
    original = window.project.to_dict()
    mouse(viewport, QMouseEvent.Type.MouseButtonPress, port)
    mouse(viewport, QMouseEvent.Type.MouseMove, target.center())
    dragging = viewport.grab().toImage()
    qtbot.keyClick(builder, Qt.Key.Key_Escape)
    let_go = viewport.grab().toImage()
    mouse(viewport, QMouseEvent.Type.MouseButtonRelease, target.center(), Qt.MouseButton.NoButton)
    assert window.project.to_dict() == original and window.editor.stack.count() == 0
    assert dragging != let_go  # the dragged line is no longer drawn


def test_a_drop_lands_on_the_connection_the_indicator_shows(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "resnet-20")
    builder, viewport = window.builder, window.builder.viewport()
    original = window.project.to_dict()
    add, shortcut = window.project.index_of("l1b1_add"), window.project.layer(2)["id"]
    builder.ensure_visible("l1b1_add")
    rect = builder.card_rect("l1b1_add")
    port = next(p for p in builder.graph.layout.ports if p.target == add and p.source == 2)
    pos = QPoint(rect.left() + 6, round(port.y) - builder.verticalScrollBar().value())  # left of its upper port
    mime = palette_mime(window, "Conv2d")
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, ACTIONS, mime, Qt.MouseButton.LeftButton,
                                                     Qt.KeyboardModifier.NoModifier))
    assert (builder.drop_spot.source, builder.drop_spot.target) == (shortcut, "l1b1_add")
    assert builder.graph.routes_of(builder.drop_spot)  # the shortcut is drawn highlighted
    drop = QDropEvent(QPointF(pos), ACTIONS, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    assert drop.isAccepted() and builder.drop_spot is None
    new = window.project.layer(add)
    assert new["type"] == "Conv2d" and new["inputs"] == [shortcut] and window.selection.ids == [new["id"]]
    assert window.project.layer(add + 1)["inputs"][1] == new["id"]  # the Add takes it on its shortcut
    window.editor.stack.undo()
    assert window.project.to_dict() == original


def test_the_badge_of_a_bad_add_inserts_its_projection_in_one_click(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "resnet-20")
    builder = window.builder
    window.selection.select_index(window.project.index_of("l2b1_down"))
    window.delete_selected()
    assert window.summary.summary["first_error"] is not None
    assert "no totals" in window.summary_panel.totals.text() or "✖" in window.summary_panel.totals.text()
    builder.ensure_visible("l2b1_add")
    rect = builder.card_rect("l2b1_add")
    qtbot.mouseClick(builder.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.center().x(), rect.bottom() - 6))
    assert window.summary.summary["first_error"] is None
    assert "✖" not in window.summary_panel.totals.text()
    projection = window.summary.row(window.selection.ids[0])
    assert projection["label"].startswith("Conv 32 @ 1×1, s2") and projection["output"] == [32, 16, 16]
    ctrl_z(qtbot, window)
    assert window.summary.summary["first_error"] is not None


def test_only_the_cards_in_view_are_painted(qtbot, tmp_path, monkeypatch) -> None:
    from workbench.ui.editing.builder import Builder

    window = open_window(qtbot, tmp_path, monkeypatch, "resnet18")
    painted = []
    paint_card = Builder._paint_card
    monkeypatch.setattr(Builder, "_paint_card", lambda self, *a: painted.append(1) or paint_card(self, *a))
    window.builder.viewport().update()
    qtbot.waitUntil(lambda: len(painted) > 0, timeout=WAIT_MS)
    assert len(painted) < len(window.builder.cards) / 2


def test_the_card_menu_of_a_merge_connects_and_disconnects(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "inception-block")
    builder = window.builder
    mixed = window.project.index_of("mixed")
    before = list(window.project.layer(mixed)["inputs"])
    menu: QMenu = builder.menu_for(card(window, "mixed"))
    disconnect = next(a.menu() for a in menu.actions() if a.text() == "Disconnect")
    disconnect.actions()[-1].trigger()
    assert window.project.layer(mixed)["inputs"] == before[:-1]
    assert builder.card_text(card(window, "mixed")).params.startswith("16×16×(")
    window.editor.stack.undo()
    assert window.project.layer(mixed)["inputs"] == before


def test_a_connection_dragged_onto_a_merge_becomes_one_more_input(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "inception-block")
    builder, viewport = window.builder, window.builder.viewport()
    stem, mixed = window.project.index_of("stem"), window.project.index_of("mixed")
    before = list(window.project.layer(mixed)["inputs"])
    builder.ensure_visible("stem")
    source = builder.card_rect("stem")
    mouse(viewport, QMouseEvent.Type.MouseButtonPress, QPoint(source.right(), source.top() + builder.port_dy()))
    target = builder.card_rect("mixed").center()
    mouse(viewport, QMouseEvent.Type.MouseMove, target)
    mouse(viewport, QMouseEvent.Type.MouseButtonRelease, target, Qt.MouseButton.NoButton)
    assert window.project.layer(mixed)["inputs"] == [*before, "stem"] and stem < mixed
    assert window.summary.row("mixed")["output"] == [56 + 32, 16, 16]  # 32 more channels stacked
    ctrl_z(qtbot, window)
    assert window.project.layer(mixed)["inputs"] == before


def test_a_card_dragged_onto_a_connection_moves_there(qtbot, tmp_path, monkeypatch) -> None:
    window = open_window(qtbot, tmp_path, monkeypatch, "resnet-20")
    builder, viewport = window.builder, window.builder.viewport()
    original = window.project.to_dict()
    moved, after = window.project.layer(1)["id"], window.project.layer(3)["id"]  # a BatchNorm; the block's conv
    four = builder.card_rect(window.project.layer(4)["id"])
    pos = QPoint(four.left() + 4, four.top() + builder.port_dy())
    mime = builder.cards_mime([1])
    QApplication.sendEvent(viewport, QDragEnterEvent(pos, ACTIONS, mime, Qt.MouseButton.LeftButton,
                                                     Qt.KeyboardModifier.NoModifier))
    assert (builder.drop_spot.source, builder.drop_spot.target) == (after, window.project.layer(4)["id"])
    QApplication.sendEvent(viewport, QDropEvent(QPointF(pos), ACTIONS, mime, Qt.MouseButton.LeftButton,
                                                Qt.KeyboardModifier.NoModifier))
    assert window.project.ids()[2:4] == [after, moved]
    assert window.summary.row(moved)["inputs"] == [after] and window.summary.summary["first_error"] is None
    window.editor.stack.undo()
    assert window.project.to_dict() == original


def test_filters_and_activations_of_layers_on_branches(qtbot, tiny_run) -> None:
    from workbench.core.inference import summarize
    from workbench.training.run_folder import open_run
    from workbench.ui.insight import InsightHub

    run = open_run(tiny_run("inception-block"))
    hub = InsightHub()
    for panel in hub.panels.values():
        qtbot.addWidget(panel)
        panel.resize(700, 500)
        panel.show()
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    ids = [layer["id"] for layer in run.project["layers"]]
    hub["filters"].set_layer(ids.index("b5x5"))  # the 5×5 branch's conv: 8 filters
    qtbot.waitUntil(lambda: hub["filters"].mosaic.count == 8, timeout=WAIT_MS)
    hub["activations"].set_layer(ids.index("mixed"))  # the Concat: 16 + 24 + 8 + 8 depth slices
    qtbot.waitUntil(lambda: hub["activations"].sections[-1][2] is not None, timeout=WAIT_MS)
    assert hub["activations"].sections[-1][2].count == 56
