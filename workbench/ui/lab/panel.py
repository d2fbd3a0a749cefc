"""The autoencoder lab: layer-wise pretraining against training from scratch, PCA against the
autoencoder at the same code size, compression, and denoising sweeps.

`LabPanel(project)` is a plain QWidget for a dock. Its experiments are the Qt-free functions of
workbench.training (layerwise, pca_compare, compression, denoise_sweep) run in superqt generator
workers off the GUI thread; what comes back is plain numbers and numpy arrays, at most
`MAX_UPDATES_PER_S` times a second. The views (`StageCurves`, `PcaView`, `CompressionTable`,
`DenoiseView`) take those results and also render headless (`workbench pca -o`).
"""
from __future__ import annotations

import time
from typing import Any, Generator, Iterator

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QLabel, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)
from superqt.utils import create_worker

from workbench.core.mosaic import tile
from workbench.core.project import Project
from workbench.training.events import ComparisonEvent, DoneEvent, Event
from workbench.ui.insight.activations import input_picture
from workbench.ui.insight.base import BACKGROUND, INK, ImagePlot, outside_legend, set_title, styled_plot
from workbench.ui.insight.latent import LatentPanel
from workbench.ui.insight.reconstructions import ReconstructionsPanel
from workbench.ui.shell.flow import FlowLayout
from workbench.ui.training.runner import gui_torch_threads

MAX_UPDATES_PER_S = 20
STAGE_COLOURS = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
FINETUNE_COLOUR, SCRATCH_COLOUR, PCA_COLOUR, AE_COLOUR = "#d62728", "#7f7f7f", "#1f77b4", "#d62728"
NOISE_KINDS = {"gaussian": "Gaussian (std)", "masking": "masking (fraction)", "salt_pepper": "salt and pepper (fraction)"}


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

    def add_events(self, events: list[dict]) -> None:
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

    def show_comparison(self, result: dict) -> None:
        """A finished `compare_with_scratch` result: both runs' curves and the final losses."""
        self.clear()
        for run in ("layerwise", "scratch"):
            curve = result[run]
            self.add_events([{"event": "epoch", "schedule": run, "stage": stage, "val_loss": loss}
                             for stage, loss in zip(curve["stage"], curve["val_loss"])])
        self.finish_comparison(result)

    def finish_comparison(self, result: dict) -> None:
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

    def set_rows(self, info: Any, rows: list[dict]) -> None:
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
        for key, text in NOISE_KINDS.items():
            self.kind.addItem(text, key)
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

    def show_sweep(self, rows: list[dict]) -> None:
        levels = [r["level"] for r in rows]
        self.noisy_line.setData(levels, [r["noisy_mse"] for r in rows])
        self.denoised_line.setData(levels, [r["denoised_mse"] for r in rows])
        kind = NOISE_KINDS.get(rows[0]["kind"], rows[0]["kind"]) if rows else ""
        set_title(self.plot, f"Reconstruction error against {kind} noise")
        self.plot.setLabel("bottom", f"noise level: {kind}", color=INK)


# the jobs (run in worker threads) --------------------------------------------------------------------

def _throttled(events: Iterator[Event | ComparisonEvent],
               keep: tuple[str, ...] = ("start", "epoch", "done")) -> Iterator[list[Event | ComparisonEvent]]:
    """Engine events in lists, at most MAX_UPDATES_PER_S lists a second (plus the last). A list may be
    empty: the worker can only be stopped where its generator yields, so it yields between steps too
    (Stop then acts within a step, not at the end of an epoch)."""
    pending: list[Event | ComparisonEvent] = []
    last = 0.0
    for event in events:
        if event["event"] in keep:
            pending.append({k: v for k, v in event.items() if k != "val_confusion"})  # type: ignore[arg-type]
        now = time.monotonic()
        if now - last >= 1 / MAX_UPDATES_PER_S or event["event"] == "done":
            yield pending
            pending, last = [], now
    if pending:
        yield pending


class Analysis:
    """A trained autoencoder ready to analyse: its project, CPU model in eval mode and dataset."""

    def __init__(self, project: dict, model: torch.nn.Module, data: Any, name: str):
        self.project, self.model, self.data, self.name = project, model.cpu().eval(), data, name
        from workbench.training.pca_compare import image_output

        self.output = image_output(project, self.model)

    def results(self) -> dict:
        from workbench.training.compression import code_info, compression_table
        from workbench.training.pca_compare import compare

        info = code_info(self.project)
        return {"pca": compare(self.project, self.model, self.data, self.name), "info": info,
                "compression": compression_table(self.model, info, self.data.train_x, self.data.val_x,
                                                 output=self.output)}


def _comparison_job(project: dict) -> Generator[list, None, Any]:
    from workbench.training.layerwise import comparison_events

    torch.set_num_threads(gui_torch_threads())
    result = None
    events = comparison_events(project, log_interval_s=1 / MAX_UPDATES_PER_S)
    for batch in _throttled(events, ("start", "epoch", "done", "comparison")):
        result = next((e for e in batch if e["event"] == "comparison"), result)
        yield batch
    return result


def _train_job(project: dict, schedule: str) -> Generator[list, None, Any]:
    from workbench.data import load_dataset
    from workbench.training.schedules import make_trainer

    torch.set_num_threads(gui_torch_threads())
    data = load_dataset(project.get("data", {}), project["input"])
    trainer = make_trainer(project, schedule, dataset=data, log_interval_s=1 / MAX_UPDATES_PER_S)
    done: DoneEvent | None = None
    for batch in _throttled(trainer.events()):
        done = next((e for e in batch if e["event"] == "done"), done)
        yield batch
    if done is None or done["status"] != "finished":
        raise ValueError(f"training {done['status'] if done else 'ended'}: {done['message'] if done else ''}")
    analysis = Analysis(project, trainer.model, data, project.get("name") or "autoencoder")
    return analysis, analysis.results()


def _run_job(path: str) -> Generator[list, None, Any]:
    from workbench.training.run_folder import open_run

    run = open_run(path)
    yield [{"event": "start"}]
    analysis = Analysis(run.project, run.load_model(), run.dataset(), run.project.get("name") or run.path.name)
    return analysis, analysis.results()


def _sweep_job(analysis: Analysis, kind: str) -> Generator[list, None, Any]:
    from workbench.training.denoise_sweep import denoise_sweep

    yield []
    return denoise_sweep(analysis.model, analysis.data.val_x, kind, output=analysis.output)


# the panel -------------------------------------------------------------------------------------------

class LabPanel(QWidget):
    """The autoencoder lab, for a dock: it reads the project (a core Project model) when an
    experiment starts, so later edits never race with it."""

    def __init__(self, project: Project, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Autoencoder lab")
        self.project = project
        self.worker: Any = None
        self.analysis: Analysis | None = None
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

    # experiments ---------------------------------------------------------------------------------
    def train_and_analyse(self) -> None:
        self.stages.clear()
        self._start(_train_job(self.project.to_dict(), self.schedule.currentData()), "Training", self._analysed)

    def compare_schedules(self) -> None:
        self.stages.clear()
        self.tabs.setCurrentWidget(self.stages)
        self._start(_comparison_job(self.project.to_dict()), "Layer-wise, then from scratch", self._compared)

    def analyse_run(self, path: str) -> None:
        self._start(_run_job(path), f"Analysing {path}", self._analysed)

    def sweep(self) -> None:
        if self.analysis is None:
            self.status.setText("Train an autoencoder or open a run first.")
            return
        self._start(_sweep_job(self.analysis, self.denoise.noise()[0]), "Sweeping noise levels", self._swept)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.quit()
            self.status.setText("Stopped.")

    def busy(self) -> bool:
        return self.worker is not None

    def _ask_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Analyse a run folder")
        if path:
            self.analyse_run(path)

    def _start(self, job: Iterator[Any], what: str, on_result: Any) -> None:
        if self.worker is not None:
            self.worker.quit()  # starting a new experiment cancels the old one
        # errors become a status line (errored below), not a re-raise in the GUI thread
        worker = create_worker(lambda: (yield from job), _start_thread=False, _ignore_errors=True)
        worker.yielded.connect(self._progress)
        worker.returned.connect(on_result)
        worker.errored.connect(lambda exc: self.status.setText(f"{what} failed: {exc}"))
        worker.finished.connect(lambda: self._finished(worker))
        self.worker = worker
        self.status.setText(f"{what}…")
        for button in (self.train_button, self.compare_button, self.open_button):
            button.setEnabled(False)
        self.stop_button.setEnabled(True)
        worker.start()

    def _finished(self, worker: Any) -> None:
        if worker is not self.worker:
            return
        self.worker = None
        for button in (self.train_button, self.compare_button, self.open_button):
            button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _progress(self, events: list[dict]) -> None:
        if not events:  # the worker only gave a chance to stop it
            return
        self.stages.add_events(events)
        last = next((e for e in reversed(events) if e.get("event") == "epoch"), None)
        if last is not None:
            run = f"{last['schedule']} · " if last.get("schedule") else ""
            self.status.setText(f"{run}{last.get('stage') or 'training'}: epoch {last['epoch']}, "
                                f"validation loss {last['val_loss']:.4f}")

    # results ----------------------------------------------------------------------------------------
    def _compared(self, result: dict | None) -> None:
        if result:
            self.stages.finish_comparison(result)
            self.status.setText(self.stages.plot.titleLabel.text)

    def _analysed(self, outcome: tuple[Analysis, dict]) -> None:
        self.analysis, results = outcome
        self.pca.show_comparison(results["pca"])
        self.compression.set_rows(results["info"], results["compression"])
        self.denoise.sample.setRange(0, max(0, len(self.analysis.data.val_x) - 1))
        self.show_denoised()
        p = results["pca"]
        self.status.setText(f"{p.name}: k = {p.k}, PCA {p.pca_val_mse:.4f}, autoencoder {p.ae_val_mse:.4f} "
                            f"({p.ae_over_pca:.2f}× PCA's validation error)")
        self.tabs.setCurrentWidget(self.pca)

    def _swept(self, rows: list[dict]) -> None:
        self.denoise.show_sweep(rows)
        worst = rows[-1]
        self.status.setText(f"At {worst['kind']} noise {worst['level']:g}: noisy input {worst['noisy_mse']:.4f}, "
                            f"denoised {worst['denoised_mse']:.4f} (validation MSE per value)")

    def show_denoised(self) -> None:
        """Clean / noisy / denoised for the chosen samples (a few images: cheap on the GUI thread)."""
        if self.analysis is None:
            return
        from workbench.training.denoise_sweep import denoise_examples

        kind, level = self.denoise.noise()
        start = self.denoise.sample.value()
        x = self.analysis.data.val_x[start:start + self.denoise.examples.count.value()]
        self.denoise.show_examples(*denoise_examples(self.analysis.model, x, kind, level, self.analysis.output))
