"""The README's pictures of the window, as a class sees it: 1280×720, presentation mode.

    QT_QPA_PLATFORM=offscreen python docs/pictures.py [OUT_DIR]     # default: docs/

Trains digits-cnn for a few epochs on the CPU first (a minute or two), so the training picture shows
real curves. Writes screenshot.png (AlexNet, plain), builder.png, training.png and lesson.png
(presentation mode). Look at each one before committing it.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

SIZE = (1280, 720)
EPOCHS = 8


def train(run_dir: Path) -> Path:
    from workbench.core.templates import template
    from workbench.training.engine import Trainer

    doc = template("digits-cnn")
    doc["training"]["device"] = "cpu"  # the same pictures on any machine
    events = list(Trainer(doc, run_dir=run_dir, epochs=EPOCHS).events())
    assert events[-1]["status"] == "finished", events[-1]
    return run_dir


def main(out: Path) -> int:
    from PySide6.QtWidgets import QApplication

    from workbench.core.lessons import LESSONS
    from workbench.core.templates import template
    from workbench.ui.shell.app import MainWindow, create_app

    out.mkdir(parents=True, exist_ok=True)
    app = create_app()
    with tempfile.TemporaryDirectory() as scratch:
        run = train(Path(scratch) / "digits-cnn")
        window = MainWindow(template("alexnet"), restore_layout=False)
        window.files.recovery_path = Path(scratch) / "recovery.json"
        window.resize(*SIZE)
        window.show()

        def grab(name: str) -> None:
            for _ in range(10):  # docks, fonts and layouts settle through posted events
                app.processEvents()
            window.grab().save(str(out / name))
            print(out / name)

        window.selection.select_index(0)
        grab("screenshot.png")
        window.action("presentation").setChecked(True)
        grab("builder.png")
        trained = template("digits-cnn")
        trained["training"]["epochs"] = EPOCHS  # the settings line says what the run did
        window.files.replace(trained, "digits-cnn")
        window.open_run(run)
        window.docks.raise_dock("training")
        window.statusBar().clearMessage()  # (it named the scratch folder)
        grab("training.png")
        window.load_lesson(LESSONS["max-pooling"])
        window.docks.player.set_step(1)  # "Stride 2: the next window (2, 4, 7, 8) gives 8."
        grab("lesson.png")
        window.action("presentation").setChecked(False)
        window.files.editor.stack.setClean()
        window.hide()
        QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent))
