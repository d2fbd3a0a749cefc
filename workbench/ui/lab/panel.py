"""The autoencoder lab: layer-wise pretraining against training from scratch, PCA against the
autoencoder at the same code size, compression, and denoising sweeps.

`LabPanel(project)` is a plain QWidget for a dock. Its experiments are the jobs of
workbench.training.lab, run in the training process by the window's `JobRunner` (the Training dock's
too: one job at a time); what comes back is plain numbers and numpy arrays, coalesced like a training
run's. The views (`StageCurves`, `PcaView`, `CompressionTable`, `DenoiseView`) take those results
and also render headless (`workbench pca -o`).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QLabel, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from workbench.core.mosaic import tile
from workbench.core.project import Project
from workbench.training.compression import CodeInfo, CompressionRow
from workbench.training.config import NOISE_KINDS
from workbench.training.denoise_sweep import SweepRow
from workbench.training.events import ComparisonEvent, DoneEvent
from workbench.training.lab import (AnalyseJob, AnalyseRunJob, AnalysisEvent, CompareJob, DenoiseExamples, LabEvent,
                                    SweepJob)
from workbench.training.updates import RunUpdate
from workbench.ui.insight.activations import input_picture
from workbench.ui.insight.base import BACKGROUND, INK, ImagePlot, outside_legend, set_title, styled_plot
from workbench.ui.insight.latent import LatentPanel
from workbench.ui.insight.reconstructions import ReconstructionsPanel
from workbench.ui.shell.flow import FlowLayout
from workbench.ui.training.runner import JobRunner

STAGE_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
FINETUNE_COLOUR, SCRATCH_COLOUR, PCA_COLOUR, AE_COLOUR = "#d62728", "#7f7f7f", "#1f77b4", "#d62728"
NOISE_TEXT = {"gaussian": "Gaussian (std)", "masking": "masking (fraction)", "salt_pepper": "salt and pepper (fraction)"}


def _canvas() -> pg.GraphicsLayoutWidget:
    canvas = pg.GraphicsLayoutWidget()
    canvas.setBackground(BACKGROUND)
    return canvas


def _plot(canvas: pg.GraphicsLayoutWidget, title: str, x_label: str, y_label: str, **where: int) -> pg.PlotItem:
    """A styled plot (plain numbers on its axes) with a light grid."""
    plot = styled_plot(canvas.addPlot(**where), title, x_label, y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    return plot


# stage curves ---------------------------------------------------------------------------------------

class StageCurves(QWidget):
    """Validation loss per epoch over the epoch budget: one curve per stage (pretrain-1 …, finetune)
    and, in a comparison, the from-scratch run; the current stage is marked by a line and a caption."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = _canvas()
        self.plot = _plot(self.canvas, "Validation loss by stage", "epoch of the budget", "validation loss (log)")
        self.plot.setLogMode(y=True)
        self.legend = outside_legend(self.canvas, self.plot)
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(INK, style=Qt.PenStyle.DashLine))
        self.marker_text = pg.TextItem(color=INK, anchor=(0, 0))
        self.plot.addItem(self.marker)
        self.plot.addItem(self.marker_text)
        self.marker.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.points: dict[str, tuple[list[float], list[float]]] = {}
        self.epochs_seen: dict[str, int] = {}
        self.current = ""

    def clear(self) -> None:
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.legend.clear()
        self.curves, self.points, self.epochs_seen, self.current = {}, {}, {}, ""
        self.marker.hide()
        self.marker_text.setText("")
        set_title(self.plot, "Validation loss by stage")

    def _curve(self, key: str) -> pg.PlotDataItem:
        if key not in self.curves:
            stage = key.split(": ")[-1]
            if key.startswith("scratch"):
                pen = pg.mkPen(SCRATCH_COLOUR, width=2, style=Qt.PenStyle.DashLine)
            elif stage == "finetune":
                pen = pg.mkPen(FINETUNE_COLOUR, width=2.5)
            else:
                number = int(stage.rsplit("-", 1)[-1]) if stage.startswith("pretrain-") else 0
                pen = pg.mkPen(STAGE_COLOURS[(number - 1) % len(STAGE_COLOURS)], width=2)
            self.curves[key] = self.plot.plot([], [], pen=pen, name=key, symbol="o", symbolSize=4,
                                              symbolBrush=pen.color(), symbolPen=None)
            self.legend.addItem(self.curves[key], key)
            self.points[key] = ([], [])
        return self.curves[key]

    def add_events(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Engine events (from `comparison_events` or a trainer); only epoch events draw."""
        touched = set()
        for event in events:
            if event.get("event") != "epoch":
                continue
            run = event.get("schedule") or "run"
            stage = event.get("stage") or "training"
            key = f"{run}: {stage}" if run != "run" else stage
            self.epochs_seen[run] = self.epochs_seen.get(run, 0) + 1
            self._curve(key)
            xs, ys = self.points[key]
            xs.append(self.epochs_seen[run])
            ys.append(max(float(event["val_loss"]), 1e-12))
            touched.add(key)
            if run != "scratch":
                self._mark(stage, xs[0])
        for key in touched:
            self.curves[key].setData(*self.points[key])

    def _mark(self, stage: str, start: float) -> None:
        if stage == self.current:
            return
        self.current = stage
        self.marker.setValue(start - 0.5)
        self.marker.show()
        self.marker_text.setText(f"now: {stage}")
        self.marker_text.setPos(start - 0.5, 0)

    def update_marker_height(self) -> None:
        top = max((max(ys) for _, ys in self.points.values() if ys), default=1.0)
        self.marker_text.setPos(self.marker.value(), float(np.log10(top)))

    def show_comparison(self, result: ComparisonEvent) -> None:
        """A finished `compare_with_scratch` result: both runs' curves and the final losses."""
        self.clear()
        for run in ("layerwise", "scratch"):
            curve = result[run]
            self.add_events([{"event": "epoch", "schedule": run, "stage": stage, "val_loss": loss}
                             for stage, loss in zip(curve["stage"], curve["val_loss"])])
        self.finish_comparison(result)

    def finish_comparison(self, result: ComparisonEvent) -> None:
        lw, sc = result["layerwise"], result["scratch"]
        self.marker_text.setText(f"fine-tuning from epoch {result['pretrain_epochs'] + 1}")
        self.update_marker_height()
        set_title(self.plot, f"Same budget, {result['budget']} epochs: layer-wise {lw['val_loss'][-1]:.4f} "
                           f"({lw['time_s']:.1f} s) vs from scratch {sc['val_loss'][-1]:.4f} ({sc['time_s']:.1f} s)")


# PCA vs autoencoder ---------------------------------------------------------------------------------

class PcaView(QWidget):
    """PCA's validation error against k with the autoencoders' points on it, the reconstructions
    (input / PCA / autoencoder) side by side, and the latent codes beside a PCA of the inputs."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = _canvas()
        self.errors = _plot(self.canvas, "Reconstruction error against code size k", "code size k",
                            "validation MSE per value", row=0, col=0)
        self.errors.setLogMode(x=True)
        self.pca_line = self.errors.plot([], [], pen=pg.mkPen(PCA_COLOUR, width=2), name="PCA (fitted on training)")
        self.ae_points = self.errors.plot([], [], pen=None, symbol="star", symbolSize=16, symbolBrush=AE_COLOUR,
                                          symbolPen=INK, name="autoencoder(s), same validation split")
        outside_legend(self.canvas, self.errors, columns=1)
        self.point_labels: list[pg.TextItem] = []
        self.images = ImagePlot(self.canvas, row=0, col=1)
        self.images.plot.hideAxis("left")
        self.images.plot.hideAxis("bottom")
        self.row_captions = [pg.TextItem(color=INK, anchor=(1, 0.5)) for _ in range(3)]
        for caption in self.row_captions:
            self.images.plot.addItem(caption)
        self.canvas.ci.layout.setColumnStretchFactor(0, 3)
        self.canvas.ci.layout.setColumnStretchFactor(1, 2)
        self.latent = LatentPanel()
        self.latent.for_picture()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 3)
        layout.addWidget(self.latent, 2)
        self.points: dict[str, tuple[int, float]] = {}  # name -> (k, validation MSE)

    def show_comparison(self, result: Any, keep_points: bool = True) -> None:
        """A workbench.training.pca_compare.PcaComparison; earlier autoencoders' points stay (on the
        same data) so a linear and a non-linear one can be set side by side."""
        if not keep_points:
            self.points = {}
        self.points[result.name or "autoencoder"] = (result.k, result.ae_val_mse)
        self.pca_line.setData(result.ks.astype(float), result.pca_curve)
        names = list(self.points)
        self.ae_points.setData([float(self.points[n][0]) for n in names], [self.points[n][1] for n in names])
        while len(self.point_labels) < len(names):
            label = pg.TextItem(color=INK, anchor=(0, 1))
            self.errors.addItem(label)
            self.point_labels.append(label)
        for label, name in zip(self.point_labels, names):
            k, error = self.points[name]
            label.setText(f"{name}: {error:.4f}")
            label.setPos(float(np.log10(k)) + 0.03, error)
        set_title(self.errors, f"k = {result.k}: PCA {result.pca_val_mse:.4f}, autoencoder {result.ae_val_mse:.4f} "
                             f"({result.ae_over_pca:.2f}× PCA)")
        self._show_images(result)
        self.latent.set_classes([str(i) for i in range(int(result.labels.max(initial=0)) + 1)])
        self.latent.update_probe({"latent": result.codes, "latent_layer": result.code_layer,
                                  "labels": result.labels, "inputs": result.code_inputs})

    def _show_images(self, result: Any) -> None:
        rows = (("input", result.inputs), (f"PCA, k={result.k}", result.pca_images), ("autoencoder", result.ae_images))
        n = len(result.inputs)
        pictures = np.stack([input_picture(im) for _, images in rows for im in images])
        mosaic = tile(pictures, columns=n, gap=max(1, pictures.shape[1] // 8), normalized=True)
        for row, (caption, (name, _)) in enumerate(zip(self.row_captions, rows)):
            caption.setText(name)
            caption.setPos(-mosaic.gap, mosaic.origin(row * n)[1] + mosaic.tile_h / 2)
        self.images.show(mosaic.image, "Validation images and their reconstructions")
        width, height = mosaic.image.shape[1], mosaic.image.shape[0]
        self.images.plot.setRange(xRange=(-0.4 * width, width), yRange=(0, height), padding=0.02)


# compression -----------------------------------------------------------------------------------------

class CompressionTable(QWidget):
    """Code size, compression ratio and the code's size at each precision next to the validation
    reconstruction error after really quantizing the code."""

    HEADERS = ("code precision", "code size", "code bytes", "ratio vs 8-bit input", "validation MSE")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel("Train an autoencoder or open a run to see how much its code compresses.")
        self.caption.setWordWrap(True)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)

    def set_rows(self, info: CodeInfo, rows: list[CompressionRow]) -> None:
        """info: a compression.CodeInfo; rows: compression.compression_table's."""
        self.caption.setText(f"Input {info.input_size} values → code {info.code_size} values (layer {info.layer}): "
                             f"compression ratio {info.input_size} ÷ {info.code_size} = {info.ratio:.1f}×. "
                             f"Quantized codes use each unit's range on the training split.")
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            precision = "float32 (not quantized)" if row["bits"] == 32 else f"{row['bits']} bits per unit"
            cells = (precision, str(row["code_size"]), f"{row['code_bytes']:g} B",
                     f"{row['input_bytes']} B ÷ {row['code_bytes']:g} B = {row['byte_ratio']:.1f}×", f"{row['val_mse']:.5f}")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()


# denoising -------------------------------------------------------------------------------------------

class DenoiseView(QWidget):
    """Noise type and level, a clean / noisy / denoised view of any validation samples (the insight
    Reconstructions panel), and a sweep of the error against the noise level."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = QComboBox()
        for key in NOISE_KINDS:
            self.kind.addItem(NOISE_TEXT[key], key)
        self.level = QDoubleSpinBox()
        self.level.setRange(0.0, 1.0)
        self.level.setSingleStep(0.05)
        self.level.setValue(0.3)
        self.sample = QSpinBox()
        self.sample.setRange(0, 0)
        self.sample.setMinimumWidth(70)
        self.sweep_button = QPushButton("Sweep noise levels")
        bar = FlowLayout()
        for widget in (QLabel("Noise"), self.kind, QLabel("level"), self.level, QLabel("from sample"), self.sample,
                       self.sweep_button):
            bar.addWidget(widget)
        self.examples = ReconstructionsPanel()
        self.examples.count.setValue(8)
        self.canvas = _canvas()
        self.plot = _plot(self.canvas, "Reconstruction error against noise", "noise level",
                          "validation MSE per value (vs clean)")
        self.noisy_line = self.plot.plot([], [], pen=pg.mkPen(SCRATCH_COLOUR, width=2, style=Qt.PenStyle.DashLine),
                                         symbol="o", symbolBrush=SCRATCH_COLOUR, name="noisy input (do nothing)")
        self.denoised_line = self.plot.plot([], [], pen=pg.mkPen(AE_COLOUR, width=2.5), symbol="o",
                                            symbolBrush=AE_COLOUR, name="denoised by the autoencoder")
        outside_legend(self.canvas, self.plot, columns=1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.examples, 1)
        layout.addWidget(self.canvas, 1)

    def noise(self) -> tuple[str, float]:
        return self.kind.currentData(), self.level.value()

    def show_examples(self, clean: np.ndarray, noisy: np.ndarray, denoised: np.ndarray) -> None:
        self.examples.update_probe({"inputs": clean, "corrupted": noisy, "reconstructions": denoised})

    def show_sweep(self, rows: list[SweepRow]) -> None:
        levels = [r["level"] for r in rows]
        self.noisy_line.setData(levels, [r["noisy_mse"] for r in rows])
        self.denoised_line.setData(levels, [r["denoised_mse"] for r in rows])
        kind = NOISE_TEXT.get(rows[0]["kind"], rows[0]["kind"]) if rows else ""
        set_title(self.plot, f"Reconstruction error against {kind} noise")
        self.plot.setLabel("bottom", f"noise level: {kind}", color=INK)


# the panel -------------------------------------------------------------------------------------------

class LabPanel(QWidget):
    """The autoencoder lab, for a dock: it reads the project (a core Project model) when an
    experiment starts, so later edits never race with it."""

    def __init__(self, project: Project, parent: QWidget | None = None, runner: JobRunner | None = None):
        """runner: the window's, shared with the Training dock (one training process); by default
        the panel's own."""
        super().__init__(parent)
        self.setWindowTitle("Autoencoder lab")
        self.project = project
        self._own_runner = runner is None  # shut down with the panel; the window's outlives it
        self.runner = runner or JobRunner(self)
        self.runner.updated.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.analysis: AnalysisEvent | None = None  # the last analysis (its network stays in the process)
        self._what = ""  # the experiment running, for its messages
        self.schedule = QComboBox()
        self.schedule.addItem("plain schedule", "plain")
        self.schedule.addItem("layer-wise pretraining", "layerwise")
        self.train_button = QPushButton("Train && analyse")
        self.train_button.setToolTip("Train this project's autoencoder, then compare it with PCA, "
                                     "its compressed codes and its denoising")
        self.compare_button = QPushButton("Layer-wise vs scratch")
        self.compare_button.setToolTip("Train the project twice on the same epoch budget: greedy layer-wise "
                                       "pretraining then fine-tuning, and from scratch")
        self.open_button = QPushButton("Analyse run…")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.status = QLabel("Pick an experiment.")
        self.status.setWordWrap(True)
        bar = FlowLayout()  # wraps in a narrow dock (presentation mode) instead of widening it
        for widget in (self.schedule, self.train_button, self.compare_button, self.open_button, self.stop_button):
            bar.addWidget(widget)
        self.stages = StageCurves()
        self.pca = PcaView()
        self.compression = CompressionTable()
        self.denoise = DenoiseView()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.stages, "Stages")
        self.tabs.addTab(self.pca, "PCA vs autoencoder")
        self.tabs.addTab(self.compression, "Compression")
        self.tabs.addTab(self.denoise, "Denoising")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        self.train_button.clicked.connect(self.train_and_analyse)
        self.compare_button.clicked.connect(self.compare_schedules)
        self.open_button.clicked.connect(self._ask_run)
        self.stop_button.clicked.connect(self.stop)
        self.denoise.sweep_button.clicked.connect(self.sweep)
        self.denoise.kind.currentIndexChanged.connect(lambda _: self.show_denoised())
        self.denoise.level.valueChanged.connect(lambda _: self.show_denoised())
        self.denoise.sample.valueChanged.connect(lambda _: self.show_denoised())

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        if self._own_runner:
            self.runner.shutdown()
        super().closeEvent(event)

    # experiments ---------------------------------------------------------------------------------
    def train_and_analyse(self) -> None:
        self.stages.clear()
        self._start(AnalyseJob(self.project.to_dict(), self.schedule.currentData()), "Training")

    def compare_schedules(self) -> None:
        self.stages.clear()
        self.tabs.setCurrentWidget(self.stages)
        self._start(CompareJob(self.project.to_dict()), "Layer-wise, then from scratch")

    def analyse_run(self, path: str) -> None:
        self._start(AnalyseRunJob(path), f"Analysing {path}")

    def sweep(self) -> None:
        if self.analysis is None:
            self.status.setText("Train an autoencoder or open a run first.")
            return
        self._start(SweepJob(self.denoise.noise()[0]), "Sweeping noise levels")

    def stop(self) -> None:
        if self.busy():
            self.runner.stop()
            self.status.setText("Stopped.")

    def busy(self) -> bool:
        return self.runner.running and self.runner.owner is self

    def _ask_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Analyse a run folder")
        if path:
            self.analyse_run(path)

    def _start(self, job: Any, what: str) -> None:
        if self.runner.running and not self.busy():
            self.status.setText("Training is running in the Training panel: stop it, then start an experiment.")
            return
        if self.busy():  # starting a new experiment cancels the old one
            self.runner.stop_job()
        self._what = what
        self.status.setText(f"{what}…")
        for button in (self.train_button, self.compare_button, self.open_button):
            button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.runner.submit(job, owner=self)

    def _finished(self, done: DoneEvent) -> None:
        if self.runner.owner is not self:
            return
        if done["status"] == "failed":
            self.status.setText(f"{self._what} failed: {done['message']}")
        for button in (self.train_button, self.compare_button, self.open_button):
            button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _progress(self, update: RunUpdate) -> None:
        if self.runner.owner is not self:
            return
        self.stages.add_events(update.epochs)
        last = update.epochs[-1] if update.epochs else None
        if last is not None:
            run = f"{last['schedule']} · " if last.get("schedule") else ""
            self.status.setText(f"{run}{last.get('stage') or 'training'}: epoch {last['epoch']}, "
                                f"validation loss {last['val_loss']:.4f}")
        for result in update.results:
            self._result(result)

    # results ----------------------------------------------------------------------------------------
    def _result(self, result: LabEvent) -> None:
        if result["event"] == "comparison":
            self._compared(result)
        elif result["event"] == "analysis":
            self._analysed(result)
        elif result["event"] == "sweep":
            self._swept(result["rows"])

    def _compared(self, result: ComparisonEvent) -> None:
        self.stages.finish_comparison(result)
        self.status.setText(self.stages.plot.titleLabel.text)

    def _analysed(self, analysis: AnalysisEvent) -> None:
        self.analysis = analysis
        self.pca.show_comparison(analysis["pca"])
        self.compression.set_rows(analysis["info"], analysis["compression"])
        self.denoise.sample.setRange(0, max(0, analysis["val_size"] - 1))
        self.show_denoised()
        p = analysis["pca"]
        self.status.setText(f"{p.name}: k = {p.k}, PCA {p.pca_val_mse:.4f}, autoencoder {p.ae_val_mse:.4f} "
                            f"({p.ae_over_pca:.2f}× PCA's validation error)")
        self.tabs.setCurrentWidget(self.pca)

    def _swept(self, rows: list[SweepRow]) -> None:
        self.denoise.show_sweep(rows)
        worst = rows[-1]
        self.status.setText(f"At {worst['kind']} noise {worst['level']:g}: noisy input {worst['noisy_mse']:.4f}, "
                            f"denoised {worst['denoised_mse']:.4f} (validation MSE per value)")

    def show_denoised(self) -> None:
        """Clean / noisy / denoised for the chosen samples: a few images, computed by the training
        process at once (beside any job) while the window waits."""
        if self.analysis is None:
            return
        kind, level = self.denoise.noise()
        question = DenoiseExamples(self.denoise.sample.value(), self.denoise.examples.count.value(), kind, level)
        try:
            self.denoise.show_examples(*self.runner.ask(question))
        except (ValueError, RuntimeError) as exc:  # the process was restarted: its network is gone
            self.status.setText(f"Cannot show denoised samples: {exc}")
