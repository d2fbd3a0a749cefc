"""The layer palette: the catalogue grouped by category, with a filter; drag a layer out of it.

A drag carries the layer kind's name under MIME_LAYER; the builder accepts it. Double-click (or
Enter) asks to insert the layer after the current selection, for keyboard users.
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QLineEdit, QStyle, QTreeWidget, QTreeWidgetItem, QVBoxLayout,
                               QWidget)

from workbench.core.catalogue import CATALOGUE, CATEGORIES
from workbench.ui.shell.icons import category_icon

MIME_LAYER = "application/x-workbench-layer"
KIND_ROLE = Qt.ItemDataRole.UserRole


class PaletteTree(QTreeWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setIconSize(QSize(22, 22))
        self.setIndentation(10)
        self.setUniformRowHeights(True)
        for category in CATEGORIES:
            group = QTreeWidgetItem(self, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for kind in CATALOGUE.values():
                if kind.category == category:
                    item = QTreeWidgetItem(group, [kind.name])
                    item.setIcon(0, category_icon(category))
                    item.setToolTip(0, f"<b>{kind.name}</b><br>{kind.description}<br><i>Drag into the network</i>")
                    item.setData(0, KIND_ROLE, kind.name)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsDragEnabled)
        self.expandAll()

    def mimeTypes(self) -> list[str]:
        return [MIME_LAYER]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        kinds = [item.data(0, KIND_ROLE) for item in items if item.data(0, KIND_ROLE)]
        if kinds:
            data.setData(MIME_LAYER, kinds[0].encode())
            data.setText(kinds[0])
        return data

    def item_for(self, kind: str) -> QTreeWidgetItem:
        return next(item for item in self._leaves() if item.data(0, KIND_ROLE) == kind)

    def _leaves(self) -> list[QTreeWidgetItem]:
        return [self.topLevelItem(g).child(i) for g in range(self.topLevelItemCount())
                for i in range(self.topLevelItem(g).childCount())]

    def filter(self, text: str) -> None:
        text = text.strip().lower()
        for g in range(self.topLevelItemCount()):
            group = self.topLevelItem(g)
            shown = 0
            for i in range(group.childCount()):
                item = group.child(i)
                kind = CATALOGUE[item.data(0, KIND_ROLE)]
                hit = not text or text in kind.name.lower() or text in kind.description.lower() \
                    or text in kind.category.lower()
                item.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)


class Palette(QWidget):
    insert_requested = Signal(str)  # a layer kind's name

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Filter layers…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only the layers whose name or description contains this text")
        self.tree = PaletteTree()
        self.search.textChanged.connect(self.tree.filter)
        self.tree.itemActivated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)

    def _activated(self, item: QTreeWidgetItem) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.insert_requested.emit(kind)

    def sizeHint(self) -> QSize:
        """As wide as its longest entry ("Normalization & regularization" in bold), so none is cut."""
        tree = self.tree
        scroll = tree.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        margins = self.layout().contentsMargins()
        width = (tree.sizeHintForColumn(0) + tree.indentation() + 2 * tree.frameWidth() + scroll
                 + margins.left() + margins.right())
        return QSize(max(width, self.search.sizeHint().width()), 600)
