"""Filters forming: the first layer's filters kept per epoch in the run folder."""
import numpy as np
import torch

from workbench.core.templates import template
from workbench.training.engine import Trainer
from workbench.training.filter_history import read_history


def test_each_epoch_keeps_the_first_conv_layers_filters(tmp_path):
    doc = template("digits-cnn")
    doc["data"]["count"] = 120
    trainer = Trainer(doc, run_dir=tmp_path / "run", epochs=3, device="cpu")
    first = trainer.model[0].weight.detach().clone()
    list(trainer.events())
    history = read_history(tmp_path / "run")
    assert history.layer == 0 and history.epochs == [0, 1, 2, 3]
    assert all(f.shape == (16, 1, 3, 3) for f in history.filters)
    assert np.allclose(history.filters[0], first.numpy(), atol=1e-3)  # float16 snapshots
    assert np.allclose(history.filters[-1], trainer.model[0].weight.detach().numpy(), atol=1e-3)
    assert not np.allclose(history.filters[0], history.filters[-1])


def test_a_network_without_conv_keeps_its_first_linear_layer_as_images(tmp_path):
    doc = template("autoencoder")
    doc["data"]["count"] = 120
    list(Trainer(doc, run_dir=tmp_path / "run", epochs=1, device="cpu").events())
    history = read_history(tmp_path / "run")
    assert history.layer == 1 and history.epochs == [0, 1]
    assert history.filters[0].shape == (16, 1, 8, 8)


def test_a_folder_without_snapshots_has_an_empty_history(tmp_path):
    (tmp_path / "filters").mkdir()
    (tmp_path / "filters" / "epoch-0001-layer-0.npy").write_bytes(b"not numpy")
    history = read_history(tmp_path)
    assert history.layer is None and history.epochs == [] and history.filters == []
    assert read_history(tmp_path / "missing").epochs == []
