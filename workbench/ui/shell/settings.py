"""Where the window keeps its settings (geometry, dock layout, recent files) and recovery file.

With WORKBENCH_SETTINGS_SCOPE set (the tests set "tests"), everything goes to a separate
organization, so a test run never touches the user's settings or recovery file.
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

APP = "workbench"
MAX_RECENT = 8


def organization() -> str:
    scope = os.environ.get("WORKBENCH_SETTINGS_SCOPE", "").strip()
    return f"workbench-{scope}" if scope else "workbench"


def settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, organization(), APP)


def data_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    path = Path(base or Path.home() / ".local" / "share") / organization()
    return path


def recent_files() -> list[str]:
    value = settings().value("recent", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [str(item) for item in items if item][:MAX_RECENT]


def add_recent(path: str) -> list[str]:
    path = str(Path(path).resolve())
    items = [path] + [p for p in recent_files() if p != path]
    settings().setValue("recent", items[:MAX_RECENT])
    return items[:MAX_RECENT]
