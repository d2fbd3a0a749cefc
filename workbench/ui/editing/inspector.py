"""The inspector: a form generated from the selected layer's parameter schema, and what it computes.

Every change is a command at once (no Apply button): the summary re-infers and the results below
the form (the size formula on the real numbers, receptive field, parameters with and without
sharing) follow. Values outside a parameter's range are refused with a message.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QScrollArea, QSpinBox, QVBoxLayout, QWidget)

from workbench.core.catalogue import CATALOGUE, Param, fmt_shape, pair
from workbench.core.commands import SetInput, SetParam
from workbench.core.project import MAX_CHANNELS, MAX_SIZE
from workbench.ui.editing.model import INPUT_ID, SelectionModel, SummaryModel
from workbench.ui.editing.undo import Editor
from workbench.ui.shell.style import ERROR, WARNING, colour_text
from workbench.core.summary import LayerRow, fmt_count, fmt_inputs

SPIN_MAX = 2**31 - 1


class RangeSpinBox(QSpinBox):
    """A spin box that says why a typed value is refused instead of silently ignoring it."""

    refused = Signal(str)

    def __init__(self, name: str, low: float | None, high: float | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.name = name
        self.setRange(int(low if low is not None else -SPIN_MAX), int(min(high or SPIN_MAX, SPIN_MAX)))
        self.setKeyboardTracking(True)
        self.setAccelerated(True)

    def validate(self, text: str, pos: int) -> object:
        result = super().validate(text, pos)
        if result[0] == QValidator.State.Invalid:
            self._refuse(text)
        return result

    def fixup(self, text: str) -> str:
        """Called on Enter or focus loss with an unfinished value such as 0 for a minimum of 1."""
        self._refuse(text)
        return super().fixup(text)

    def _refuse(self, text: str) -> None:
        try:
            value = int(text.strip())
        except ValueError:
            return
        if not self.minimum() <= value <= self.maximum():
            self.refused.emit(f"{self.name} = {value} is out of range ({self.minimum()}…{self.maximum()})")


class PairEditor(QWidget):
    """One spin box for square sizes, a second for non-square ones; "auto" for an optional None."""

    changed = Signal(object)

    def __init__(self, param: Param, parent: QWidget | None = None):
        super().__init__(parent)
        self.param = param
        low = int(param.low or 0)
        self.h = RangeSpinBox(param.name, low - (1 if param.optional else 0), param.high)
        self.w = RangeSpinBox(param.name, low, param.high)
        if param.optional:
            self.h.setSpecialValueText("auto (= kernel)")
        self.square = QCheckBox("H×W")
        self.square.setToolTip("Give height and width separately (non-square)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.h, self.w, self.square):
            layout.addWidget(widget)
        self.h.valueChanged.connect(self._emit)
        self.w.valueChanged.connect(self._emit)
        self.square.toggled.connect(self._toggled)

    def _toggled(self, on: bool) -> None:
        self.w.setVisible(on)
        self._emit()

    def value(self) -> Any:
        if self.param.optional and self.h.value() < self.h.minimum() + 1:
            return None
        if self.square.isChecked() and self.w.value() != self.h.value():
            return [self.h.value(), self.w.value()]
        return self.h.value()

    def set_value(self, value: Any) -> None:
        for widget in (self.h, self.w, self.square):
            widget.blockSignals(True)
        if value is None:
            self.h.setValue(self.h.minimum())
            h = w = self.w.minimum()
        else:
            h, w = pair(value)
            self.h.setValue(h)
        self.w.setValue(w)
        self.square.setChecked(h != w or self.square.isChecked())  # stays open while H = W
        self.w.setVisible(self.square.isChecked())
        for widget in (self.h, self.w, self.square):
            widget.blockSignals(False)

    def _emit(self, *_: Any) -> None:
        self.changed.emit(self.value())


def _float_box(param: Param) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setDecimals(7 if 0 < abs(param.default or 0) < 1e-3 else 4)
    box.setRange(param.low if param.low is not None else -1e9, param.high if param.high is not None else 1e9)
    box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
    return box


def _fact_label() -> QLabel:
    """An opaque imported part's parameter: what the import measured, shown, not edited."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _fact_text(value: Any) -> str:
    if isinstance(value, list):
        return fmt_shape(tuple(value))
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


class Inspector(QWidget):
    def __init__(self, editor: Editor, summary: SummaryModel, selection: SelectionModel,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.editor, self.summary, self.selection = editor, summary, selection
        self.editors: dict[str, QWidget] = {}
        self._shown: tuple[str | None, str] | None = None  # (id, type) the form was built for
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.description = QLabel()  # in the text's own colour: greyed out, it was too faint to read
        self.description.setWordWrap(True)
        self.form_box = QGroupBox("Parameters")
        self.form = QFormLayout(self.form_box)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.message = QLabel()
        self.message.setWordWrap(True)
        colour_text(self.message, ERROR)
        self.results_box = QGroupBox("What it computes")
        self.results = QFormLayout(self.results_box)
        self.result_labels: dict[str, QLabel] = {}
        for key, name, tip in (
                ("inputs", "Inputs", "The cards whose outputs this layer takes, and their volumes"),
                ("output", "Output volume", "The output shape in the lecture's notation W×H×D"),
                ("formula", "Size formula", "Output size = 1 + (W − F + 2P)/S, on this layer's numbers"),
                ("receptive_field", "Receptive field", "How many input pixels (per side) one output value sees"),
                ("params", "Parameters", "Learned weights and biases, with weight sharing (as built)"),
                ("params_unshared", "Without sharing", "Parameters if every output position had its own weights"),
                ("macs", "MACs", "Multiply-accumulates per sample"),
                ("memory", "Activations", "Memory for this layer's output, float32, per sample"),
                ("status", "Status", "Warnings and errors from shape inference")):
            label = QLabel()
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setToolTip(tip)
            self.results.addRow(name, label)
            self.result_labels[key] = label
        body = QWidget()
        layout = QVBoxLayout(body)
        for widget in (self.title, self.description, self.form_box, self.message, self.results_box):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # it scrolls down a long form, never sideways: the dock is never narrower than the form
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll, self._body = scroll, body
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        editor.refused.connect(self.show_refusal)
        # methods, not lambdas: Qt drops a method's connection when the inspector goes, so a signal the
        # undo stack sends while the window is torn down (on quit) never reaches deleted labels
        editor.stack.indexChanged.connect(self._edit_accepted)
        summary.updated.connect(self.refresh)
        selection.changed.connect(self.refresh)
        self.refresh()

    def _edit_accepted(self, *_: Any) -> None:
        self.show_refusal("")  # an accepted edit clears the last refusal

    def show_refusal(self, text: str) -> None:
        self.message.setText("✖ " + text if text else "")
        self.message.setVisible(bool(text))

    # building the form ----------------------------------------------------------------------------
    def refresh(self) -> None:
        current = self.selection.current
        index = self.selection.current_index()
        key: tuple[str | None, str]
        if current == INPUT_ID:
            key = (INPUT_ID, "input:" + str(len(self.summary.summary["input"])))
        elif index is not None:
            key = (current, self.editor.project.layer(index)["type"])
        else:
            key = ("", "")
        if key != self._shown:
            self._shown = key
            self.show_refusal("")
            self._rebuild(index)
        self._update_values(index)
        QTimer.singleShot(0, self, self._hold_width)  # once the new form is laid out

    def _hold_width(self) -> None:
        """The form's width is the inspector's minimum (the body's labels wrap; fields do not shrink)."""
        bar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        self._scroll.setMinimumWidth(self._body.minimumSizeHint().width() + bar)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's name)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation mode: a wider form
            QTimer.singleShot(0, self, self._hold_width)

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}

    def _rebuild(self, index: int | None) -> None:
        self._clear_form()
        current = self.selection.current
        if current == INPUT_ID:
            self.title.setText("<b>Input</b>")
            self.description.setText("The shape of one sample: depth (channels) × height × width.")
            shape = self.summary.summary["input"]
            names = ("C (depth)", "H (height)", "W (width)") if len(shape) == 3 else ("N (features)",)
            for i, name in enumerate(names):
                box = RangeSpinBox(name, 1, MAX_CHANNELS if i == 0 and len(shape) == 3 else MAX_SIZE)
                if len(shape) == 1:
                    box.setMaximum(10_000_000)
                box.setToolTip(f"Input {name}")
                box.refused.connect(self.show_refusal)
                box.valueChanged.connect(self._input_changed)
                self.form.addRow(name, box)
                self.editors[str(i)] = box
            self.form_box.setVisible(True)
            self.results_box.setVisible(False)
            return
        if index is None:
            self.title.setText("<b>No layer selected</b>")
            self.description.setText("Click a card in the network to edit it here, or drag a layer from the palette.")
            self.form_box.setVisible(False)
            self.results_box.setVisible(False)
            return
        kind = CATALOGUE[self.editor.project.layer(index)["type"]]
        self.title.setText(f"<b>{kind.name}</b> &nbsp;<span style='color: gray'>{kind.category}</span>")
        self.description.setText(kind.description)
        for param in kind.params:
            widget = self._make_editor(param) if not kind.opaque else _fact_label()  # measured, not settable
            widget.setToolTip(f"{param.help or param.name}\n({param.describe()})")
            self.form.addRow(param.name, widget)
            self.editors[param.name] = widget
        if not kind.params:
            self.form.addRow(QLabel("No parameters to set."))
        self.form_box.setVisible(True)
        self.results_box.setVisible(True)

    def _make_editor(self, param: Param) -> QWidget:
        def push(value: Any, mergeable: bool = True) -> None:
            index = self.selection.current_index()
            if index is not None and CATALOGUE[self.editor.project.layer(index)["type"]].resolve(
                    self.editor.project.layer(index))[param.name] != value:  # no empty undo steps
                self.editor.push(lambda p: SetParam(p, index, param.name, value, mergeable))

        widget: Any
        if param.kind == "int":
            widget = RangeSpinBox(param.name, param.low, param.high)
            widget.refused.connect(self.show_refusal)
            widget.valueChanged.connect(push)
        elif param.kind == "float":
            widget = _float_box(param)
            widget.valueChanged.connect(push)
        elif param.kind == "bool":
            widget = QCheckBox()
            widget.toggled.connect(lambda on: push(on, False))
        elif param.kind == "choice":
            widget = QComboBox()
            widget.addItems(list(param.choices))
            widget.currentTextChanged.connect(lambda text: push(text, False))
        elif param.kind == "pair":
            widget = PairEditor(param)
            widget.h.refused.connect(self.show_refusal)
            widget.w.refused.connect(self.show_refusal)
            widget.changed.connect(push)
        else:  # "ints": a short list such as [C, H, W]
            widget = QLineEdit()
            widget.setPlaceholderText("e.g. 16, 4, 4")
            widget.editingFinished.connect(lambda: self._ints_entered(widget, push))
        return widget

    def _ints_entered(self, widget: QLineEdit, push: Callable[[Any, bool], None]) -> None:
        try:
            values = [int(v) for v in widget.text().replace("[", "").replace("]", "").replace("×", ",").split(",")
                      if v.strip()]
        except ValueError:
            self.show_refusal(f"'{widget.text()}' is not a list of integers such as 16, 4, 4")
            return
        push(values, False)

    def _input_changed(self, *_: Any) -> None:
        shape = [box.value() for _, box in sorted(self.editors.items())]
        if shape != self.editor.project.input:
            self.editor.push(lambda p: SetInput(p, shape))

    # showing values -------------------------------------------------------------------------------
    def _update_values(self, index: int | None) -> None:
        if self.selection.current == INPUT_ID:
            for i, value in enumerate(self.summary.summary["input"]):
                box = self.editors.get(str(i))
                if box is not None and box.value() != value:  # type: ignore[attr-defined]
                    box.blockSignals(True)
                    box.setValue(value)  # type: ignore[attr-defined]
                    box.blockSignals(False)
            return
        if index is None:
            return
        layer = self.editor.project.layer(index)
        kind = CATALOGUE[layer["type"]]
        values = kind.resolve(layer)
        for param in kind.params:
            self._set_editor(self.editors[param.name], param, values[param.name])
        row = self.summary.summary["layers"][index]
        self._show_row(row)

    def _set_editor(self, widget: QWidget, param: Param, value: Any) -> None:
        widget.blockSignals(True)
        if isinstance(widget, QLabel):
            widget.setText(_fact_text(value))
        elif isinstance(widget, PairEditor):
            widget.set_value(value)
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))
        elif isinstance(widget, QLineEdit):
            if not widget.hasFocus():
                widget.setText(", ".join(str(v) for v in value))
        elif widget.value() != value:  # type: ignore[attr-defined]
            widget.setValue(value)  # type: ignore[attr-defined]
        widget.blockSignals(False)

    def _show_row(self, row: LayerRow) -> None:
        labels = self.result_labels
        labels["inputs"].setText(fmt_inputs(self.summary.summary, row))
        labels["output"].setText(f"<b>{fmt_shape(tuple(row['output']))}</b>" if row["output"] is not None else "?")
        labels["formula"].setText(row["formula"] or "—")
        rf = row["receptive_field"]
        labels["receptive_field"].setText(f"{rf}×{rf}" if rf is not None else "?")
        labels["params"].setText(fmt_count(row["params"]))
        labels["params_unshared"].setText(fmt_count(row["params_unshared"]))
        labels["macs"].setText(fmt_count(row["macs"]))
        memory = row["memory"]
        labels["memory"].setText("?" if memory is None else f"{memory / 1024:,.1f} KiB")
        color = {"warning": WARNING.name(), "error": ERROR.name()}.get(row["status"], "")
        symbol = {"warning": "⚠ ", "error": "✖ "}.get(row["status"], "")
        labels["status"].setText(f"<span style='color:{color}'>{symbol}{row['message'] or 'OK'}</span>"
                                 if color else (row["message"] or "OK"))

