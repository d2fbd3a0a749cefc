"""The autoencoder lab panel: experiments run in the training process and every view is drawn
(the jobs themselves are tested headless in tests/training/test_lab.py)."""
import multiprocessing
import os

import numpy as np
from PySide6.QtGui import QImage

from workbench.core.project import Project
from workbench.core.templates import template
from workbench.ui.lab.panel import LabPanel
from workbench.ui.shell.pictures import widget_png

from .test_window_support import WAIT_MS

SHOTS = os.environ.get("WORKBENCH_SHOTS")  # a folder to keep the pictures in, to look at them


def _project(name, **training):
    doc = template(name)
    doc["training"] = {**doc["training"], "device": "cpu", **training}
    return Project(doc)


def _picture(panel, tab, name, size=(1100, 760)):
    panel.tabs.setCurrentWidget(tab)
    data = widget_png(panel, size)
    if SHOTS:
        with open(os.path.join(SHOTS, f"{name}.png"), "wb") as f:
            f.write(data)
    image = QImage.fromData(data).convertToFormat(QImage.Format.Format_Grayscale8)
    grey = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[:, :image.width()]
    assert (image.width(), image.height()) == size
    assert grey.std() > 15, f"{name} looks blank"
    return grey


def _wait(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.busy(), timeout=WAIT_MS)


def test_layerwise_against_scratch_draws_a_curve_per_stage(qtbot):
    panel = LabPanel(_project("stacked-autoencoder", epochs=8, batch_size=256))
    qtbot.addWidget(panel)
    panel.compare_schedules()
    assert panel.busy() and not panel.compare_button.isEnabled()
    _wait(qtbot, panel)
    curves = panel.stages.curves
    assert set(curves) == {"layerwise: pretrain-1", "layerwise: pretrain-2", "layerwise: pretrain-3",
                           "layerwise: finetune", "scratch: training"}
    assert list(curves["scratch: training"].getData()[0]) == list(range(1, 9))
    assert list(curves["layerwise: finetune"].getData()[0]) == [4, 5, 6, 7, 8]
    assert "Same budget, 8 epochs" in panel.stages.plot.titleLabel.text
    assert panel.compare_button.isEnabled()
    _picture(panel, panel.stages, "lab-stages")


def test_train_and_analyse_fills_pca_compression_and_denoising(qtbot):
    panel = LabPanel(_project("linear-autoencoder", epochs=100))
    qtbot.addWidget(panel)
    panel.schedule.setCurrentIndex(0)
    panel.train_and_analyse()
    _wait(qtbot, panel)
    assert panel.analysis is not None, panel.status.text()
    assert "k = 8, PCA 0.024" in panel.status.text()
    assert panel.pca.points["linear-autoencoder"][0] == 8
    assert panel.compression.table.rowCount() == 4
    assert panel.compression.table.item(1, 0).text() == "8 bits per unit"
    assert "64 B ÷ 8 B = 8.0×" in panel.compression.table.item(1, 3).text()
    _picture(panel, panel.pca, "lab-pca", (1200, 900))
    _picture(panel, panel.compression, "lab-compression", (900, 400))
    panel.denoise.kind.setCurrentIndex(1)  # masking: the views follow the controls
    panel.denoise.level.setValue(0.4)
    recon = panel.denoise.examples.probe
    assert recon["corrupted"].shape == recon["inputs"].shape == (8, 1, 8, 8)
    assert (recon["corrupted"] == 0).mean() > (recon["inputs"] == 0).mean()
    panel.sweep()
    _wait(qtbot, panel)
    levels, denoised = panel.denoise.denoised_line.getData()
    assert list(levels) == [0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5] and denoised[-1] > denoised[0]
    _picture(panel, panel.denoise, "lab-denoise", (1000, 900))


def test_a_classifier_gets_a_message_not_a_traceback(qtbot):
    panel = LabPanel(_project("digits-cnn", epochs=1, batch_size=512))
    qtbot.addWidget(panel)
    panel.train_and_analyse()
    _wait(qtbot, panel)
    assert panel.analysis is None
    assert "failed: not an autoencoder" in panel.status.text()
    assert panel.train_button.isEnabled()
    panel.close()  # a lab of its own (no window's runner) ends its training process with it
    assert not [p for p in multiprocessing.active_children() if p.name == "workbench-training"]
