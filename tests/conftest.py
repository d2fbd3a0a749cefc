"""Test session setup: Qt renders offscreen, so the suite needs no display, network or GPU."""
import atexit
import os
import shutil
import signal
import tempfile

# Always offscreen, even where a display (or an empty QT_QPA_PLATFORM) is set: tests must behave the
# same on a desktop, a headless CI machine and a fresh clone.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("WORKBENCH_SETTINGS_SCOPE", "tests")  # keep QSettings away from the user's
# ... and from another test session's: two copies of the suite at once (CI jobs, a developer's run next
# to a coding agent's) must not share recent files or a recovery file. Qt reads these at first use.
_SESSION_HOME = tempfile.mkdtemp(prefix="workbench-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SESSION_HOME, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_SESSION_HOME, "data")
atexit.register(shutil.rmtree, _SESSION_HOME, True)

import pytest  # noqa: E402


@pytest.fixture
def one_torch_thread():
    """Tiny models train faster, and repeatably, on one torch thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """`tiny_run(template)`: the folder of a one-epoch run on 120 samples, trained once per session
    and shared (read-only) by the panel, plot and window tests."""
    from workbench.core.templates import template
    from workbench.training.engine import Trainer

    made: dict[str, object] = {}

    def run(name: str):
        if name not in made:
            doc = template(name)
            doc["data"]["count"] = 120
            path = tmp_path_factory.mktemp(name)
            events = list(Trainer(doc, run_dir=path, epochs=1).events())
            assert events[-1]["status"] == "finished", events[-1]
            made[name] = path
        return made[name]

    return run



@pytest.fixture(scope="session")
def two_runs(tmp_path_factory):
    """Two digits-cnn runs to compare, trained once per session and shared (read-only): "small" (2
    epochs) and "wide" (3 epochs; its second conv has 48 filters, its Dropout 0.25 removed and a
    Dropout 0.1 "extra" inserted at index 5), on 120 samples."""
    import copy

    from workbench.core.templates import template
    from workbench.training.engine import Trainer

    small = template("digits-cnn")
    small["data"]["count"] = 120
    wide = copy.deepcopy(small)
    wide["layers"][2]["out_channels"] = 48
    del wide["layers"][8]  # Dropout 0.25
    wide["layers"].insert(5, {"type": "Dropout", "p": 0.1, "id": "extra"})
    root = tmp_path_factory.mktemp("compare")
    for name, doc, epochs in (("small", small, 2), ("wide", wide, 3)):
        events = list(Trainer(doc, run_dir=root / name, epochs=epochs, device="cpu").events())
        assert events[-1]["status"] == "finished", events[-1]
    return root / "small", root / "wide"


class Launch:
    """A command in its own session, its stdout and stderr read by threads (a test waits for a line
    with a timeout instead of blocking on a pipe), killed with its children if it is left running."""

    def __init__(self, argv: list[str]):
        import queue
        import subprocess
        import threading

        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self.lines: "queue.Queue[str | None]" = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(self.process.stdout, self.stdout, True), daemon=True),
                         threading.Thread(target=self._read, args=(self.process.stderr, self.stderr, False), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self, pipe, into: list, queue_it: bool) -> None:
        for line in pipe:
            into.append(line)
            if queue_it:
                self.lines.put(line)
        if queue_it:
            self.lines.put(None)

    def next_line(self, timeout: float) -> str | None:
        """stdout's next line, None at its end; fails the test after `timeout` seconds without one."""
        import queue

        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output in {timeout} s; stderr so far:\n{''.join(self.stderr)[-3000:]}")

    def wait(self, timeout: float) -> int:
        import subprocess

        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running after {timeout} s; stderr:\n{''.join(self.stderr)[-3000:]}")
        for reader in self._readers:
            reader.join(timeout=30)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()

    def child_with_rank(self, rank: int) -> int:
        """The pid of the launched process torchrun started as `rank` (its direct child, RANK in its environment)."""
        from pathlib import Path

        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                environ = (entry / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile, or not ours to read
            if parent == self.process.pid and f"RANK={rank}".encode() in environ:
                return int(entry.name)
        pytest.fail(f"torchrun has no child with RANK={rank}")


def torchrun(*args: str) -> Launch:
    """`torchrun --standalone --nproc_per_node 2 -m workbench train ARGS` (standalone: the rendezvous
    port is picked by the operating system, so parallel runs never collide)."""
    import sys

    return Launch([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                   "-m", "workbench", "train", *args])


@pytest.fixture(scope="session")
def two_process_run(tmp_path_factory):
    """A run by 2 Gloo processes under torchrun, stopped by a SIGTERM to process 2 alone once
    process 1 printed its first epoch: digits-cnn without dropout (so one process can train the
    same weights), 160 training digits, global batch 32 (5 steps an epoch).

    Returns (run folder, spec file, rank 0's JSON lines, torchrun's exit status, its stderr)."""
    import json

    from workbench.core.project import dumps_project
    from workbench.core.templates import template

    if not os.path.isdir("/proc"):
        pytest.skip("finding torchrun's processes needs /proc")
    folder = tmp_path_factory.mktemp("two-process-run")
    doc = template("digits-cnn")
    doc["layers"] = [layer for layer in doc["layers"] if layer["type"] != "Dropout"]
    doc["data"] = {"dataset": "digits", "count": 200}
    spec = folder / "spec.json"
    spec.write_text(dumps_project(doc))
    run = folder / "run"
    launch = torchrun(str(spec), "--epochs", "100000", "--batch-size", "32", "--lr", "0.003", "--device", "cpu",
                      "--out", str(run))
    try:
        events = []
        while (line := launch.next_line(timeout=300)) is not None:
            events.append(json.loads(line))
            if events[-1]["event"] == "epoch" and len(events) == 2:
                os.kill(launch.child_with_rank(1), signal.SIGTERM)
        code = launch.wait(timeout=300)
    finally:
        launch.kill()
    return run, spec, events, code, "".join(launch.stderr)


@pytest.fixture
def run_torchrun():
    """`run_torchrun(*args)`: a finished `torchrun … -m workbench train ARGS` as (exit status, stdout's
    JSON lines, stderr); killed, with its processes, if it is still running after 300 s."""
    import json

    def run(*args: str):
        launch = torchrun(*args)
        try:
            code = launch.wait(timeout=300)
        finally:
            launch.kill()
        return code, [json.loads(line) for line in launch.stdout], "".join(launch.stderr)

    return run
