"""`workbench [PROJECT]` / `--screenshot`: the picture, and the messages instead of Qt's abort."""
from PySide6.QtGui import QImage

from workbench.cli import gui
from workbench.ui.shell.app import MainWindow


def test_screenshot_renders_the_window_to_a_png(tmp_path, qtbot, capsys):
    path = tmp_path / "alexnet.png"
    assert gui.main(["--screenshot", str(path), "alexnet"]) == 0
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1400, 900)
    colours = {image.pixel(x, y) for x in range(0, 1400, 9) for y in range(0, 900, 9)}
    assert len(colours) > 100  # cards, blocks, text: not a blank window
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.deleteLater()


def test_a_bad_project_argument_is_one_line_not_a_traceback(tmp_path, capsys):
    assert gui.main(["no-such-template"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: no-such-template: no such file, and not a template") and err.count("\n") == 1


def test_no_display_explains_offscreen_and_headless_use():
    problem = gui.display_problem({}, "linux")
    assert "no display found" in problem and "--screenshot" in problem and "QT_QPA_PLATFORM=offscreen" in problem
    assert gui.display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert gui.display_problem({}, "darwin") is None


def test_missing_xcb_libraries_name_the_debian_packages(monkeypatch):
    monkeypatch.setattr(gui.ctypes.util, "find_library", lambda name: None if name == "xcb-cursor" else "lib.so")
    problem = gui.display_problem({"DISPLAY": ":0"}, "linux")
    assert "sudo apt-get install libxcb-cursor0" in problem and "libegl1" not in problem
    monkeypatch.setattr(gui.ctypes.util, "find_library", lambda name: "lib.so")
    assert gui.display_problem({"DISPLAY": ":0"}, "linux") is None


def test_the_window_process_runs_blas_on_one_thread_and_headless_code_does_not(qapp):
    """Training has its own process: a multithreaded BLAS next to it stalled the window."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from workbench.ui.shell.app import create_app

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    with threadpool_limits(2, "blas"):  # put back afterwards: other tests share this process
        assert blas_threads() and max(blas_threads()) == 2  # importing the ui changes nothing
        create_app()
        assert blas_threads() == [1] * len(blas_threads())
