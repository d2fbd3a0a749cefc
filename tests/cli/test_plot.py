"""`workbench plot`: every picture from a tiny run exists, has the asked size and is not blank;
bad input is one line and a non-zero exit."""
import numpy as np
import pytest
from PySide6.QtGui import QImage

from workbench.cli import plot


@pytest.fixture(scope="module")
def run_dirs(tiny_run):
    return {name: tiny_run(name) for name in ("digits-cnn", "deep-autoencoder")}


@pytest.mark.parametrize("name, what, extra", [
    ("digits-cnn", "filters", []), ("digits-cnn", "filters", ["--layer", "2"]),
    ("digits-cnn", "activations", ["--layer", "4", "--sample", "3"]), ("digits-cnn", "latent", []),
    ("digits-cnn", "curves", []), ("digits-cnn", "confusion", []),
    ("deep-autoencoder", "latent", []), ("deep-autoencoder", "reconstructions", []),
    ("digits-cnn", "health", []), ("deep-autoencoder", "health", []),
    ("digits-cnn", "saliency", ["--sample", "2"]), ("digits-cnn", "saliency", ["--layer", "0"]),
])
def test_every_picture_is_written_at_its_size_and_not_blank(qapp, run_dirs, tmp_path, name, what, extra, capsys):
    out = tmp_path / f"{what}.png"
    assert plot.main([str(run_dirs[name]), "--what", what, *extra, "--size", "640x480", "-o", str(out)]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (640, 480)
    pixels = np.frombuffer(image.convertToFormat(QImage.Format.Format_Grayscale8).constBits(), np.uint8)
    assert pixels.std() > 10
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("args, message", [
    (["NOPE", "--what", "filters"], "no such run folder"),
    (["{cnn}", "--what", "reconstructions"], "not an autoencoder"),
    (["{cnn}", "--what", "filters", "--layer", "3"], "not a Conv2d layer"),
    (["{cnn}", "--what", "activations", "--sample", "9999"], "--sample 9999"),
    (["{cnn}", "--what", "latent", "--layer", "42"], "--layer 42"),
    (["{cnn}", "--what", "bogus"], "invalid choice"),
    (["{cnn}", "--what", "saliency", "--layer", "6"], "Grad-CAM needs a layer whose output is a volume"),
    (["{ae}", "--what", "saliency"], "needs a classifier"),
])
def test_bad_input_is_one_line_and_a_failure(qapp, run_dirs, tmp_path, capsys, args, message):
    args = [a.replace("{cnn}", str(run_dirs["digits-cnn"])).replace("{ae}", str(run_dirs["deep-autoencoder"]))
            for a in args]
    out = tmp_path / "x.png"
    try:
        code = plot.main([*args, "-o", str(out)])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code != 0 and message in err and "\n" not in err
    assert not out.exists()
