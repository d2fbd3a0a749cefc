"""Reading and writing files the user names: never blocks, never reads without end, names the file
the user asked for (issue 12, item 11 and the messages)."""
import os
import subprocess
import sys
import threading

import pytest

from workbench.core.project import ProjectError, read_project, write_atomic
from workbench.core.regular_file import read_regular


def _finishes(call, timeout_s=60.0):
    """Runs `call` on a thread; fails instead of hanging the suite when it blocks."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except Exception as exc:  # noqa: BLE001
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout_s)
    assert not thread.is_alive(), "blocked"
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "net.json"
    os.mkfifo(fifo)
    outcome = _finishes(lambda: read_project(fifo))
    assert isinstance(outcome["error"], ProjectError)
    assert str(outcome["error"]) == f"{fifo}: cannot read (not a regular file (a FIFO))"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_an_endless_device_is_refused_without_reading_it():
    outcome = _finishes(lambda: read_project("/dev/zero"))
    assert str(outcome["error"]) == "/dev/zero: cannot read (not a regular file (a character device))"


def test_a_file_larger_than_the_limit_is_read_no_further(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1000)
    assert read_regular(big, 1000) == b" " * 1000
    with pytest.raises(OSError, match="1,000 bytes is more than the 999 allowed"):
        read_regular(big, 999)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_workbench_summary_on_a_fifo_says_so_and_exits(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "workbench", "summary", str(fifo)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == f"workbench summary: {fifo}: cannot read (not a regular file (a FIFO))\n"


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root")
def test_a_read_only_folder_names_the_target_not_the_hidden_temp_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError) as caught:
            write_atomic(folder / "net.json", "{}")
    finally:
        folder.chmod(0o700)
    assert caught.value.filename == str(folder / "net.json") and ".tmp" not in str(caught.value)


def test_temporary_files_of_killed_saves_are_cleaned_by_the_next_save(tmp_path):
    target = tmp_path / "net.json"
    old, fresh = tmp_path / ".net.json.abc123.tmp", tmp_path / ".net.json.def456.tmp"
    other = tmp_path / ".other.json.abc123.tmp"
    for path in (old, fresh, other):
        path.write_text("half a save")
    os.utime(old, (1, 1))
    os.utime(other, (1, 1))
    write_atomic(target, "{}")
    # the old one is gone; one young enough to belong to a save in progress, and another file's, stay
    assert sorted(p.name for p in tmp_path.iterdir()) == [".net.json.def456.tmp", ".other.json.abc123.tmp",
                                                          "net.json"]


def test_a_seed_too_large_names_the_key():
    from workbench.training.config import validate_training

    with pytest.raises(ValueError) as caught:
        validate_training({"seed": 10**30})
    assert str(caught.value) == ("training.seed: 1000000000000000000000000000000 is not allowed: must be an "
                                 "integer from 0 to 2147483647")
