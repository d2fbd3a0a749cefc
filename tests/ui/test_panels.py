"""The insight panels on tiny trained runs: what a user sees, and no error on network edits."""
import copy

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from workbench.core.inference import summarize
from workbench.core.mosaic import tile
from workbench.core.project import Project
from workbench.training.probes import ProbeRequest, RunProbe
from workbench.training.run_folder import open_run
from workbench.ui.insight import InsightHub, request_for

from .test_window_support import WAIT_MS

ALL_KINDS = ["filters", "activations", "latent", "reconstructions", "confusion"]


@pytest.fixture(scope="module")
def runs(tiny_run):
    """Tiny runs: a CNN classifier and a denoising autoencoder, one epoch on 120 digits."""
    return {name: open_run(tiny_run(name)) for name in ("digits-cnn", "denoising-autoencoder")}


@pytest.fixture
def hub(qtbot):
    insight = InsightHub()
    for panel in insight.panels.values():
        qtbot.addWidget(panel)
        panel.resize(700, 500)
        panel.show()
    return insight


def _not_blank(panel, path) -> None:
    panel.export_png(path)
    image = QImage(str(path))
    assert image.width() > 100 and image.height() > 100
    pixels = np.frombuffer(image.convertToFormat(QImage.Format.Format_Grayscale8).constBits(), np.uint8)
    assert pixels.std() > 10


def test_mosaics_have_one_tile_per_channel(hub, runs):
    run = runs["digits-cnn"]
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    filters = hub["filters"]
    assert filters.mosaic.count == 16  # layer 0: Conv 16 @ 3×3
    filters.set_layer(2)
    assert filters.mosaic.count == 32 and filters.channel.isVisible()  # 16 input channels: one at a time
    acts = hub["activations"]
    acts.set_layer(2)
    assert [s[2].count for s in acts.sections[1:]] == [32]
    acts.set_layer(4)  # MaxPool: shown beside its input, 8×8 tiles reduced to 4×4
    first, pooled = acts.sections[1][2], acts.sections[2][2]
    assert (first.count, first.tile_h, pooled.count, pooled.tile_h) == (32, 8, 32, 4)


def test_latent_scatter_has_one_point_per_validation_sample(hub, runs):
    run = runs["digits-cnn"]
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    n = len(run.dataset().val_y)
    assert hub["latent"].points == n == len(hub["latent"].scatters[1].data)
    assert hub["confusion"].matrix.sum() == n


def test_reconstructions_show_input_corrupted_and_output_with_compression(hub, runs, tmp_path):
    run = runs["denoising-autoencoder"]
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    panel = hub["reconstructions"]
    assert panel.row_names == ["input", "corrupted", "reconstruction"]
    assert panel.mosaic.count == 3 * panel.count.value()
    assert "64 ÷ 32 = 2.0×" in panel.view.plot.titleLabel.text
    assert hub["confusion"].matrix is None  # an autoencoder has no confusion matrix
    assert not hub["confusion"].matrix_view.plot.getAxis("left").isVisible()  # nor axes with made-up numbers
    _not_blank(panel, tmp_path / "reconstructions.png")


def test_a_long_title_does_not_push_the_picture_past_the_panel_edge(hub, runs, qtbot):
    run = runs["denoising-autoencoder"]
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    panel = hub["reconstructions"]
    panel.count.setValue(16)
    panel.resize(420, 400)  # narrower than the title "Mean squared error … compression 64 ÷ 32 = 2.0× …"
    qtbot.wait(50)
    canvas = panel.canvas.viewport().width()
    assert panel.view.plot.vb.sceneBoundingRect().right() <= canvas  # all 16 columns are on screen
    assert panel.view.plot.titleLabel.toolTip().startswith("Mean squared error")


def test_every_panel_exports_a_picture_that_is_not_blank(hub, runs, tmp_path):
    run = runs["digits-cnn"]
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    for name in ("filters", "activations", "latent", "confusion", "curves"):
        _not_blank(hub[name], tmp_path / f"{name}.png")


def test_switching_and_removing_layers_while_panels_are_open(hub, runs):
    run = runs["digits-cnn"]
    project = Project(run.project)
    hub.set_summary(summarize(project))
    hub.show_run(run)
    for index in range(len(project)):
        hub.set_layer(index)
    hub.set_layer(99)
    hub["activations"].set_layer(5)
    project.remove_layer(5)  # the Flatten: later layers shift, their old maps no longer fit
    hub.set_summary(summarize(project))
    offered = [hub["activations"].layers.itemData(i) for i in range(hub["activations"].layers.count())]
    assert 9 not in offered and 5 not in offered
    project.remove_layer(2)  # a conv layer: its filters disappear
    hub.set_summary(summarize(project))
    assert 2 not in [hub["filters"].layers.itemData(i) for i in range(hub["filters"].layers.count())]
    project.replace({"input": [1, 8, 8], "layers": []})
    hub.set_summary(summarize(project))
    assert hub["filters"].mosaic is None and hub["activations"].sections == []


def test_layer_selection_syncs_both_ways_without_echo(hub, runs, qtbot):
    run = runs["digits-cnn"]
    hub.set_summary(summarize(run.project))
    hub.show_run(run)
    with qtbot.assertNotEmitted(hub.layer_selected):
        hub.set_layer(2)
    assert hub["filters"].layers.current() == 2 and hub["activations"].layers.current() == 2
    with qtbot.waitSignal(hub.layer_selected) as blocker:
        combo = hub["activations"].layers
        combo.activated.emit(combo.findData(4))
    assert blocker.args == [4] and hub["activations"].layers.current() == 4


def test_probe_request_follows_visible_panels(hub):
    assert request_for(hub.panels.values()) == ProbeRequest.for_panels(ALL_KINDS, sample=0)
    hub["latent"].hide()
    hub["filters"].hide()
    hub["activations"].sample.setValue(3)
    request = hub.request()
    assert (request.filters, request.latent, request.activations, request.sample) == (False, False, True, 3)


def test_live_probe_events_feed_visible_panels(hub, runs):
    run = runs["digits-cnn"]
    hub.set_summary(summarize(run.project))
    hub["latent"].hide()
    probe = RunProbe(run).capture(ProbeRequest.for_panels(ALL_KINDS))
    hub.add_event({"event": "probe", "global_step": 3, **probe})
    assert hub["filters"].mosaic.count == 16
    assert hub["latent"].points == 0  # hidden: not drawn


def test_tile_layout_and_hover_lookup():
    maps = np.arange(5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4)
    m = tile(maps, columns=2, gap=1)
    assert m.image.shape == (3 * 3 + 2, 2 * 4 + 1) and (m.rows, m.cols) == (3, 2)
    assert m.tile_at(*m.origin(3)) == 3 and m.tile_at(4, 0) is None  # x = 4 is the gap
    assert np.isnan(m.image[-1, -1])  # the sixth cell is empty
    assert np.nanmin(m.image) == 0 and np.nanmax(m.image) == 1


def test_confusion_matrix_is_sized_by_the_classes_and_numbered_only_when_small(hub):
    rng = np.random.default_rng(0)
    panel = hub["confusion"]
    summary = {"layers": [], "output": [100]}  # 100 outputs, 10 classes: predictions land beyond them too
    panel.set_summary(summary)
    panel.set_classes([str(i) for i in range(10)])
    counts = np.zeros((100, 100), np.int64)
    counts[:10] = rng.integers(0, 5, (10, 100))
    panel.update_probe({"confusion": counts})
    assert panel.matrix.shape == (10, 10) and panel.matrix_view.item.image.shape[:2] == (10, 10)
    assert panel.matrix_view.plot.getAxis("left").isVisible()
    np.testing.assert_array_equal(panel.cell_numbers.counts, counts[:10, :10])  # the classes' cells only
    accuracy = np.trace(counts) / counts.sum()  # predictions of output 10..99 count as wrong
    assert f"on {counts.sum()} validation samples: accuracy {accuracy:.1%}" in panel.matrix_view.plot.titleLabel.text

    panel.set_classes([f"class {i}" for i in range(30)])
    panel.set_summary({"layers": [], "output": [30]})
    panel.update_probe({"confusion": rng.integers(0, 5, (30, 30))})
    assert panel.matrix.shape == (30, 30) and panel.cell_numbers.counts.size == 0  # colour only
    corner = panel.matrix_view.plot.vb.mapViewToScene(pg.Point(2.5, 1.5))  # predicted 2, true 1
    assert panel.describe_at(corner) == f"true class 1, predicted class 2: {panel.matrix[1, 2]} samples"


def test_confusion_counts_are_written_on_their_cells(hub):
    panel = hub["confusion"]
    panel.set_classes([str(i) for i in range(10)])
    counts = np.full((10, 10), 7) + np.diag(np.full(10, 300))
    panel.update_probe({"confusion": counts})

    def matrix_pixels() -> np.ndarray:
        image = panel.canvas.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
        return pixels[:, :image.width()].astype(int)

    numbered = matrix_pixels()
    panel.cell_numbers.hide()
    plain = matrix_pixels()
    assert (numbered != plain).sum() > 100 * 10  # ten pixels at least for each of the 100 numbers


def test_filters_of_another_kernel_size_are_not_shown_under_the_new_label(hub, runs):
    run = runs["digits-cnn"]
    hub.show_run(run)
    filters = hub["filters"]
    assert filters.weights.shape[2:] == (3, 3)
    doc = copy.deepcopy(run.project)
    doc["layers"][0] = {**doc["layers"][0], "kernel_size": 5, "padding": 2}  # same output shape, 5×5 kernels
    hub.set_summary(summarize(doc))
    assert 0 not in [filters.layers.itemData(i) for i in range(filters.layers.count())]
    assert filters.view.plot.titleLabel.text.startswith("layer 2 · Conv 32 @ 3×3")  # the other conv still fits


def test_curves_go_on_cleanly_after_a_resume_and_mark_stages(hub, qtbot):
    curves = hub["curves"]
    start = {"event": "start", "steps_per_epoch": 10, "global_step": 0}
    batches = [{"event": "batch", "global_step": s, "train_loss": 1.0 / s} for s in range(1, 41)]
    epochs = [{"event": "epoch", "epoch": e, "global_step": 10 * e, "train_loss": 1.0, "val_loss": 2.0 / e,
               "stage": "pretrain-1" if e <= 2 else "finetune", "stage_epoch": e if e <= 2 else e - 2}
              for e in range(1, 5)]
    hub.add_events([start, *batches[:10], epochs[0], *batches[10:20], epochs[1], *batches[20:25]])
    hub.add_events([{**start, "global_step": 20}, *batches[20:40], epochs[2], epochs[3]])
    qtbot.waitUntil(lambda: curves.lines[2][0].getData()[0] is not None
                    and len(curves.lines[2][0].getData()[0]) == 4, timeout=WAIT_MS)  # repaints a few times a second
    x, _ = curves.lines[0][0].getData()
    assert list(x) == [s / 10 for s in range(1, 41)]  # step 21..25 of the stopped run were dropped
    assert list(curves.lines[2][0].getData()[0]) == [1, 2, 3, 4]
    assert curves.stage_marks.stages == ["pretrain-1", "finetune"]
    assert [line.value() for line, _ in curves.stage_marks.items] == [0, 2]


def test_latent_codes_move_in_a_steady_frame(hub):
    """The scatter's axes stay put while the codes move a little, grow at once when a code leaves
    the frame, and a view the user zoomed is theirs until the next run."""
    panel = hub["latent"]
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(200, 2)).astype(np.float32)  # 2 units: drawn as they are, no PCA
    labels = rng.integers(0, 10, 200)

    def show(values: np.ndarray) -> list[list[float]]:
        panel.update_probe({"latent": values, "labels": labels})
        return panel.codes_plot.vb.viewRange()

    first = show(codes)
    assert first[0][0] <= codes[:, 0].min() and codes[:, 0].max() <= first[0][1]
    assert show(codes * 1.05) == first  # a little wider: same axes
    assert show(codes * 0.8) == first  # a little narrower: same axes
    grown = show(codes * 3)
    assert grown[0][1] >= 3 * codes[:, 0].max() and grown[1][1] >= 3 * codes[:, 1].max()
    assert show(codes * 0.5)[0][1] < grown[0][1]  # a sixth of the frame: it shrinks to the codes
    panel.codes_plot.vb.sigRangeChangedManually.emit([True, True])  # the user zoomed or panned
    zoomed = panel.codes_plot.vb.viewRange()
    assert show(codes * 10) == zoomed
    panel.set_classes([str(i) for i in range(10)])  # another run
    assert show(codes * 10)[0][1] >= 10 * codes[:, 0].max()


def test_the_latent_legend_names_a_runs_classes_before_its_first_codes(hub, qtbot):
    """At a run's start the legend lists its classes (made on a turn of its own, not in the start
    event's); codes that arrive first make the legend of the classes they hold instead."""
    panel = hub["latent"]
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    panel.set_classes(names)
    qtbot.waitUntil(lambda: len(panel.legend.items) == 10)
    assert [label.text for _, label in panel.legend.items] == names
    panel.set_classes([f"class {i}" for i in range(4)])
    panel.update_probe({"latent": np.ones((6, 2), np.float32), "labels": np.array([0, 1, 0, 1, 0, 1])})
    assert [label.text for _, label in panel.legend.items] == ["class 0", "class 1"]
    for _ in range(5):  # the start's legend, had it been left waiting, would be made now
        QApplication.processEvents()
    assert [label.text for _, label in panel.legend.items] == ["class 0", "class 1"]


def test_a_tall_classification_panel_puts_the_wrong_samples_under_the_matrix(hub, qtbot):
    """Presentation mode's side column: side by side, the class names' axis and the samples were
    wider than the dock and the samples were cut off at its edge."""
    panel = hub["confusion"]
    names = ["circle", "square", "plus", "horizontal bars", "vertical bars", "diagonal bars",
             "anti-diagonal bars", "ring", "triangle", "cross"]
    panel.set_classes(names)
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 10
    predicted = (labels + 1) % 10  # every one wrong: twelve samples to show
    panel.update_probe({"confusion": rng.integers(0, 9, (10, 10)), "labels": labels, "predicted": predicted,
                        "confidence": rng.random(40), "inputs": rng.random((40, 3, 32, 32)).astype(np.float32)})
    for size, beside in (((1200, 300), True), ((520, 500), False)):
        panel.resize(*size)
        qtbot.waitUntil(lambda: panel.wrong_view.plot.sceneBoundingRect().right() <= panel.canvas.viewport().width())
        matrix, wrong = panel.matrix_view.plot.sceneBoundingRect(), panel.wrong_view.plot.sceneBoundingRect()
        assert (wrong.left() >= matrix.right() - 1) == beside and (wrong.top() >= matrix.bottom() - 1) != beside
        assert panel.wrong_view.item.image is not None


def test_a_live_probe_is_drawn_panel_by_panel_and_whole(hub, runs, qtbot):
    """Live probes go through the pacer (one panel per turn of the event loop): every visible panel
    ends up drawn, none left half done."""
    run = runs["digits-cnn"]
    hub.set_summary(summarize(run.project))
    probe = RunProbe(run).capture(ProbeRequest.for_panels(ALL_KINDS))
    hub.show_live_probe(probe)
    assert hub["filters"].mosaic is None  # not drawn within the call: the window goes on meanwhile
    n = len(probe["latent"])
    qtbot.waitUntil(lambda: hub.pacer.waiting == 0 and len(hub["latent"].scatters[1].data) == n)
    assert hub["filters"].mosaic.count == 16 and hub["latent"].points == n
    assert hub["confusion"].matrix.sum() == n
