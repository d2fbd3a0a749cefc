"""Test session setup: Qt renders offscreen, so the suite needs no display, network or GPU."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("WORKBENCH_SETTINGS_SCOPE", "tests")  # keep QSettings away from the user's
