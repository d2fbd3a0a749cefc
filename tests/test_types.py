"""Typed messages are checked: mypy passes over the package, and a misspelt key in an event or a
summary row is a type error (core/summary.py, training/events.py)."""
from __future__ import annotations

import textwrap
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def _mypy(tmp_path: Path, *targets: str) -> tuple[str, int]:
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                                      str(tmp_path / "cache"), *targets])
    return stdout + stderr, status


def test_the_package_type_checks(tmp_path: Path) -> None:
    out, status = _mypy(tmp_path, str(ROOT / "workbench"))
    assert status == 0, out


def test_a_misspelt_key_is_a_type_error(tmp_path: Path) -> None:
    reader = tmp_path / "reader.py"
    reader.write_text(textwrap.dedent("""
        from workbench.core.summary import Summary
        from workbench.training.events import Event

        def read(event: Event, summary: Summary) -> None:
            if event["event"] == "epoch":
                print(event["val_los"])
            print(event["steps_per_epoch"])
            print(summary["layers"][0]["param"])
    """))
    out, status = _mypy(tmp_path, str(reader))
    assert status == 1
    assert 'TypedDict "EpochEvent" has no key "val_los"' in out
    assert 'TypedDict "BatchEvent" has no key "steps_per_epoch"' in out  # only a start event has it
    assert 'TypedDict "LayerRow" has no key "param"' in out
