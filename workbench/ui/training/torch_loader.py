"""torch in the window's process, imported on a background thread once the window is up.

Importing torch takes about 2 s of a laptop's startup. The window needs none of it to show and to
edit (the core's shape, parameter and formula rules are arithmetic; training runs in its own
process), so it starts without torch and this loader imports it behind the shown window. What needs
torch here waits for `loaded`: the device menu (is there a GPU, how much memory). Opening a saved run
or importing a network imports torch where it is used; if the loader is still at it, Python's
import lock makes that wait for the thread rather than import twice.

One loader per process (`torch_loader()`), made on the GUI thread: its signals reach the widgets
there, queued from the thread.
"""
from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QObject, Signal

Devices = list[tuple[str, str]]  # (choice, label) pairs, workbench.training.devices.available_devices
UNKNOWN_DEVICES: Devices = [("auto", "auto"), ("cpu", "CPU")]  # what the menu offers until torch is there


class TorchLoader(QObject):
    """Imports torch (and the training modules the window uses) once, off the GUI thread."""

    loaded = Signal(object)  # Devices
    failed = Signal(str)     # why torch cannot be imported: training cannot run here either

    def __init__(self) -> None:
        super().__init__()
        self.devices: Devices | None = None  # set once loaded
        self.error: str | None = None
        self._thread: threading.Thread | None = None

    @property
    def done(self) -> bool:
        return self.devices is not None or self.error is not None

    def start(self) -> None:
        """Begin the import (once). When torch is imported already (tests, a second window) the
        devices are found at once, on this thread, and `loaded` is emitted before this returns."""
        if self._thread is not None or self.done:
            return
        if "torch" in sys.modules:  # only this loader imports it in the background, and it has not started
            self._load()
            return
        self._thread = threading.Thread(target=self._load, name="workbench-torch-import", daemon=True)
        self._thread.start()

    def wait(self, timeout_s: float = 30.0) -> None:
        """Let an import still under way finish (the app quitting: a thread cut off mid-import at
        interpreter exit can print errors)."""
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _load(self) -> None:
        try:
            from workbench.training import probes, run_folder  # noqa: F401 - what opening a run needs
            from workbench.training.devices import available_devices

            devices = available_devices()
        except Exception as exc:  # noqa: BLE001 - a broken or missing torch: say so, keep the window
            self.error = f"PyTorch could not be loaded, so nothing can be trained here: {exc}"
            self.failed.emit(self.error)
            return
        self.devices = devices
        self.loaded.emit(devices)


_LOADER: TorchLoader | None = None


def torch_loader() -> TorchLoader:
    """The process's loader (made on first use, which is on the GUI thread)."""
    global _LOADER
    if _LOADER is None:
        _LOADER = TorchLoader()
    return _LOADER
