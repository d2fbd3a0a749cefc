"""`workbench lesson`: lists the lessons, renders one to a PNG, refuses bad names in one line."""
import pytest
from PySide6.QtGui import QImage

from workbench.__main__ import main
from workbench.core.lessons import LESSONS


def test_list_names_every_lesson(capsys):
    assert main(["lesson", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(LESSONS)
    assert "55×55×96" in lines[list(LESSONS).index("alexnet-conv1")]


@pytest.mark.parametrize("name", ["max-pooling", "alexnet-conv1"])
def test_renders_a_lesson_picture(qapp, tmp_path, capsys, name):
    out = tmp_path / f"{name}.png"
    assert main(["lesson", name, "-o", str(out), "--size", "800x500"]) == 0
    image = QImage(str(out))
    assert (image.width(), image.height()) == (800, 500)
    colours = {image.pixel(x, y) for x in range(0, 800, 7) for y in range(0, 500, 7)}
    assert len(colours) > 5  # text and cells, not a blank page
    assert LESSONS[name].title in capsys.readouterr().out


def test_a_step_picks_the_slide(qapp, tmp_path):
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    assert main(["lesson", "stride-1", "-o", str(first), "--step", "1"]) == 0
    assert main(["lesson", "stride-1", "-o", str(last)]) == 0
    assert QImage(str(first)) != QImage(str(last))


@pytest.mark.parametrize("argv, message", [
    (["nope", "-o", "x.png"], "no lesson 'nope'; lessons: stride-1, stride-2, zero-padding"),
    (["alexnet"], "give the picture to write with -o FILE.png"),
    ([], "name a lesson"),
    (["stride-1", "-o", "x.png", "--step", "9"], "has steps 1…4, not 9"),
    (["stride-1", "-o", "x.png", "--size", "big"], "--size 'big' must look like WIDTHxHEIGHT"),
])
def test_bad_input_is_one_line_and_non_zero(qapp, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["lesson", *argv]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x.png").exists()
