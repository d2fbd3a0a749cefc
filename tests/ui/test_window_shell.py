"""The window's frame: panels other helpers plug in, menus, selection model, layout memory, presentation."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from workbench.core.templates import template
from workbench.ui.shell.app import MainWindow


def test_panels_menus_and_selection_for_other_helpers(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(template("lenet5"), restore_layout=False)
    qtbot.addWidget(window)
    dock = window.add_panel(QLabel("maps"), "Activation maps", Qt.DockWidgetArea.RightDockWidgetArea, visible=False)
    toggles = [a.text() for a in window._panels_menu.actions()]
    assert toggles[:3] == ["Layers", "Inspector", "Summary"] and toggles[-1] == "Activation maps" and dock.isHidden()
    assert {"Training", "Arithmetic", "Filters", "Curves", "Lesson", "Autoencoder lab"} <= set(toggles)
    lessons = window.menu("Lessons")
    assert window.menu("Lessons") is lessons
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Lessons") == titles.index("&Help") - 1
    with qtbot.waitSignal(window.selection.changed):
        window.summary_panel.table.selectRow(3)
        window.summary_panel._clicked(window.summary_panel.model.index(3, 0))
    assert window.selection.current_index() == 2 and window.project.layer(2)["type"] == "AvgPool2d"


def test_geometry_and_dock_layout_are_remembered(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    first = MainWindow(restore_layout=True)
    qtbot.addWidget(first)
    first.show()
    first.welcome.later.click()  # a first start's guidance strip needs more height than 500 px leaves
    first.summary_dock.hide()
    first.resize(700, 500)  # inside the offscreen screen (800×600), so no clamping
    assert first.size().toTuple() == (700, 500)
    assert first.close()
    second = MainWindow(restore_layout=True)
    qtbot.addWidget(second)
    second.show()
    assert second.summary_dock.isHidden() and (second.width(), second.height()) == (700, 500)
    second.summary_dock.show()
    second.close()


def test_presentation_mode_enlarges_cards_and_text(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window = MainWindow(restore_layout=False)
    qtbot.addWidget(window)
    window.show()
    width = window.builder.card_size().width()
    row = window.summary_panel.table.verticalHeader().defaultSectionSize()
    window.action("presentation").setChecked(True)
    qtbot.waitUntil(lambda: window.builder.card_size().width() > 1.4 * width)  # fonts propagate by events
    assert window.summary_panel.table.verticalHeader().defaultSectionSize() > 1.3 * row
    window.action("presentation").setChecked(False)
    qtbot.waitUntil(lambda: window.builder.card_size().width() == width)
