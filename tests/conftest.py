"""Test session setup: Qt renders offscreen, so the suite needs no display, network or GPU."""
import os

# Always offscreen, even where a display (or an empty QT_QPA_PLATFORM) is set: tests must behave the
# same on a desktop, a headless CI machine and a fresh clone.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("WORKBENCH_SETTINGS_SCOPE", "tests")  # keep QSettings away from the user's
