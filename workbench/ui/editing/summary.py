"""The summary table: every layer's output, parameters, MACs, memory and receptive field; totals;
the first error highlighted. Clicking a row selects that card."""
from __future__ import annotations

import heapq
import math

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QStyle, QTableView, QVBoxLayout, QWidget

from workbench.core.graph import is_branched
from workbench.core.summary import fmt_count, fmt_inputs, fmt_output
from workbench.ui.editing.health_cards import LEVEL_COLOURS
from workbench.ui.editing.health_marks import LayerMark
from workbench.ui.editing.health_model import HealthModel
from workbench.ui.editing.model import INPUT_ID, SelectionModel, SummaryModel
from workbench.ui.shell.style import ERROR, WARNING

COLUMNS = ("#", "Layer", "Output", "Params", "Without sharing", "MACs", "Time", "Memory", "RF", "Inputs", "Notes")
INPUTS = COLUMNS.index("Inputs")  # shown for a network with branches (in a chain, each takes the one before)
_TIPS = ("Layer index", "Card text", "Output volume W×H×D", "Learned parameters (weights shared)",
         "Parameters if no weights were shared", "Multiply-accumulates per sample",
         "Measured forward and backward time per batch (the run trained or opened)",
         "Output activations per sample (float32)", "Receptive field (input pixels per side)",
         "The cards whose outputs the layer takes", "Warnings and errors; a run's health findings")
_RIGHT = {0, 3, 4, 5, 6, 7, 8}
TIME = COLUMNS.index("Time")


def memory_text(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 ** 2:,.2f} MiB"


class SummaryTableModel(QAbstractTableModel):
    def __init__(self, summary: SummaryModel):
        super().__init__()
        self.summary = summary
        self._cells: dict[int, tuple[str, ...]] = {}  # a row's texts, made once per summary
        self._rows = self.rowCount()
        self.health: HealthModel | None = None  # a run's time per layer and findings (set_health)
        summary.updated.connect(self._reset)

    def set_health(self, model: HealthModel) -> None:
        self.health = model
        model.changed.connect(self._reset)

    def mark(self, row: int) -> LayerMark | None:
        marks = self.health.marks() if self.health is not None and row else {}
        return marks.get(self.summary.summary["layers"][row - 1]["id"]) if marks else None

    def _reset(self) -> None:
        self._cells.clear()
        rows = 1 + len(self.summary.summary["layers"])
        if rows == self._rows:  # an edit of a layer: new texts in the same rows, and the selection stays
            self.dataChanged.emit(self.index(0, 0), self.index(rows - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def widest(self, count: int = 3) -> list[list[str]]:
        """Each column's longest texts (by characters), the candidates for its width."""
        columns = zip(*(self.cells(row) for row in range(self.rowCount())))
        return [heapq.nlargest(count, set(texts), key=len) for texts in columns]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else 1 + len(self.summary.summary["layers"])

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return _TIPS[section]
        return None

    def cells(self, row: int) -> tuple[str, ...]:
        if row not in self._cells:
            texts, mark = self._texts(row), self.mark(row)
            time = mark.per_batch if mark is not None else ""
            notes = texts[-1] or (mark.headline if mark is not None else "")
            self._cells[row] = (*texts[:TIME], time, *texts[TIME:-1], notes)
        return self._cells[row]

    def _texts(self, row: int) -> tuple[str, ...]:
        s = self.summary.summary
        if row == 0:
            return ("", "Input", fmt_output(s["input"]), "", "", "", memory_text(4 * math.prod(s["input"])), "1", "", "")
        r = s["layers"][row - 1]
        out = fmt_output(r["output"])
        return (str(r["index"]), r["label"], out, fmt_count(r["params"]), fmt_count(r["params_unshared"]), fmt_count(r["macs"]),
                memory_text(r["memory"]), fmt_count(r["receptive_field"]), fmt_inputs(s, r, volumes=False), r["message"])

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        mark = self.mark(row) if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole) else None
        if role == Qt.ItemDataRole.ToolTipRole and mark is not None and col in (TIME, len(COLUMNS) - 1):
            return "\n".join(t for t in (*mark.sentences, mark.time, mark.slow_sentence) if t) or None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cells(row)[col]
        status = self.summary.summary["layers"][row - 1]["status"] if row else "ok"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int((Qt.AlignmentFlag.AlignRight if col in _RIGHT else Qt.AlignmentFlag.AlignLeft)
                       | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and row and row - 1 == self.summary.summary["first_error"]:
            return QBrush(QColor(ERROR.red(), ERROR.green(), ERROR.blue(), 70))
        if role == Qt.ItemDataRole.ForegroundRole and status == "warning" and col == len(COLUMNS) - 1:
            return QBrush(WARNING)
        if role == Qt.ItemDataRole.ForegroundRole and mark is not None:
            if col == len(COLUMNS) - 1 and mark.level is not None:
                return QBrush(LEVEL_COLOURS[mark.level].darker(115))
            if col == TIME and mark.slow:
                return QBrush(WARNING.darker(115))
        if role == Qt.ItemDataRole.FontRole and col == 2:
            font = QFont()
            font.setBold(True)
            return font
        return None



class SummaryPanel(QWidget):
    def __init__(self, summary: SummaryModel, selection: SelectionModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary, self.selection = summary, selection
        self.model = SummaryTableModel(summary)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        # Columns are fitted to their longest texts here (`_fit_columns`), not by Qt's ResizeToContents,
        # which asked every cell for its size hint after each edit: 0.5 s for a 1,000-layer network.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.totals = QLabel()
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.totals.setWordWrap(True)  # a long error message must not widen the window
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self.table.clicked.connect(self._clicked)
        summary.updated.connect(self._refresh)
        selection.changed.connect(self._select_row)
        self._refresh()

    def changeEvent(self, event) -> None:  # noqa: ANN001 - Qt override
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:  # presentation mode: taller rows, wider columns
            self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
            self._fit_columns()

    def set_health(self, model: HealthModel) -> None:
        """A run's measured times and findings in the Time and Notes columns."""
        self.model.set_health(model)
        model.changed.connect(self._fit_columns)

    def _fit_columns(self) -> None:
        """Each column as wide as its longest text (the output column's is bold) or its title."""
        plain = self.table.fontMetrics()
        bold_font = QFont(self.table.font())
        bold_font.setBold(True)
        bold = QFontMetrics(bold_font)
        header = self.table.horizontalHeader()
        pad = 2 * self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.table) + 12
        widest = self.model.widest()
        for column in range(len(COLUMNS) - 1):  # the notes stretch to the edge
            metrics = bold if column == 2 else plain
            width = max([metrics.horizontalAdvance(text) for text in widest[column]] + [0])
            header.resizeSection(column, max(width + pad, header.sectionSizeHint(column)))

    def _clicked(self, index: QModelIndex) -> None:
        self.selection.select_index(index.row() - 1)

    def _refresh(self) -> None:
        s = self.summary.summary
        if s["first_error"] is not None:  # totals of a network that cannot be built would be made up
            text = (f"<span style='color:{ERROR.name()}'><b>✖ layer {s['first_error']}:</b> "
                    f"{s['layers'][s['first_error']]['message']}</span> · no totals until it is fixed")
        else:
            text = (f"<b>Total: {s['total_params']:,} parameters</b> ({s['total_params_unshared']:,} without "
                    f"sharing) · {s['total_macs']:,} MACs · {memory_text(s['total_memory'])} activations per sample"
                    f" · output <b>{fmt_output(s['output'])}</b>")
        self.totals.setText(text)
        self.table.setColumnHidden(INPUTS, not is_branched(s["layers"]))  # type: ignore[arg-type]
        self._fit_columns()
        self._select_row()

    def _select_row(self) -> None:
        current = self.selection.current
        index = self.selection.current_index()
        row = 0 if current == INPUT_ID else (index + 1 if index is not None else None)
        selected = [index.row() for index in self.table.selectionModel().selectedRows()]
        if selected == ([] if row is None else [row]):
            return  # already shown (an edit that kept the rows): selecting again re-measures the columns
        self.table.blockSignals(True)
        if row is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)
        self.table.blockSignals(False)
