"""`workbench [PROJECT]` opens the window; `workbench --screenshot FILE [PROJECT]` renders it to a PNG.

Before Qt starts, check that it can: with no display Qt would abort with a cryptic message, and a
missing xcb library makes it abort too. Say instead how to run offscreen or what to install.
"""
from __future__ import annotations

import argparse
import ctypes.util
import gc
import os
import sys
from pathlib import Path
from types import ModuleType

from workbench.cli.errors import EXIT_BAD_INPUT

# Libraries Qt's xcb platform plugin loads, and the Debian/Ubuntu packages that provide them.
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0", "xcb-icccm": "libxcb-icccm4", "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0", "xcb-image": "libxcb-image0", "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0", "EGL": "libegl1",
}
HEADLESS_HELP = ("workbench: no display found (DISPLAY and WAYLAND_DISPLAY are unset).\n"
                 "  Render the window to a picture:  workbench --screenshot window.png [PROJECT]\n"
                 "  Run it offscreen:                QT_QPA_PLATFORM=offscreen workbench\n"
                 "  Use the command line instead:    workbench summary PROJECT, workbench train PROJECT, ...")


def display_problem(environ: dict[str, str] | os._Environ = os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt cannot open a window here (a message for the user), or None when it can."""
    if not platform.startswith("linux") or environ.get("QT_QPA_PLATFORM", "") not in ("", "xcb"):
        return None
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return HEADLESS_HELP
    if environ.get("WAYLAND_DISPLAY") and not environ.get("QT_QPA_PLATFORM"):
        return None  # Qt prefers its wayland plugin, which needs none of the xcb libraries
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]
    if not missing:
        return None
    return ("workbench: Qt's xcb platform plugin cannot load: some X11 libraries are missing.\n"
            f"  Install them (Debian/Ubuntu):  sudo apt-get install {' '.join(missing)}\n"
            "  Or run without a window:        workbench --screenshot window.png [PROJECT]")


def import_window() -> ModuleType:
    """workbench.ui.shell.app, imported with the garbage collector paused. Importing torch, Qt and
    pyqtgraph makes about a million objects that live as long as the window; the collector's full
    passes over them while they are made cost ~0.2 s of startup (benchmarks/startup.py). Imports
    make no garbage cycles: collecting resumes once they are done."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        _import_pyqtgraph_without_cuda()
        from workbench.ui.shell import app
    finally:
        if collecting:
            gc.enable()
    return app


def _import_pyqtgraph_without_cuda() -> None:
    """pyqtgraph's RawImageGLWidget (which workbench does not use) imports CUDA's Python bindings
    when they are installed, as torch's CUDA wheels install them: ~50 ms of the window's startup.
    Hidden while pyqtgraph imports, so it takes its no-CUDA path; torch imports them later as usual."""
    if "pyqtgraph" in sys.modules or "cuda.bindings" in sys.modules:
        return
    import PySide6.QtCore  # noqa: F401 - first, so pyqtgraph does not look for PyQt5 and PyQt6

    sys.modules["cuda.bindings"] = None  # type: ignore[assignment]  # None: "cannot be imported"
    try:
        import pyqtgraph  # noqa: F401
    finally:
        del sys.modules["cuda.bindings"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", help="a project file or template name (default: digits-cnn)")
    parser.add_argument("--screenshot", metavar="FILE", help="render the window at 1400×900 to a PNG and exit")
    args = parser.parse_args(argv)
    from workbench.core.project import ProjectError
    from workbench.core.spec import load_spec
    from workbench.core.templates import DEFAULT_TEMPLATE

    try:
        doc = load_spec(args.project or DEFAULT_TEMPLATE)
    except ProjectError as exc:
        print(f"workbench: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.screenshot and display_problem() == HEADLESS_HELP:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    shell = import_window()
    app = shell.create_app()
    window = shell.MainWindow(doc, restore_layout=not args.screenshot)
    if args.project and Path(args.project).is_file():
        window.files.adopt(args.project)  # the file's name in the title; Save writes back to it
    if args.screenshot:
        return _screenshot(app, window, args.screenshot)
    window.show()
    window.files.offer_recovery()
    return app.exec()


def _screenshot(app, window, path: str) -> int:  # noqa: ANN001 - Qt types imported lazily
    from workbench.ui.shell.app import SCREENSHOT_SIZE

    window.resize(*SCREENSHOT_SIZE)
    window.show()
    for _ in range(5):
        app.processEvents()
    if not window.grab().save(path):
        print(f"workbench: cannot write the screenshot to {path}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(path)
    window.hide()  # not close(): closing would save the layout and clear a real recovery file
    window.deleteLater()
    return 0
