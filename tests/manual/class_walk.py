"""The first minutes in front of a class, walked in a real X window with real mouse and keys.

    Xvfb :77 -screen 0 1600x1000x24 &          # (any free display)
    DISPLAY=:77 python tests/manual/class_walk.py OUT_DIR

Start (first start: the welcome strip) → "Build a network" → drag Conv2d from the palette into the
network → its kernel typed in the inspector → train it on digits (epochs typed) → the filters,
activation maps, latent codes and classification tabs → the max-pooling lesson from the menu,
saving the network when asked, stepped to its end → presentation mode → Ctrl+S → Ctrl+Q → the
saved network reopened (`workbench FILE`). Mouse moves, clicks, drags and keys go through the X
server (xdotool), so Qt sees what a user's hands would make. Each session runs in its own process
with stderr captured: the walk fails on anything the app printed there. Screenshots (X's own
pixels, ImageMagick's `import`) and a report.json go to OUT_DIR. Not a CI test: it needs Xvfb,
xdotool and ImageMagick, and takes a minute or two.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

SIZE = (1280, 720)


# --- the orchestrator: one process per session, stderr kept --------------------------------------

def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "WORKBENCH_SETTINGS_SCOPE": f"walk-{uuid.uuid4().hex[:8]}",
           "WORKBENCH_RUNS": str(out / "runs")}
    report: dict = {}
    for session in ("first", "reopen"):
        started = time.monotonic()
        done = subprocess.run([sys.executable, __file__, "--session", session, str(out)], env=env,
                              capture_output=True, text=True, timeout=420)
        report[session] = {"seconds": round(time.monotonic() - started, 1), "exit": done.returncode,
                           "stderr": done.stderr, "steps": [json.loads(line) for line in done.stdout.splitlines()
                                                            if line.startswith("{")]}
        print(f"{session}: exit {done.returncode}, {len(done.stderr)} characters on stderr")
        for step in report[session]["steps"]:
            print("  ", step)
        if done.stderr:
            print(done.stderr)
    (out / "report.json").write_text(json.dumps(report, indent=1))
    ok = all(r["exit"] == 0 and not r["stderr"] and all(s.get("ok", True) for s in r["steps"])
             for r in report.values())
    print("walk", "passed" if ok else "FAILED")
    return 0 if ok else 1


# --- in the app's process ---------------------------------------------------------------------------

class Walk:
    def __init__(self, out: Path):
        from PySide6.QtWidgets import QApplication

        from PySide6.QtCore import QTimer

        self.app = QApplication.instance()
        self.out = out
        self.window = None
        self._modal: tuple[object, float] | None = None  # (a dialog open, since when)
        self._watch = QTimer(interval=1000, timeout=self._watch_dialogs)
        self._watch.start()

    def _watch_dialogs(self) -> None:
        """A dialog the walk failed to answer would wait forever (its loop holds the walk): after 20 s
        it is noted, pictured and closed, and the walk goes on to fail."""
        modal = self.app.activeModalWidget()
        if modal is None:
            self._modal = None
        elif self._modal is None or self._modal[0] is not modal:
            self._modal = (modal, time.monotonic())
        elif time.monotonic() - self._modal[1] > 20:
            subprocess.run(["import", "-window", "root", str(self.out / "walk-stuck.png")])
            self.step("a dialog was left open", False, title=modal.windowTitle())
            self._modal = None
            modal.reject()

    # hands ------------------------------------------------------------------------------------
    def pump(self, seconds: float = 0.2) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def xdo(self, *args: str) -> None:
        """xdotool, with the app's event loop running meanwhile (a drag runs Qt's own loop)."""
        process = subprocess.Popen(["xdotool", *args])
        while process.poll() is None:
            self.app.processEvents()
            time.sleep(0.01)
        self.pump(0.3)

    def at(self, widget, point=None):  # noqa: ANN001
        from PySide6.QtCore import QPoint

        point = point if point is not None else QPoint(widget.width() // 2, widget.height() // 2)
        spot = widget.mapToGlobal(point)
        return str(spot.x()), str(spot.y())

    def click(self, widget, point=None) -> None:  # noqa: ANN001
        self.xdo("mousemove", *self.at(widget, point), "sleep", "0.15", "click", "1")

    def key(self, *keys: str) -> None:
        self.xdo("key", "--delay", "80", *keys)

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", "60", text)

    def drag(self, source, target) -> None:  # noqa: ANN001 - (widget, QPoint) pairs
        (sx, sy), (tx, ty) = self.at(*source), self.at(*target)
        steps = []
        for i in range(1, 9):
            x = int(sx) + (int(tx) - int(sx)) * i // 8
            y = int(sy) + (int(ty) - int(sy)) * i // 8
            steps += ["mousemove", str(x), str(y), "sleep", "0.08"]
        self.xdo("mousemove", sx, sy, "sleep", "0.2", "mousedown", "1", "sleep", "0.2", *steps, "sleep", "0.3",
                 "mouseup", "1")

    def wait(self, condition, seconds: float = 30.0) -> bool:  # noqa: ANN001
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if condition():
                return True
            self.pump(0.1)
        return False

    def shot(self, name: str) -> None:
        self.pump(0.5)
        subprocess.run(["import", "-window", "root", "-crop", f"{SIZE[0]}x{SIZE[1]}+0+0", str(self.out / name)],
                       check=True)

    def step(self, what: str, ok: bool, **details) -> None:  # noqa: ANN003
        line = json.dumps({"step": what, "ok": bool(ok), **details})
        print(line, flush=True)
        with open(self.out / "steps.jsonl", "a", encoding="utf-8") as steps:  # (kept if the walk is cut off)
            steps.write(line + "\n")

    # finding things -----------------------------------------------------------------------------
    def tab(self, title: str) -> None:
        from PySide6.QtWidgets import QTabBar

        for bar in self.window.findChildren(QTabBar):
            for i in range(bar.count()):
                if bar.isVisible() and bar.tabText(i) == title:
                    bar.setCurrentIndex(i) if not bar.rect().contains(bar.tabRect(i).center()) else None
                    self.click(bar, bar.tabRect(i).center())
                    return
        raise LookupError(title)

    def menu_item(self, menu_title: str, item: str, *then: str) -> None:
        """Alt+<its letter> opens the menu, a click on the item takes it, and `then` (xdotool commands)
        follow in the same breath: a modal dialog the item opens runs its own event loop, which only
        events from outside end. (Under Xvfb with no window manager, after a file dialog, Return did
        not reach a menu opened from the keyboard; a mouse press on the menu bar made the popup take
        its first item. The click on the item itself is what a teacher's hand does.)"""
        bar = self.window.menuBar()
        action = next(a for a in bar.actions() if a.text().replace("&", "") == menu_title)
        letter = action.text()[action.text().index("&") + 1].lower()
        menu = action.menu()
        entry = next(a for a in menu.actions() if a.text().replace("&", "") == item)
        self.xdo("key", f"alt+{letter}", "sleep", "0.8")
        self.wait(menu.isVisible, 5)
        self.shot("walk-05-menu.png")
        x, y = self.at(menu, menu.actionGeometry(entry).center())
        self.xdo("mousemove", x, y, "sleep", "0.4", "click", "1", *then)

    @staticmethod
    def into(title: str) -> list[str]:
        """xdotool commands that wait for the window titled `title` (a dialog) and put the pointer in
        it: with no window manager, keys go to the window under the pointer."""
        return ["search", "--sync", "--onlyvisible", "--name", title, "windowfocus", "--sync", "%1",
                "mousemove", "--window", "%1", "30", "20", "sleep", "1"]

    @classmethod
    def save_as(cls, path: Path) -> list[str]:
        """xdotool commands that answer the Save dialog (its name field has the keys) with `path`."""
        return [*cls.into("Save project"), "key", "ctrl+a", "sleep", "0.3", *typing(str(path)),
                "sleep", "0.5", "key", "alt+s", "sleep", "1"]  # (its Save button; Return was lost at times)

    def window_ready(self) -> None:
        from PySide6.QtWidgets import QApplication

        from workbench.ui.shell.app import MainWindow

        self.wait(lambda: any(isinstance(w, MainWindow) and w.isVisible() for w in QApplication.topLevelWidgets()))
        self.window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        self.window.move(0, 0)
        self.window.resize(*SIZE)
        self.pump(2.0)  # (the docks settle through posted events: a click before that missed its button)

    # the sessions -------------------------------------------------------------------------------
    def first(self) -> None:
        from PySide6.QtCore import QPoint
        from PySide6.QtWidgets import QMessageBox

        w = self
        w.window_ready()
        win = w.window
        w.step("first start shows three ways in", win.welcome_dock.isVisible())
        w.shot("walk-01-start.png")
        w.click(win.welcome.buttons["build"])
        w.step("Build a network: the welcome goes, the palette's filter has the keys",
               win.welcome_dock.isHidden() and win.palette_panel.search.hasFocus())

        # drag Conv2d into the gap after the first card (Input | here | Conv 16)
        layers = len(win.project)
        tree = win.palette_panel.tree
        item = tree.item_for("Conv2d")
        tree.scrollToItem(item)
        self.pump(0.3)
        source = (tree.viewport(), tree.visualItemRect(item).center())
        first = win.builder.card_rect(win.builder.cards[0].id)
        gap = QPoint(first.right() + win.builder._gap() // 2, first.center().y())
        w.drag(source, (win.builder.viewport(), gap))
        inserted = len(win.project) == layers + 1 and win.project.layer(0)["type"] == "Conv2d"
        w.step("Conv2d dragged into the network (at the front)", inserted, layers=len(win.project))
        w.shot("walk-02-dragged.png")

        # its kernel, typed into the inspector
        w.wait(lambda: win.selection.current_index() == 0, 5)
        box = win.inspector.editors["kernel_size"].h
        w.click(box.lineEdit())
        w.key("ctrl+a")
        w.type("5")
        w.key("Tab")
        row = win.summary.summary["layers"][0]
        w.step("kernel_size 5 typed", win.project.layer(0).get("kernel_size") == 5, output=row["output"],
               formula=row["formula"])
        w.key("ctrl+z")
        undone = win.project.layer(0).get("kernel_size", 3) == 3
        w.key("ctrl+shift+z")
        w.step("Ctrl+Z / Ctrl+Shift+Z from the inspector field", undone and win.project.layer(0).get("kernel_size") == 5)

        # train it: epochs typed, Start clicked
        w.tab("Training")
        panel = win.training_panel
        w.click(panel.epochs_box.lineEdit())
        w.key("ctrl+a")
        w.type("8")
        w.key("Tab")
        stop_before = panel.stop_button.mapTo(win, QPoint(0, 0))
        w.click(panel.start_button)
        w.wait(lambda: panel.curves["val_loss"].n >= 2, 120)
        w.shot("walk-03-training.png")
        stop_during = panel.stop_button.mapTo(win, QPoint(0, 0))
        w.step("training: the controls stay put", stop_before == stop_during and panel.is_training,
               before=stop_before.toTuple(), during=stop_during.toTuple())
        finished = w.wait(lambda: not panel.is_training, 240)
        w.step("trained 8 epochs", finished and panel.curves["val_loss"].n == 8,
               accuracy=round(float(panel.curves["val_accuracy"].y[panel.curves["val_accuracy"].n - 1]), 3))

        # inside
        for title, name, ready in (("Filters", "filters", lambda p: p.mosaic is not None),
                                   ("Activation maps", "activations", lambda p: bool(p.sections)),
                                   ("Latent codes", "latent", lambda p: p.points > 0),
                                   ("Classification", "confusion", lambda p: p.matrix is not None)):
            w.tab(title)
            shown = w.wait(lambda n=name, r=ready: r(win.insight[n]), 30)
            w.step(f"{title} shows the run", shown)
            w.shot(f"walk-04-{name}.png")

        # the network saved (Ctrl+S asks for a name: it has none yet), then a lesson from the menu
        network = self.out / "walk-network.json"
        w.xdo("key", "ctrl+s", *w.save_as(network))
        w.wait(network.exists, 5)
        w.step("Ctrl+S saved the network", network.exists() and not win.isWindowModified()
               and win.windowTitle().startswith("walk-network.json"), title=win.windowTitle())
        asked: list[str] = []
        QMessageBox.question = _noting(QMessageBox.question, asked)
        w.click(win.statusBar())  # (the window has the keys again once the dialog is gone)
        w.menu_item("Lessons", "Max pooling: 2×2 windows, stride 2 on a 4×4 slice")
        w.wait(lambda: win.docks.player.lesson() is not None, 10)
        lesson = win.docks.player.lesson()
        w.step("the lesson loaded (nothing unsaved: no question)", lesson is not None and lesson.name == "max-pooling"
               and not asked, lesson=lesson.name if lesson else None)
        if lesson is None:  # (the rest of the walk needs it: picture the window, go on to quit)
            w.shot("walk-06-no-lesson.png")
            w.key("ctrl+q")
            return
        player = win.docks.player
        steps = len(lesson.steps)
        while player.next_button.isEnabled():
            w.click(player.next_button)
        view = win.docks.arithmetic.view
        w.step("the lesson stepped to its end, the arithmetic with it", player.step() == steps - 1
               and view.current().operation == "l2", at=f"step {player.step() + 1} of {steps}")
        w.shot("walk-06-lesson.png")

        # presentation, save, quit
        w.key("ctrl+shift+p")
        w.wait(lambda: win.arrangement.presenting, 5)
        w.shot("walk-07-presentation.png")
        w.step("presentation mode", win.arrangement.presenting)
        lesson_file = self.out / "lesson-saved.json"  # (a name no file there starts like: no completion popup)
        w.xdo("key", "ctrl+s", *w.save_as(lesson_file))
        w.wait(lambda: lesson_file.exists(), 5)
        w.step("Ctrl+S saved the lesson's network", lesson_file.exists() and not win.isWindowModified())
        w.click(win.statusBar())  # (the window has the keys again once the dialog is gone)
        w.key("ctrl+q")
        w.wait(lambda: not win.isVisible(), 10)
        w.step("Ctrl+Q closed the window", not win.isVisible())

    def reopen(self) -> None:
        w = self
        w.window_ready()
        win = w.window
        layers = [layer["type"] for layer in win.project.layers]
        w.step("the saved network reopened, whole", layers[0] == "Conv2d" and win.project.layer(0).get("kernel_size") == 5
               and win.windowTitle().startswith("walk-network.json"), title=win.windowTitle(), layers=len(layers))
        w.step("no first-run strip the second time", win.welcome_dock.isHidden())
        w.shot("walk-08-reopened.png")
        w.click(win.statusBar())
        w.key("ctrl+q")
        w.wait(lambda: not win.isVisible(), 10)


KEYSYMS = {"/": "slash", ".": "period", "-": "minus", "_": "underscore", " ": "space"}


def typing(text: str) -> list[str]:
    """`text` as key presses (xdotool's own `type` takes every later word as text: it cannot be
    followed by more commands in one invocation)."""
    return ["key", "--delay", "30", *(KEYSYMS.get(c, c) for c in text)]


def _noting(ask, asked: list[str]):  # noqa: ANN001, ANN202
    """QMessageBox.question as it is, noting each question's title (the real dialog still shows)."""
    def question(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        asked.append(args[1])
        return ask(*args, **kwargs)
    return question


def session(name: str, out: Path) -> int:
    from PySide6.QtCore import QTimer

    from workbench.cli import gui
    from workbench.ui.shell.app import create_app

    create_app()
    walk = Walk(out)
    QTimer.singleShot(500, getattr(walk, name))
    return gui.main([str(out / "walk-network.json")] if name == "reopen" else [])


if __name__ == "__main__":
    if sys.argv[1] == "--session":
        sys.exit(session(sys.argv[2], Path(sys.argv[3])))
    sys.exit(main(Path(sys.argv[1])))
