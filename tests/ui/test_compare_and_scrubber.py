"""Runs side by side in the window, and the first layer's filters scrubbed through epochs."""

import numpy as np
import pytest

from workbench.core.inference import summarize
from workbench.core.templates import template
from workbench.training.filter_history import FilterHistory, read_history
from workbench.ui.insight.compare import CompareView, diff_cells
from workbench.ui.insight.filter_scrubber import FilterScrubber, steady_scale



def test_two_runs_show_curves_metrics_and_the_diff(qtbot, two_runs):
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    assert "Add two or more" in view.message.text()
    view.add_run(two_runs[0])
    view.add_run(two_runs[0].parent / "missing")
    assert "no such run folder" in view.message.text() and len(view.paths) == 1
    view.add_run(two_runs[1])
    assert view.comparison is not None and view.message.text() == ""
    assert [view.metrics.horizontalHeaderItem(c).text() for c in range(3)] == ["metric", "small", "wide"]
    assert view.metrics.item(0, 0).text() == "epochs" and view.metrics.item(0, 2).text() == "3"
    legend = [label.text for _, label in view.plots["val_loss"].legend.items]
    assert legend == ["small", "wide"]
    rows = [[view.diff.item(r, c).text() for c in range(6)] for r in range(view.diff.rowCount())]
    assert ["+", "5  Dropout 0.1", "4×4×48", "0", "0", "6"] in rows
    changed = next(r for r in rows if r[0] == "~" and "Conv" in r[1])
    assert changed[1] == "2  Conv 32 @ 3×3, s1, p1 → Conv 48 @ 3×3, s1, p1" and changed[2] == "8×8×32 → 8×8×48"
    view.set_runs([])
    assert view.diff.rowCount() == 0 and view.against.count() == 0


def test_a_removed_layer_is_named_where_it_was():
    removed = {"status": "removed", "a": {"index": 7, "label": "ReLU", "output": [64], "params": 0, "macs": 0,
                                          "receptive_field": 8}, "b": None, "changes": []}
    assert diff_cells(removed) == ["−", "was 7  ReLU", "64", "0", "0", "8"]


def test_the_scrubber_walks_the_epochs_on_one_colour_scale(qtbot, two_runs):
    scrubber = FilterScrubber()
    qtbot.addWidget(scrubber)
    scrubber.resize(800, 500)
    scrubber.show()
    assert "Open a run" in scrubber.view.plot.titleLabel.text
    scrubber.set_summary(summarize(template("digits-cnn")))
    scrubber.set_run(two_runs[0])
    assert scrubber.slider.maximum() == 2 and scrubber.slider.value() == 2
    assert "after epoch 2" in scrubber.view.plot.titleLabel.text
    scrubber.slider.setValue(0)
    assert "before training" in scrubber.view.plot.titleLabel.text and scrubber.epoch_label.text() == "0 of 2"
    history = read_history(two_runs[0])
    scaled = steady_scale(history)
    assert max(np.abs(s).max() for s in scaled) == pytest.approx(1.0)
    per_filter = np.stack([np.abs(s).max(axis=(1, 2, 3)) for s in scaled]).max(axis=0)
    assert np.allclose(per_filter, 1.0)  # each filter's largest weight over the epochs is full colour
    scrubber.set_history(FilterHistory(None, [], []))
    assert not scrubber.slider.isEnabled()
