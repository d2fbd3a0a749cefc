"""`workbench pca RUN_DIR`: JSON numbers, the picture, and a one-line error for a bad folder."""
import json

import numpy as np
import pytest
import torch
from PySide6.QtGui import QImage

from workbench.cli import pca
from workbench.training.engine import Trainer


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("runs") / "linear"
    for _ in Trainer("linear-autoencoder", run_dir=path, device="cpu", epochs=60).events():
        pass
    torch.set_num_threads(threads)
    return path


def _grey(path):
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_Grayscale8)
    bits = image.constBits()
    return image, np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())[:, :image.width()]


def test_json_and_picture(run_dir, tmp_path, capsys):
    picture = tmp_path / "pca.png"
    assert pca.main([str(run_dir), "--json", "-o", str(picture), "--size", "1000x700"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    numbers = json.loads(out[0])
    assert numbers["k"] == 8 and numbers["pca_val_mse"] == pytest.approx(0.0240, abs=0.001)
    assert numbers["pca_val_mse"] < numbers["ae_val_mse"] < 3 * numbers["pca_val_mse"]
    image, grey = _grey(picture)
    assert (image.width(), image.height()) == (1000, 700)
    assert grey.std() > 20 and (grey < 100).mean() > 0.005  # curves, text and images, not a blank canvas


def test_a_missing_folder_is_one_line(tmp_path, capsys):
    assert pca.main([str(tmp_path / "nope"), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("workbench pca: ") and "no such run folder" in err and "\n" not in err


def test_a_classifier_run_is_refused(tmp_path, capsys):
    path = tmp_path / "cnn"
    for _ in Trainer("digits-cnn", run_dir=path, device="cpu", epochs=1, batch_size=512).events():
        pass
    assert pca.main([str(path)]) == 2
    assert "not an autoencoder" in capsys.readouterr().err
