"""The Training panel: settings from the project's data/training sections (schedule included),
Start / Pause / Stop, progress with ETA and samples/s, and live loss and accuracy curves, with the
stages of a staged run (layer-wise pretraining) marked.

Training runs in the training process, driven by the window's `JobRunner` (workbench.ui.training.runner),
on a frozen copy of the project; the panel only receives throttled updates of numbers and numpy arrays,
and passes the run's start/batch/epoch/done events on as `events_received(list)` (<= 10 lists a
second) for other views' curves. The process is spawned in the background `PREPARE_DELAY_MS` after
the panel is first shown (its torch import would compete with the window's own startup; Qt counts
a dock behind a tab as shown) or by the first Start, kept between runs, and ended by
`stop_and_wait()` (the window closing). Curves are pyqtgraph items created
once and updated with setData (auto-downsampled, clipped to view), and only while the panel is
visible: a hidden panel keeps the data and draws it when shown.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSizePolicy, QSpinBox, QToolButton, QVBoxLayout,
                               QWidget)

from workbench.core.catalogue import fmt_shape
from workbench.core.project import Project
from workbench.data import DATA_OPTIONS, DATASETS
from workbench.training.config import OPTIMIZERS, SCHEDULES, TASKS, TRAINING_OPTIONS, section_problem
from workbench.training.events import DoneEvent, EpochEvent
from workbench.training.placement import data_placement
from workbench.training.remote import Hardware
from workbench.training.updates import RunUpdate
from workbench.ui.insight.base import INK, StageMarks, outside_legend, styled_plot
from workbench.ui.shell.flow import FlowLayout
from workbench.ui.training.runner import JobRunner

TRAIN, VAL, STEP = (31, 119, 180), (214, 39, 40), (170, 170, 170)
# The progress text (samples/s, ETA) cannot be read at the curves' 10 updates/s, and QProgressBar
# repaints synchronously on every change: a few times a second is enough.
PROGRESS_EVERY_S = 0.25
# Curves repaint at most this often while training. Every repaint takes CPU from the training
# process on 2 cores: at 20 repaints/s digits-cnn kept 0.78 of its headless speed, with the panel
# hidden 1.00 (benchmarks/gui_training.py). The data still arrives <= 10 times a second.
CURVE_REDRAW_MS = 250
PREPARE_DELAY_MS = 1500  # after the window's first paint, when its startup work is done
# The device menu until the training process has loaded torch and said what this machine has.
UNKNOWN_DEVICES = [("auto", "auto"), ("cpu", "CPU")]
SCHEDULE_TEXT = {"plain": "plain", "layerwise": "layer-wise"}
STARTING = "Starting the training process (it loads PyTorch once)…"
WIDE_RATIO = 1.5  # a panel this many times wider than tall puts its plots beside the controls
STACK_RATIO = 1.4  # plots narrower than this (width / height) stack the loss above the accuracy
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum" for a widget's size


def default_runs_root() -> Path:
    """Where the window's runs go: $WORKBENCH_RUNS, else ~/.workbench/runs."""
    return Path(os.environ.get("WORKBENCH_RUNS") or Path.home() / ".workbench" / "runs")


class _Series:
    """A growing (x, y) curve in preallocated numpy arrays: appends are amortized O(1)."""

    def __init__(self, item: pg.PlotDataItem):
        self.item = item
        self.x = np.empty(256)
        self.y = np.empty(256)
        self.n = 0
        self.dirty = False

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        need = self.n + len(x)
        if need > len(self.x):
            size = max(need, 2 * len(self.x))
            self.x = np.resize(self.x, size)
            self.y = np.resize(self.y, size)
        self.x[self.n:need], self.y[self.n:need] = x, y
        self.n = need
        self.dirty = True

    def clear(self) -> None:
        self.n = 0
        self.dirty = True

    def draw(self) -> None:
        """setData only when something changed: an untouched plot is not repainted."""
        if self.dirty:
            self.item.setData(self.x[:self.n], self.y[:self.n])
            self.dirty = False


def _curve(plot: pg.PlotItem, colour: tuple, name: str, markers: bool) -> _Series:
    item = plot.plot([], [], pen=pg.mkPen(colour, width=2 if markers else 1), name=name,
                     symbol="o" if markers else None, symbolSize=5, symbolBrush=colour, symbolPen=None)
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return _Series(item)


def _size_text(size: int | list[int]) -> str:
    """data.resize as the lecture writes sizes: 28 -> "28×28", [24, 32] -> "24×32"."""
    h, w = (size, size) if isinstance(size, int) else size
    return f"{h}×{w}"


def _low(key: str) -> Any:
    return TRAINING_OPTIONS[key].low


def _high(key: str) -> Any:
    return TRAINING_OPTIONS[key].high


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class TrainingPanel(QWidget):
    probe_received = Signal(dict)
    run_started = Signal(str)
    run_finished = Signal(dict)
    training_changed = Signal(bool)
    events_received = Signal(list)  # the run's start/batch/epoch/done events (plain numbers), coalesced
    # Open run… pressed: the window opens the run whole (network, curves, insides, health), as File >
    # Open Run does; this panel showing only its curves left the rest showing another network's run
    open_requested = Signal()

    def __init__(self, project: Project, parent: QWidget | None = None, runs_root: str | Path | None = None,
                 editor: Any = None, runner: JobRunner | None = None):
        """editor: a workbench.ui.editing.undo.Editor; when given, setting changes are undoable commands.
        runner: the window's, shared with the lab (one training process); by default the panel's own."""
        super().__init__(parent)
        self.project = project
        self.editor = editor
        self.runs_root = Path(runs_root) if runs_root is not None else default_runs_root()
        self.hardware: Hardware | None = None  # the training process says it once it has loaded torch
        self.runner = runner or JobRunner(self)
        self.runner.updated.connect(self._on_update)
        self.runner.finished.connect(self._on_finished)
        self._active = False
        self._progress_shown = 0.0
        self._progress_text = ""  # how far the run got: "epoch 3/20 · 1,234 samples/s · ETA 0:12"
        self._device_name = ""  # what the run going on trains on
        self._fresh = ""  # how many layers of the run start from fresh weights, not the project's file
        self.run_dir: str | None = None
        self.steps_per_epoch = 1
        self.epochs = 1
        self._syncing = False
        self._prepare_scheduled = False
        self._redraw_timer = QTimer(self, singleShot=True, interval=CURVE_REDRAW_MS, timeout=self._redraw)
        self._build()
        self._sync_from_project()
        project.changed.connect(self._on_project_changed)
        self._set_state("idle")
        self.runner.hardware_found.connect(self._hardware_found)
        if self.runner.process.hardware is not None:  # a shared runner whose process is up already
            self._hardware_found(self.runner.process.hardware)

    # building ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.dataset = QComboBox()
        self.dataset.addItems(list(DATASETS))
        self.task = QComboBox()
        self.task.addItems(list(TASKS))
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        # The boxes' ranges are the training section's own limits (a file and the CLI get the same);
        # the learning-rate box shows 6 decimals, so it starts at 1e-6 (a smaller lr in the file is kept).
        self.lr = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=_high("lr"), singleStep=1e-4)
        self.batch_size = QSpinBox(minimum=_low("batch_size"), maximum=_high("batch_size"))
        self.epochs_box = QSpinBox(minimum=_low("epochs"), maximum=_high("epochs"))
        self.weight_decay = QDoubleSpinBox(decimals=5, minimum=_low("weight_decay"), maximum=_high("weight_decay"),
                                           singleStep=1e-4)
        self.seed = QSpinBox(minimum=_low("seed"), maximum=_high("seed"))
        self.noise = QLineEdit()
        self.noise.setPlaceholderText("gaussian:0.3")
        self.noise.setToolTip("denoise corruption KIND:LEVEL: gaussian:0.3, masking:0.5, salt-and-pepper:0.1")
        self.device = QComboBox()
        # its items change once the training process says what the machine has: the flow makes room
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._set_devices(UNKNOWN_DEVICES)
        self.schedule = QComboBox()
        for schedule in SCHEDULES:
            self.schedule.addItem(SCHEDULE_TEXT.get(schedule, schedule), schedule)
        self.schedule.setToolTip("layer-wise: pretrain each layer as a small autoencoder, then fine-tune the "
                                 "whole network")

        fields = [("Dataset", self.dataset), ("Task", self.task), ("Optimizer", self.optimizer),
                  ("Learning rate", self.lr), ("Batch size", self.batch_size), ("Epochs", self.epochs_box),
                  ("Weight decay", self.weight_decay), ("Seed", self.seed), ("Noise", self.noise),
                  ("Device", self.device), ("Schedule", self.schedule)]
        self.settings = QWidget()
        flow = FlowLayout(self.settings)
        label_width = max(self.fontMetrics().horizontalAdvance(name) for name, _ in fields)
        self._field_labels = []
        for name, widget in fields:  # pairs wrap like words: two or three a line, one in a narrow dock
            pair = QWidget()
            row = QHBoxLayout(pair)
            row.setContentsMargins(0, 0, 0, 0)
            label = QLabel(name)
            label.setMinimumWidth(label_width)
            self._field_labels.append(label)
            row.addWidget(label)
            row.addWidget(widget)
            flow.addWidget(pair)
        self.settings_button = QToolButton()
        self.settings_button.setText("Settings")
        self.settings_button.setCheckable(True)
        self.settings_button.setChecked(True)
        self.settings_button.setArrowType(Qt.ArrowType.DownArrow)  # (open: see _show_settings)
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setAutoRaise(True)
        self.settings_button.toggled.connect(self._show_settings)
        self.settings_summary = QLabel()  # the settings in one line while they are folded away
        self.settings_summary.setVisible(False)  # (they start open)
        self.settings_summary.setWordWrap(True)
        self.settings_summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Each field writes only its own key: a value the project holds but a box can't show (lr 1e-7)
        # is never overwritten by an edit of another field.
        for signal, section, key, value in (
                (self.dataset.currentIndexChanged, "data", "dataset", self.dataset.currentText),
                (self.task.currentIndexChanged, "training", "task", self.task.currentText),
                (self.optimizer.currentIndexChanged, "training", "optimizer", self.optimizer.currentText),
                (self.device.currentIndexChanged, "training", "device", self.device.currentData),
                (self.schedule.currentIndexChanged, "training", "schedule", self.schedule.currentData),
                (self.lr.valueChanged, "training", "lr", lambda: round(self.lr.value(), 8)),
                (self.batch_size.valueChanged, "training", "batch_size", self.batch_size.value),
                (self.epochs_box.valueChanged, "training", "epochs", self.epochs_box.value),
                (self.weight_decay.valueChanged, "training", "weight_decay", self.weight_decay.value),
                (self.seed.valueChanged, "training", "seed", self.seed.value),
                (self.noise.editingFinished, "training", "noise", lambda: self.noise.text().strip() or None)):
            signal.connect(lambda *_, section=section, key=key, value=value: self._write(section, key, value()))

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.open_button = QPushButton("Open run…")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.open_button.clicked.connect(self.open_requested)
        buttons = FlowLayout()
        for button in (self.start_button, self.pause_button, self.stop_button, self.open_button):
            buttons.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        # its text changes all through a run: it must not resize anything (the buttons stay put)
        self.progress.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # where the data will live while training (on the GPU, streamed to it, in memory): see training.placement
        self.placement = QLabel("")
        self.placement.setWordWrap(True)
        # its line kept while empty: the line comes once the training process has loaded torch, and the
        # fields' column (as narrow as fits the dock's height) must not change width then
        self.placement.setMinimumHeight(self.placement.fontMetrics().lineSpacing())
        self.placement.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wraps, never widens
        self.placement.setToolTip("The dataset's size from the input's size per sample: kept whole on the GPU when it "
                                  "takes at most half its memory, else streamed batch by batch from host memory")
        self._placement_key = ""
        # one click per fix a failed start suggests (a dataset that fits another input)
        self.fix_input = QPushButton()
        self.fix_input.setToolTip("Change the project's input to the dataset's image size (undoable)")
        self.fix_input.clicked.connect(self._apply_input_fix)
        self.fix_resize = QPushButton()
        self.fix_resize.setToolTip("Resize the dataset's images to the project's input (undoable)")
        self.fix_resize.clicked.connect(self._apply_resize_fix)
        fixes = FlowLayout()
        for button in (self.fix_input, self.fix_resize):
            button.hide()
            fixes.addWidget(button)
        self._suggested_input: list[int] | None = None
        self._suggested_resize: int | list[int] | None = None

        # Two views, not one layout: a view repaints whole, so the accuracy plot (new points once an
        # epoch) is not repainted with every loss update. No grid: its lines made each repaint 2x dearer.
        self.canvas = QWidget()
        # no height of its own to ask for: it takes what the dock leaves (in a scroll area, a height
        # hint would make the panel taller than the dock and scroll the plots away)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.canvas.setMinimumHeight(150)
        plots_row = self._plots_row = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.canvas)
        plots_row.setContentsMargins(0, 0, 0, 0)
        views = []
        for title, y_label in (("Loss", "loss"), ("Accuracy", "accuracy")):
            view = pg.GraphicsLayoutWidget()
            view.setBackground("w")
            plot = styled_plot(view.addPlot(row=0, col=0), title, "epoch", y_label)
            view.plot = plot
            plots_row.addWidget(view)
            views.append(view)
        self.views = views
        loss, accuracy = views[0].plot, views[1].plot
        self.plots = {"loss": loss, "accuracy": accuracy}
        self.curves = {"step": _curve(loss, STEP, "per step", False),
                       "train_loss": _curve(loss, TRAIN, "train", True),
                       "val_loss": _curve(loss, VAL, "validation", True),
                       "train_accuracy": _curve(accuracy, TRAIN, "train", True),
                       "val_accuracy": _curve(accuracy, VAL, "validation", True)}
        # one legend, under the loss: the accuracy's curves have the same colours
        self.legend = outside_legend(views[0], loss)
        self.stage_marks = StageMarks([loss])  # the narrow accuracy plot has no room for the names twice

        # What moves between the two arrangements (see _arrange): the controls, the run's report
        # (status and fixes), the plots.
        self.controls = QWidget()
        controls = QVBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        heading = QHBoxLayout()
        heading.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)  # (not centred while the line is hidden)
        heading.addWidget(self.settings_summary, 1)
        controls.addLayout(heading)
        controls.addWidget(self.settings)
        controls.addWidget(self.placement)
        controls.addLayout(buttons)
        controls.addWidget(self.progress)
        self.report = QWidget()
        report = QVBoxLayout(self.report)
        report.setContentsMargins(0, 0, 0, 0)
        report.addWidget(self.status)
        report.addLayout(fixes)
        report.addStretch(1)
        self._grid = QGridLayout(self)
        self._wide: bool | None = None
        self._arrange(wide=True)

    def _arrange(self, wide: bool) -> None:
        """Wide (a bottom dock): the controls in a column, the plots beside them and the run's report
        under the plots. Tall (a side dock): controls, plots, and the report last. Either way a
        longer message only shortens the plots (nothing above it moves during a run), and the report
        is never below the column's fields (in a low dock, 1024×768, it was scrolled out of sight)."""
        if wide == self._wide:
            return
        self._wide = wide
        grid = self._grid
        for widget in (self.controls, self.report, self.canvas):
            grid.removeWidget(widget)
        for i in range(3):
            grid.setRowStretch(i, 0)
            grid.setColumnStretch(i, 0)
        if wide:
            grid.addWidget(self.controls, 0, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(self.canvas, 0, 1)
            grid.addWidget(self.report, 1, 1)
            grid.setRowStretch(0, 1)
            grid.setColumnStretch(1, 1)
        else:
            grid.addWidget(self.controls, 0, 0)
            grid.addWidget(self.canvas, 1, 0)
            grid.addWidget(self.report, 2, 0)
            grid.setRowStretch(1, 1)
            grid.setColumnStretch(0, 1)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        # the room it is shown in: a scroll area (the dock) makes the panel itself as tall as its
        # wrapped fields need, which says nothing of the dock's shape
        room = self.parentWidget().size() if self.parentWidget() is not None else self.size()
        self._arrange(wide=room.width() >= WIDE_RATIO * room.height())
        # lines kept for the run's messages, shown or not, so that the plots above do not move when a
        # run starts or ends (a longer message, an error's, takes its lines from them): two under wide
        # plots (1024×768 wraps the start's message), one in a side column, where the plots are low
        reserved = (2 if self._wide else 1) * self.status.fontMetrics().lineSpacing()
        if self.status.minimumHeight() != reserved:
            self.status.setMinimumHeight(reserved)
        # the two plots side by side, or one above the other in a narrow column
        side_by_side = self.canvas.width() >= STACK_RATIO * self.canvas.height()
        self._plots_row.setDirection(QBoxLayout.Direction.LeftToRight if side_by_side
                                     else QBoxLayout.Direction.TopToBottom)
        self._plots_row.setStretch(0, 1 if side_by_side else 4)  # stacked, the loss has the legend under it
        self._plots_row.setStretch(1, 1 if side_by_side else 3)
        if self._wide:  # the column: as narrow as lets the settings fit the height
            self.controls.setFixedWidth(self._column_width(room))
        else:
            self.controls.setMinimumWidth(0)
            self.controls.setMaximumWidth(QWIDGETSIZE_MAX)

    def _column_width(self, room: QSize) -> int:
        """The narrowest column (two, three, four fields a line) whose controls fit the room's height."""
        pair = max(item.widget().sizeHint().width() for item in
                   (self.settings.layout().itemAt(i) for i in range(self.settings.layout().count())))
        spacing = self.settings.layout().spacing()
        margins = self._grid.contentsMargins()
        height = room.height() - margins.top() - margins.bottom()  # (the column within the panel's margins)
        width = pair
        for pairs in (2, 3, 4):
            width = pairs * pair + (pairs - 1) * spacing
            if self.controls.layout().totalHeightForWidth(width) <= height or width > self.width() // 2:
                break
        return min(width, self.width() // 2)

    def set_scale(self, factor: float) -> None:
        """Presentation mode: the settings fold away (one line tells them), the plots get the room."""
        self.settings_button.setChecked(factor <= 1.0)

    def _show_settings(self, shown: bool) -> None:
        self.settings.setVisible(shown)
        # where the data will live goes with the settings it follows from: folded (presentation
        # mode's side column), its two lines went to the plots' height
        self.placement.setVisible(shown)
        self.settings_summary.setVisible(not shown)
        self.settings_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._summarize_settings()

    def _summarize_settings(self) -> None:
        training = self.project.section("training")
        self.settings_summary.setText(
            f"{self.dataset.currentText()} · {self.task.currentText()} · {self.optimizer.currentText()} · "
            f"lr {self.lr.value():g} · batch {self.batch_size.value()} · {self.epochs_box.value()} epochs"
            + (f" · {SCHEDULE_TEXT.get(training['schedule'], training['schedule'])}"
               if training.get("schedule", "plain") != "plain" else ""))

    # project <-> fields -----------------------------------------------------------------------------
    def _on_project_changed(self, what: str) -> None:
        if what == "all" and not self._active:  # another project: its runs are not this one's
            self.clear_run()
        if what in ("sections", "all"):
            self._sync_from_project()  # shows the placement too
        elif what == "input":
            self._show_placement()

    def clear_run(self) -> None:
        """No run shown: empty curves, idle progress, no message (runs stay in File > Open Run)."""
        self._clear_curves()
        self.run_dir = None
        self.progress.setValue(0)
        self._progress_text = ""
        self.progress.setFormat("idle")
        self.status.setText("")
        self._say_fresh([])
        self._suggested_input = self._suggested_resize = None
        self.fix_input.hide()
        self.fix_resize.hide()

    def _sync_from_project(self) -> None:
        data, training = self.project.section("data"), self.project.section("training")
        self._syncing = True
        try:
            for combo, value in ((self.dataset, data.get("dataset", DATA_OPTIONS["dataset"].default)),
                                 (self.task, training.get("task", TRAINING_OPTIONS["task"].default)),
                                 (self.optimizer, training.get("optimizer", TRAINING_OPTIONS["optimizer"].default))):
                if combo.findText(str(value)) >= 0:
                    combo.setCurrentText(str(value))
            for spin, key in ((self.lr, "lr"), (self.batch_size, "batch_size"), (self.epochs_box, "epochs"),
                              (self.weight_decay, "weight_decay"), (self.seed, "seed")):
                value = training.get(key, TRAINING_OPTIONS[key].default)
                # a value the box cannot hold (seed 2**31 in a file) stays in the project, unshown:
                # Qt would raise (OverflowError) or clamp it
                if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                        spin.minimum() <= value <= spin.maximum():
                    spin.setValue(value)
            self.noise.setText(str(training.get("noise", TRAINING_OPTIONS["noise"].default)))
            index = self.device.findData(training.get("device", TRAINING_OPTIONS["device"].default))
            self.device.setCurrentIndex(max(index, 0))
            schedule = training.get("schedule", TRAINING_OPTIONS["schedule"].default)
            self.schedule.setCurrentIndex(max(self.schedule.findData(schedule), 0))
            self.noise.setEnabled(self.task.currentText() == "denoise")
        finally:
            self._syncing = False
        self._summarize_settings()
        self._show_section_problem()
        self._show_placement()

    def _set_devices(self, devices: list[tuple[str, str]]) -> None:
        self.device.clear()
        for device, text in devices:
            self.device.addItem(text, device)

    def _hardware_found(self, hardware: Hardware) -> None:
        """The training process has loaded torch and says what this machine has: the real device
        menu, and where the data will live."""
        self.hardware = hardware
        self._syncing = True
        try:
            self._set_devices(hardware.devices)
        finally:
            self._syncing = False
        self._sync_from_project()

    def _show_section_problem(self) -> None:
        """An invalid training or data section (from a file) is said in the status line, not opened
        silently; the warning goes once the setting is corrected."""
        if self._active:
            return
        problem = section_problem(self.project.to_dict())
        if problem:
            self.status.setText(f"⚠ {problem}: correct it before training")
        elif self.status.text().startswith("⚠ "):
            self.status.setText("")

    def _show_placement(self) -> None:
        """The data's size and where it will live; counted again only when the data, the input or the
        device changes (an image folder's files are counted)."""
        if self.hardware is None:  # said once the training process has loaded torch
            return
        doc = self.project.to_dict()
        key = json.dumps([doc["input"], doc.get("data", {}), self.device.currentData()], sort_keys=True)
        if key == self._placement_key:
            return
        self._placement_key = key
        try:
            hardware = self.hardware
            device = (self.device.currentData() or "auto") if hardware.gpu_bytes is not None else "cpu"
            text = "Data: " + data_placement(doc, device, hardware.gpu_bytes, hardware.gpu_name or "the GPU").text
        except ValueError:  # a data section the run would refuse: the run says why
            text = ""
        self.placement.setText(text)

    def _write(self, section: str, key: str, value: Any) -> None:
        """One field's edit into its section (None removes the key: an emptied Noise field)."""
        if self._syncing:
            return
        values = self.project.section(section)
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
        self.noise.setEnabled(self.task.currentText() == "denoise")
        if values != self.project.section(section):
            self._set_section(section, values)

    def _apply_input_fix(self) -> None:
        shape, self._suggested_input = self._suggested_input, None
        self.fix_input.hide()
        if shape is None:
            return
        if self.editor is not None:
            from workbench.core.commands import SetInput

            self.editor.push(lambda project: SetInput(project, shape, mergeable=False))
        else:
            self.project.set_input(shape)
        self.status.setText(f"Input set to {fmt_shape(tuple(shape))}: press Start to train")
        self.fix_resize.hide()

    def _apply_resize_fix(self) -> None:
        size, self._suggested_resize = self._suggested_resize, None
        self.fix_resize.hide()
        if size is None:
            return
        self._set_section("data", {**self.project.section("data"), "resize": size})
        self.fix_input.hide()
        self.status.setText(f"{self.dataset.currentText()} images resized to {_size_text(size)}: press Start to train")

    def _set_section(self, name: str, value: dict) -> None:
        if self.editor is not None:
            from workbench.core.commands import SetSection

            self.editor.push(lambda project: SetSection(project, name, value))
        else:
            self.project.set_section(name, value)

    # controls ---------------------------------------------------------------------------------------
    @property
    def is_training(self) -> bool:
        return self._active

    def start(self) -> None:
        if self._active:
            return
        if self.runner.running:  # the lab's experiment has the training process
            self.status.setText("The autoencoder lab is running an experiment: stop it, then start training")
            return
        doc = self.project.to_dict()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir = self.runs_root / f"{doc.get('name') or 'run'}-{stamp}"
        suffix = 1
        while run_dir.exists():
            suffix += 1
            run_dir = self.runs_root / f"{doc.get('name') or 'run'}-{stamp}-{suffix}"
        self.clear_run()
        self.run_dir = str(run_dir)
        self._show_progress("starting")
        self._active = True
        self._set_state("running")
        # never waits: the run is queued in the process, which starts it once torch is loaded
        self.status.setText(f"Preparing {doc.get('data', {}).get('dataset', 'digits')}…" if self.runner.ready
                            else STARTING)
        self.runner.start(doc, self.run_dir, owner=self)
        self.run_started.emit(self.run_dir)
        self.training_changed.emit(True)

    def toggle_pause(self) -> None:
        if not self._active:
            return
        if self.runner.pause_requested:
            self.runner.resume()
            self._set_state("running")
        else:
            self.runner.pause()
            self._set_state("paused")

    def stop(self) -> None:
        if self._active:
            self.runner.stop()
            self.stop_button.setEnabled(False)
            self.status.setText("Stopping after this step…")

    def stop_and_wait(self) -> None:
        """Stop training and end the training process (for closing the window); a later Start spawns
        a new one."""
        self.runner.shutdown()
        self._on_finished({"event": "done", "status": "stopped", "message": "stopped: the window closed",
                           "run_dir": self.run_dir})

    def set_probe_request(self, request: Any) -> None:
        """A workbench.training.probes.ProbeRequest for the visible insight panels (kept for later runs)."""
        self.runner.set_probe_request(request)

    def show_run(self, path: str | Path) -> bool:
        """Show a saved run's curves; a bad folder becomes a message in the panel."""
        from workbench.training.run_folder import RunError, open_run  # torch: loaded behind the window

        try:
            run = open_run(path)
        except RunError as exc:
            self.status.setText(str(exc))
            return False
        self._clear_curves()
        start = next((e for e in run.metrics if e["event"] == "start"), None)
        self.steps_per_epoch = max(int(start["steps_per_epoch"]), 1) if start is not None else 1
        self.epochs = int(run.config.get("training", {}).get("epochs", 1))
        steps = np.array([(e["global_step"], e["train_loss"]) for e in run.metrics if e["event"] == "batch"],
                         dtype=np.float64).reshape(-1, 2)
        self._add(steps[:, 0], steps[:, 1], [e for e in run.metrics if e["event"] == "epoch"])
        self.stage_marks.add(run.metrics)
        done = [e for e in run.metrics if e["event"] == "done"]
        self.run_dir = str(path)
        processes = run.config.get("processes", 1)  # several under torchrun
        by = f" (trained by {processes} processes)" if isinstance(processes, int) and processes > 1 else ""
        self._say_fresh(start.get("weight_notes", []) if start is not None else [])
        self.status.setText(f"{Path(path).name}: {done[-1]['message'] if done else 'no result recorded'}{by}"
                            f"{self._fresh}")
        epochs_done = int(run.state.get("epoch", 0))
        self.progress.setValue(int(1000 * epochs_done / max(self.epochs, 1)))
        self._progress_text = f"epoch {epochs_done}/{self.epochs}"
        self._show_progress()
        self._frame_epochs()
        self._redraw()
        return True

    def _say_fresh(self, notes: list[str]) -> None:
        """The run's layers that started from fresh weights instead of the project's file (an imported
        network edited since): how many after the status, which and why on hover."""
        self._fresh = (f" · {len(notes)} layer{'s' if len(notes) > 1 else ''} started from fresh weights"
                       if notes else "")
        self.status.setToolTip("\n".join(notes))

    # updates from the worker ------------------------------------------------------------------------
    def _on_update(self, update: RunUpdate) -> None:
        if self.runner.owner is not self:
            return
        start = update.start
        if start is not None:
            self.steps_per_epoch = max(int(start["steps_per_epoch"]), 1)
            self.epochs = int(start["epochs"])
            self._device_name = start["device_name"]
            self._say_fresh(start["weight_notes"])
            self.status.setText(f"Training on {start['device_name']}: {start['train_size']:,} training and "
                                f"{start['val_size']:,} validation samples{self._fresh}")
            self._frame_epochs()
        self._add(*update.steps, update.epochs)
        self.stage_marks.add(update.epochs)
        progress = update.progress
        now = time.monotonic()
        last = progress is not None and progress["event"] == "epoch" and progress["epoch"] >= self.epochs
        if progress is not None and (last or now - self._progress_shown >= PROGRESS_EVERY_S):
            self._progress_shown = now
            done = progress["epoch"] - 1 + (progress["step"] / self.steps_per_epoch
                                            if progress["event"] == "batch" else 1)
            self.progress.setValue(int(1000 * done / max(self.epochs, 1)))
            stage = f" · {progress['stage']}" if progress.get("stage") else ""
            self._progress_text = (f"epoch {progress['epoch']}/{self.epochs}{stage} · "
                                   f"{progress['samples_per_s']:,.0f} samples/s · ETA {_clock(progress['eta_s'])}")
            self._show_progress("paused" if self.runner.pause_requested else "")
        news = update.compile  # compiling takes seconds with no steps: say so, then how it went
        if news is not None and news["event"] == "compiling":
            self._progress_text = f"epoch {news['epoch']}/{self.epochs} · compiling…"
            self._show_progress()
        elif news is not None:
            self.status.setText(f"Training on {self._device_name} · {news['message']}")
        if update.paused is not None:  # the engine has really stopped between steps (or gone on)
            self._show_progress("paused" if update.paused else "")
            self.status.setText("Paused between steps: Resume goes on, Stop ends the run" if update.paused
                                else "Training…")
        if update.events:
            self.events_received.emit(update.events)
        if update.probe is not None:
            self.probe_received.emit(update.probe)
        if self.isVisible() and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _on_finished(self, done: DoneEvent) -> None:
        if not self._active:
            return
        self._active = False
        self._redraw()
        self.status.setText(done["message"] + self._fresh)
        self._suggested_input = done.get("suggested_input")
        if self._suggested_input:
            self.fix_input.setText(f"Set the input to {fmt_shape(tuple(self._suggested_input))}")
        self.fix_input.setVisible(bool(self._suggested_input))
        self._suggested_resize = done.get("suggested_resize")
        if self._suggested_resize:
            self.fix_resize.setText(f"Resize {self.dataset.currentText()} to {_size_text(self._suggested_resize)}")
        self.fix_resize.setVisible(bool(self._suggested_resize))
        self._set_state("idle")
        if done["status"] != "finished":  # the outcome, then how far it got (once: never piled up)
            self._show_progress(done["status"])
        self.events_received.emit([done])
        self.run_finished.emit(done)
        self.training_changed.emit(False)

    # curves -----------------------------------------------------------------------------------------
    def _add(self, steps: np.ndarray, losses: np.ndarray, epochs: list[EpochEvent]) -> None:
        if len(steps):
            self.curves["step"].extend(steps / self.steps_per_epoch, losses)
        for event in epochs:
            for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
                if key in event:
                    self.curves[key].extend(np.array([event["epoch"]], float), np.array([event[key]], float))

    def _clear_curves(self) -> None:
        for series in self.curves.values():
            series.clear()
        self.stage_marks.clear()
        self._redraw()

    def _redraw(self) -> None:
        for series in self.curves.values():
            series.draw()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._redraw()
        if not self._prepare_scheduled:
            self._prepare_scheduled = True
            QTimer.singleShot(PREPARE_DELAY_MS, self, self._prepare)

    def _prepare(self) -> None:
        """Spawn the training process ahead of the first Start (it was spawned by a Start already,
        or the window closed meanwhile: nothing to do)."""
        if not self.runner.process.alive and not self._active and self.isVisible():
            self.runner.prepare()

    def _set_state(self, state: str) -> None:
        idle = state == "idle"
        self.start_button.setEnabled(idle)
        self.open_button.setEnabled(idle)
        self.pause_button.setEnabled(not idle)
        self.stop_button.setEnabled(not idle)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        if state == "paused":
            self._show_progress("paused")

    def _show_progress(self, state: str = "") -> None:
        """The bar's text: the run's state (paused, failed, …) before how far it got, each said once."""
        self.progress.setFormat(" · ".join(t for t in (state, self._progress_text) if t) or "idle")

    def _frame_epochs(self) -> None:
        """The epoch axes span the whole run from its start: curves grow across, the axes stay put."""
        for plot in self.plots.values():
            plot.setXRange(0, max(self.epochs, 1), padding=0.02)
