"""The health panel and the saliency picture: what a user sees for a sick and a healthy network."""
import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.core.inference import summarize
from workbench.training.attribution import explain
from workbench.training.run_folder import open_run
from workbench.ui.insight.health import HealthPanel, PowerAxis, findings_html, level_of
from workbench.ui.insight.saliency import SaliencyPanel, explanation_picture


def layer(i, **values):
    base = {"layer": i, "act_mean": 0.0, "act_std": 1.0, "dead": None, "saturated": None, "grad_ratio": None,
            "weight_grad": None, "update_ratio": None}
    return {**base, **values}


SICK = {"event": "health", "epoch": 1, "global_step": 17, "layers": [
    layer(0, grad_ratio=1e-9, update_ratio=1e-8, weight_grad=1e-9), layer(1, saturated=0.97, grad_ratio=1e-3),
    layer(2, grad_ratio=1.0, update_ratio=0.01, weight_grad=0.5)],
    "findings": [{"layer": 0, "finding": "vanishing-gradient", "level": "red",
                  "message": "gradients here are 10⁹ times smaller than at the output — vanishing: try ReLU"},
                 {"layer": 1, "finding": "saturated", "level": "amber", "message": "97 % of these outputs sit …"}]}
PROJECT = {"input": [4], "layers": [{"type": "Linear", "out_features": 4}, {"type": "Sigmoid"},
                                   {"type": "Linear", "out_features": 2}]}


def _not_blank(widget, path) -> None:
    widget.export_png(path)
    image = QImage(str(path))
    pixels = np.frombuffer(image.convertToFormat(QImage.Format.Format_Grayscale8).constBits(), np.uint8)
    assert pixels.std() > 10


def test_the_findings_are_written_under_the_plots_and_the_layers_coloured(qtbot, tmp_path):
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    assert "appear here" in panel.findings.text()
    panel.set_summary(summarize(PROJECT))
    panel.add_events([SICK])
    text = panel.findings.text()
    assert "Layer 0 (Linear):</b> gradients here are 10⁹ times smaller" in text
    assert "Layer 1 (Sigmoid):" in text
    assert level_of(0, SICK["findings"]) == "red" and level_of(2, SICK["findings"]) is None
    x, y = panel.points["gradient"].getData()
    assert list(x) == [0, 1, 2] and list(np.round(y)) == [-9, -3, 0]
    assert panel.findings.text().startswith("<b>Step 17, epoch 1.</b>")
    assert not panel.plots["time"].isVisible()  # no timing yet
    panel.add_events([{"event": "timing", "epoch": 1, "global_step": 20, "device": "cpu", "batch_size": 8,
                       "layers": [{"layer": i, "forward_s": 1e-4, "backward_s": 1e-4, "time_share": 1 / 3,
                                   "macs_share": 0.5 if i != 1 else 0.0, "slow": i == 1} for i in range(3)]}])
    assert panel.plots["time"].isVisible()
    _not_blank(panel, tmp_path / "health.png")
    assert "layer 1 (Sigmoid)" in panel._describe(1) and "97 % saturated" in panel._describe(1)
    panel.add_events([{"event": "start", "global_step": 0}])  # a fresh run clears the picture
    assert panel.latest is None and "appear here" in panel.findings.text()


def test_the_same_finding_on_many_layers_is_one_line():
    found = [{"layer": i, "finding": "vanishing-gradient", "level": "red", "message": f"m{i}"} for i in (1, 3, 5)]
    text = findings_html(found + [{"layer": None, "finding": "flat-loss", "level": "amber", "message": "flat"}], [])
    assert text.count("●") == 2 and "Layers 1, 3, 5 (layer 1's numbers):</b> m1" in text and "Network:</b> flat" in text
    assert findings_html([], []) == "<b>Healthy:</b> no findings."


def test_log_axes_read_as_plain_factors(qtbot):
    panel = HealthPanel()  # the panel's own axes: the plots' shared styling once swapped them for linear ones ("-2")
    qtbot.addWidget(panel)
    for name in ("gradient", "update"):
        axis = panel.plots[name].getAxis("left")
        assert isinstance(axis, PowerAxis)
        assert axis.tickStrings([-3.0, -1.0, 0.0, 2.0, -8.0, 0.5], 1, 1) == ["1/1,000", "1/10", "1", "100", "10⁻⁸", ""]


def test_a_saved_runs_health_and_saliency_are_drawn(qtbot, tiny_run, tmp_path):
    run = open_run(tiny_run("digits-cnn"))
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    panel.set_summary(summarize(run.project))
    panel.set_records(run.health())
    assert panel.latest is not None and len(panel.latest["layers"]) == len(run.project["layers"])
    _not_blank(panel, tmp_path / "health.png")
    model = run.load_model()
    x = run.dataset().val_x[0]
    explanation = explain(model, x)
    image, lefts, names, zoom = explanation_picture(x.numpy(), explanation)
    assert names[0] == "input" and names[2] == "Grad-CAM at layer 2" and len(lefts) == 4
    assert image.shape[0] == 8 * zoom and zoom == 20
    view = SaliencyPanel()
    qtbot.addWidget(view)
    view.resize(800, 400)
    view.show()
    view.show_explanation(x.numpy(), explanation, "title")
    _not_blank(view, tmp_path / "saliency.png")


def test_a_network_without_relu_sigmoid_or_tanh_shows_its_health_without_unit_bars(qtbot):
    """A linear autoencoder has no dead or saturated units to count: pyqtgraph's bar item raised on
    the empty bars (a traceback on stderr at every statistics event of such a run)."""
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.show()
    linear = {"input": [4], "layers": [{"type": "Linear", "out_features": 2}, {"type": "Linear", "out_features": 4}]}
    panel.set_summary(summarize(linear))
    panel.add_events([{"event": "health", "epoch": 1, "global_step": 5, "findings": [],
                       "layers": [layer(0, grad_ratio=0.5), layer(1, grad_ratio=1.0)]}])
    assert panel.findings.text().startswith("<b>Step 5, epoch 1.</b>")
    assert len(panel.points["gradient"].getData()[0]) == 2
