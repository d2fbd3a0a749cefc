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
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from workbench.core.catalogue import fmt_shape
from workbench.core.project import Project
from workbench.data import DATA_OPTIONS, DATASETS
from workbench.training.config import OPTIMIZERS, SCHEDULES, TASKS, TRAINING_OPTIONS, section_problem
from workbench.training.devices import available_devices
from workbench.training.events import DoneEvent, EpochEvent
from workbench.training.placement import data_placement
from workbench.training.run_folder import RunError, default_runs_root, open_run
from workbench.ui.insight.base import INK, StageMarks, styled_plot
from workbench.training.updates import RunUpdate
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
SCHEDULE_TEXT = {"plain": "plain", "layerwise": "layer-wise"}
STARTING = "Starting the training process (it loads PyTorch once)…"


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

    def __init__(self, project: Project, parent: QWidget | None = None, runs_root: str | Path | None = None,
                 editor: Any = None, runner: JobRunner | None = None):
        """editor: a workbench.ui.editing.undo.Editor; when given, setting changes are undoable commands.
        runner: the window's, shared with the lab (one training process); by default the panel's own."""
        super().__init__(parent)
        self.project = project
        self.editor = editor
        self.runs_root = Path(runs_root) if runs_root is not None else default_runs_root()
        self.runner = runner or JobRunner(self)
        self.runner.updated.connect(self._on_update)
        self.runner.finished.connect(self._on_finished)
        self._active = False
        self._progress_shown = 0.0
        self._device_name = ""  # what the run going on trains on
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
        for device, text in available_devices():
            self.device.addItem(text, device)
        self.schedule = QComboBox()
        for schedule in SCHEDULES:
            self.schedule.addItem(SCHEDULE_TEXT.get(schedule, schedule), schedule)
        self.schedule.setToolTip("layer-wise: pretrain each layer as a small autoencoder, then fine-tune the "
                                 "whole network")

        grid = QGridLayout()
        fields = [("Dataset", self.dataset), ("Task", self.task), ("Optimizer", self.optimizer),
                  ("Learning rate", self.lr), ("Batch size", self.batch_size), ("Epochs", self.epochs_box),
                  ("Weight decay", self.weight_decay), ("Seed", self.seed), ("Noise", self.noise),
                  ("Device", self.device), ("Schedule", self.schedule)]
        for i, (label, widget) in enumerate(fields):
            grid.addWidget(QLabel(label), i // 2, (i % 2) * 2)
            grid.addWidget(widget, i // 2, (i % 2) * 2 + 1)
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
        self.open_button.clicked.connect(self._choose_run)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button, self.open_button):
            buttons.addWidget(button)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # where the data will live while training (on the GPU, streamed to it, in memory): see training.placement
        self.placement = QLabel("")
        self.placement.setWordWrap(True)
        self.placement.setToolTip("The dataset's size from the input's size per sample: kept whole on the GPU when it "
                                  "takes at most half its memory, else streamed batch by batch from host memory")
        self._placement_key = ""
        self.fix_input = QPushButton()  # shown when the dataset fits another input: one click applies it
        self.fix_input.setToolTip("Change the project's input to the dataset's image size (undoable)")
        self.fix_input.clicked.connect(self._apply_input_fix)
        self.fix_input.hide()
        self._suggested_input: list[int] | None = None

        # Two views, not one layout: a view repaints whole, so the accuracy plot (new points once an
        # epoch) is not repainted with every loss update. No grid: its lines made each repaint 2x dearer.
        self.canvas = QWidget()
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setMinimumHeight(180)
        plots_row = QHBoxLayout(self.canvas)
        plots_row.setContentsMargins(0, 0, 0, 0)
        views = []
        for title, y_label in (("Loss", "loss"), ("Accuracy", "accuracy")):
            view = pg.PlotWidget(background="w")
            styled_plot(view.getPlotItem(), title, "epoch", y_label)
            plots_row.addWidget(view)
            views.append(view)
        self.views = views
        loss, accuracy = views[0].getPlotItem(), views[1].getPlotItem()
        # loss falls and accuracy rises: each legend sits in the corner its curves leave empty
        for plot, corner in ((loss, (-5, 5)), (accuracy, (-5, -5))):
            plot.addLegend(offset=corner, labelTextColor=INK, brush=pg.mkBrush(255, 255, 255, 200))
        self.plots = {"loss": loss, "accuracy": accuracy}
        self.curves = {"step": _curve(loss, STEP, "train (per step)", False),
                       "train_loss": _curve(loss, TRAIN, "train", True),
                       "val_loss": _curve(loss, VAL, "validation", True),
                       "train_accuracy": _curve(accuracy, TRAIN, "train", True),
                       "val_accuracy": _curve(accuracy, VAL, "validation", True)}
        self.stage_marks = StageMarks([loss])  # the narrow accuracy plot has no room for the names twice

        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.placement)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.fix_input, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.canvas, 1)

    # project <-> fields -----------------------------------------------------------------------------
    def _on_project_changed(self, what: str) -> None:
        if what in ("sections", "all"):
            self._sync_from_project()
        elif what == "input":
            self._show_placement()

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
        self._show_section_problem()
        self._show_placement()

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
        doc = self.project.to_dict()
        key = json.dumps([doc["input"], doc.get("data", {}), self.device.currentData()], sort_keys=True)
        if key == self._placement_key:
            return
        self._placement_key = key
        try:
            text = "Data: " + data_placement(doc, self.device.currentData() or "auto").text
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
        self.run_dir = str(run_dir)
        self._clear_curves()
        self.fix_input.hide()
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
        self.status.setText(f"{Path(path).name}: {done[-1]['message'] if done else 'no result recorded'}{by}")
        epochs_done = int(run.state.get("epoch", 0))
        self.progress.setValue(int(1000 * epochs_done / max(self.epochs, 1)))
        self.progress.setFormat(f"epoch {epochs_done}/{self.epochs}")
        self._redraw()
        return True

    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.runs_root))
        if path:
            self.show_run(path)

    # updates from the worker ------------------------------------------------------------------------
    def _on_update(self, update: RunUpdate) -> None:
        if self.runner.owner is not self:
            return
        start = update.start
        if start is not None:
            self.steps_per_epoch = max(int(start["steps_per_epoch"]), 1)
            self.epochs = int(start["epochs"])
            self._device_name = start["device_name"]
            self.status.setText(f"Training on {start['device_name']}: {start['train_size']:,} training and "
                                f"{start['val_size']:,} validation samples")
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
            self.progress.setFormat(f"epoch {progress['epoch']}/{self.epochs}{stage} · "
                                    f"{progress['samples_per_s']:,.0f} samples/s · ETA {_clock(progress['eta_s'])}")
        news = update.compile  # compiling takes seconds with no steps: say so, then how it went
        if news is not None and news["event"] == "compiling":
            self.progress.setFormat(f"epoch {news['epoch']}/{self.epochs} · compiling…")
        elif news is not None:
            self.status.setText(f"Training on {self._device_name} · {news['message']}")
        if update.paused is not None:  # the engine has really stopped between steps (or gone on)
            self.progress.setFormat(("paused · " if update.paused else "") + self.progress.format()
                                    .removeprefix("paused · "))
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
        self.status.setText(done["message"])
        self._suggested_input = done.get("suggested_input")
        if self._suggested_input:
            self.fix_input.setText(f"Set the input to {fmt_shape(tuple(self._suggested_input))}")
        self.fix_input.setVisible(bool(self._suggested_input))
        self._set_state("idle")
        if done["status"] != "finished":
            self.progress.setFormat(f"{done['status']} · " + self.progress.format())
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
            self.progress.setFormat("paused · " + self.progress.format().removeprefix("paused · "))
