"""The training process: every job the window runs off itself, so its Python never holds the
trainer's GIL and it never holds a tensor.

    process = TrainingProcess()                  # nothing runs yet
    process.start()                              # spawn in the background (imports torch: ~2 s)
    process.run(project, run_dir="runs/x")       # a frozen project; the child builds the Trainer
    process.submit(job)                          # or any Job (workbench.training.lab's experiments)
    for event in process.events(timeout=0.05):  # the engine's events: plain numbers, numpy arrays
        ...                                      # the last one of a job is {"event": "done", ...}
    process.pause(); process.resume(); process.stop(); process.set_probe_request(request)
    answer = process.ask(question)               # answered at once, beside the running job
    process.shutdown()                           # on window close: asks, then kills after a timeout

The child is started with the "spawn" context (a fork of a process with Qt threads can deadlock;
as with any spawned child, a script using this needs an `if __name__ == "__main__":` guard)
and kept alive between runs, so a hundred Start/Stop cycles cost one torch import. It runs one
job at a time on its main thread; a listener thread applies pause/resume/stop/probe commands to
the engine's thread-safe controls and answers questions, and a sender thread writes events to the
pipe, so training never waits for the window to read. Anything that goes wrong in the child comes back as a "done"
event with the engine's message; a child that dies (killed, out of memory) is reported as
"the training process stopped unexpectedly", and the next `run` spawns a new one.

Probes are paced by the window: the child may be `PROBE_CREDITS` probes ahead of the window, and
`grant_probe()` says one was drawn, so probes are made only as fast as the visible panels can draw
them (and at most every `PROBE_INTERVAL_S`). Two, not one: the window's poll and draw of one probe
overlap the wait for the next.

Torch threads in the child (`DEFAULT_TORCH_THREADS`): all cores; the measurements behind that
are in benchmarks/README.md. The child runs `NICENESS` steps below the window: with torch's threads on
every core, the window's thread waited for a core up to 30 ms at a time, and a click with it; a
little lower, the window is given a core when it wakes, and training has every core it leaves idle
(the same speed on cifar10-cnn and digits-cnn with every panel live, benchmarks/panels_speed.py).

The child's "ready" news carries the machine as torch sees it (`Hardware`: the device menu's
choices, the GPU's memory), so the window, which starts without torch, never imports it to know.
"""
from __future__ import annotations

import collections
import itertools
import os
import queue
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection
from typing import Any, Iterator, Protocol

from workbench.training.events import LIVE_LOG_INTERVAL_S, DoneEvent, Event, failure

DEFAULT_TORCH_THREADS = os.cpu_count() or 1
PROBE_INTERVAL_S = 0.18  # 5.5 refreshes a second (the goal is 5); each costs the window ~20 ms of CPU
PROBE_CREDITS = 2
# digits-cnn live with every panel on 2 cores, 10 paired rounds: a 5 ms GUI timer late by p99 10.8 ms
# and max 33 ms (medians) at the window's priority, 7.9 and 17 ms at 5 below; training kept 0.90 of
# headless either way (benchmarks/README.md)
NICENESS = 5
CRASHED = "the training process stopped unexpectedly"
NEWS, ANSWER = 0, -1  # run ids of what the child sends outside runs: "ready", answers to questions

_CONTEXT = get_context("spawn")


class Job(Protocol):
    """Work for the child, sent pickled: its events end with a "done" event (workbench.training.lab
    has the lab's jobs). `controls` is the child's _Controls: a job attaches its trainer to it, so
    pause, stop and probe requests reach the trainer."""

    def events(self, controls: Any) -> Iterator[Any]: ...


class Question(Protocol):
    """A quick question for the child, answered at once on its listener thread, beside any job
    (workbench.training.lab.DenoiseExamples)."""

    def answer(self, controls: Any) -> Any: ...


@dataclass(frozen=True)
class Hardware:
    """What the training process finds once torch is loaded: (choice, label) pairs for a device menu
    (workbench.training.devices.available_devices) and the first CUDA GPU's memory and name (None
    without one), for the window's estimate of where the data will live (training.placement)."""

    devices: list[tuple[str, str]]
    gpu_bytes: int | None
    gpu_name: str | None


@dataclass
class RunSpec:
    """A training run: a frozen project (a dict) or a run folder to resume."""

    project: dict | None
    run_dir: str | None
    overrides: dict
    resume: bool = False
    schedule: str | None = None  # None: the project's training.schedule

    def events(self, controls: Any) -> Iterator[Event]:
        return run_events(self, controls)


class TrainingProcess:
    """The parent's handle on one long-lived training process (see the module docstring)."""

    def __init__(self, torch_threads: int = DEFAULT_TORCH_THREADS, probe_interval_s: float = PROBE_INTERVAL_S):
        self.torch_threads = torch_threads
        self.probe_interval_s = probe_interval_s
        self._process: Any = None
        self._commands: Connection | None = None
        self._events: Connection | None = None
        self._runs = itertools.count(1)
        self._run_id = 0          # the run whose events are wanted; older runs' leftovers are dropped
        self._running = False
        self._ready = False       # the child has imported torch and listens
        self.hardware: Hardware | None = None  # said by the child once ready (the same for every child)
        self._probe_request: Any = None
        self._inbox: collections.deque = collections.deque()  # the current run's events, read, not yet taken
        self._questions = itertools.count(1)
        self._answers: dict[int, tuple[bool, Any]] = {}

    # the process --------------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def ready(self) -> bool:
        """The child has imported torch and listens (as far as the events read so far tell)."""
        return self._ready

    def wait_ready(self, timeout_s: float = 60.0) -> bool:
        """Spawn if needed and wait for the child to listen (benchmarks; the window never waits)."""
        self.start()
        deadline = time.monotonic() + timeout_s
        while not self._ready and self.alive and time.monotonic() < deadline:
            self.events(timeout=0.05)
        return self._ready

    @property
    def running(self) -> bool:
        """A run was started and its "done" event has not been read yet."""
        return self._running

    def start(self) -> None:
        """Spawn the child if it is not alive (returns at once; the child imports torch meanwhile)."""
        if self.alive:
            return
        self._close_pipes()
        child_commands, commands = _CONTEXT.Pipe(duplex=False)
        events, child_events = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=_child_main, args=(child_commands, child_events, self.torch_threads,
                                                         self.probe_interval_s),
                                   name="workbench-training", daemon=True)
        process.start()
        # keep only our ends: the child's death is then an EOF here, ours an EOF there
        child_commands.close()
        child_events.close()
        self._process, self._commands, self._events = process, commands, events
        self._ready = False
        # no orphan if the owner forgets shutdown(): the child also exits on its pipe's EOF
        weakref.finalize(self, _reap, process)

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop any run (its checkpoint is written), let the child exit, and kill it if it does not
        within timeout_s. A child still importing torch has nothing to lose: it is ended at once."""
        process = self._process
        if process is not None:
            if self._running:
                self.stop()
                self.wait_done(timeout_s)
            self.events()  # notices "ready"
            if self._ready and self._send("shutdown"):
                process.join(timeout_s)
            _reap(process)
        self._close_pipes()
        self._process = None
        self._running = False

    # runs ---------------------------------------------------------------------------------------
    def run(self, project: dict | None, run_dir: str | None = None, overrides: dict | None = None,
            resume: bool = False, schedule: str | None = None) -> None:
        """Start a run (after the previous one's "done"): project is frozen here, as sent. schedule:
        "plain" or "layerwise", None for the project's own (a resumed run keeps the one it began with)."""
        self.submit(RunSpec(project, run_dir, dict(overrides or {}), resume, schedule))

    def submit(self, job: Job) -> None:
        """Start any job (after the previous one's "done"): a RunSpec, or one of the lab's."""
        if self._running:
            raise RuntimeError("a run is in progress: stop it and wait for its done event first")
        self.start()
        self._run_id = next(self._runs)
        self._running = True
        self._inbox.clear()
        if not self._send("run", self._run_id, job, self._probe_request):
            self._close_pipes()  # the child just died: events() reports it

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        self._send("stop")

    def set_probe_request(self, request: Any) -> None:
        """A workbench.training.probes.ProbeRequest (or None), kept for later runs too."""
        self._probe_request = request
        self._send("probe", request)

    def grant_probe(self, count: int = 1) -> None:
        """`count` probes were drawn: the child may capture as many more."""
        self._send("credit", count)

    def events(self, timeout: float = 0.0, limit: int = 1000) -> list[Event]:
        """The current run's events that have arrived, waiting up to `timeout` for the first one.
        A child that died during a run yields a failed "done" event."""
        out: list[Event] = []
        if self._events is None and not self._inbox:
            return self._crashed() if self._running else out
        try:
            while len(out) < limit and (self._inbox or self._receive(timeout if not out else 0)):
                if not self._inbox:
                    continue
                event = self._inbox.popleft()
                out.append(event)
                if event["event"] == "done":
                    self._running = False
                    break
        except (EOFError, OSError):  # the child is gone: its end of the pipe closed
            self._lost()
            return out + self._crashed()
        return out

    def ask(self, question: Question, timeout_s: float = 10.0) -> Any:
        """The child's answer to a quick question (it waits for nothing the child is doing); the
        question's own error is raised here as a ValueError, a dead or silent child as a RuntimeError."""
        if not self.alive or not self._ready:
            raise RuntimeError("the training process is not running")
        ask_id = next(self._questions)
        deadline = time.monotonic() + timeout_s
        if self._send("ask", ask_id, question):
            try:
                while ask_id not in self._answers and self._receive(max(0.0, deadline - time.monotonic())):
                    pass
            except (EOFError, OSError):
                self._lost()
        if ask_id not in self._answers:
            raise RuntimeError("the training process did not answer")
        ok, answer = self._answers.pop(ask_id)
        if not ok:
            raise ValueError(answer)
        return answer

    def wait_done(self, timeout_s: float) -> DoneEvent | None:
        """Read events until the current run's "done" (returned) or timeout_s passes (None)."""
        deadline = time.monotonic() + timeout_s
        while self._running:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for event in self.events(timeout=min(left, 0.1)):
                if event["event"] == "done":
                    return event
        return None

    # plumbing -----------------------------------------------------------------------------------
    def _receive(self, timeout: float) -> bool:
        """Read one message from the child if one comes within `timeout`; False if none did."""
        if self._events is None or not self._events.poll(timeout):
            return False
        run_id, payload = self._events.recv()
        if run_id == NEWS:
            self._ready = True
            self.hardware = payload.get("hardware", self.hardware)
        elif run_id == ANSWER:
            ask_id, ok, answer = payload
            self._answers[ask_id] = (ok, answer)
        elif run_id == self._run_id:  # an older run's leftovers are dropped
            self._inbox.append(payload)
        return True

    def _lost(self) -> None:
        self._close_pipes()
        if self._process is not None:
            self._process.join(1.0)

    def _crashed(self) -> list[Event]:
        if not self._running:
            return []
        self._running = False
        code = self._process.exitcode if self._process is not None else None
        reason = f" (exit code {code})" if code not in (None, 0) else ""
        return [failure(f"{CRASHED}{reason}: start again to retry", None)]

    def _send(self, *message: Any) -> bool:
        if self._commands is None:
            return False
        try:
            self._commands.send(message)
            return True
        except (BrokenPipeError, OSError):  # the child died: events() reports it
            return False

    def _close_pipes(self) -> None:
        for conn in (self._commands, self._events):
            if conn is not None:
                conn.close()
        self._commands = self._events = None


def _reap(process: Any) -> None:
    """Make sure a child is gone: terminate, then kill, then join."""
    if process.is_alive():
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join(1.0)


# the child ---------------------------------------------------------------------------------------
class _Controls:
    """Commands from the parent, applied to the current trainer from the listener thread. A pause
    or stop that arrives while the trainer is still being built is applied once it exists."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.trainer: Any = None
        self.runs: queue.SimpleQueue = queue.SimpleQueue()
        self.paused = self.stopped = self.closing = False
        self.request: Any = None
        self.credit = PROBE_CREDITS
        self.probe_interval_s = PROBE_INTERVAL_S
        self.probing = False  # only training runs are probed: the lab's views need no probes
        self.workshop: dict[str, Any] = {}  # what a job leaves for later ones (the lab's analysed network)

    def attach(self, trainer: Any) -> None:
        with self.lock:
            self.trainer = trainer
            if self.paused:
                trainer.pause()
            if self.stopped:
                trainer.stop()
            self._apply_request()

    def probe_sent(self) -> None:
        with self.lock:
            self.credit -= 1
            self._apply_request()

    def handle(self, message: tuple) -> bool:
        """Apply one command; False when the child should exit."""
        kind = message[0]
        with self.lock:
            trainer = self.trainer
            if kind == "run":  # here, in command order: a stop sent right after the run is not lost
                _, run_id, job, request = message
                self.trainer, self.paused, self.stopped = None, False, self.closing
                self.request, self.credit, self.probing = request, PROBE_CREDITS, isinstance(job, RunSpec)
                self.runs.put((run_id, job))
            elif kind in ("stop", "shutdown"):
                self.stopped = True
                self.closing = self.closing or kind == "shutdown"
                if trainer is not None:
                    trainer.stop()
            elif kind == "pause":
                self.paused = True
                if trainer is not None:
                    trainer.pause()
            elif kind == "resume":
                self.paused = False
                if trainer is not None:
                    trainer.resume()
            elif kind == "probe":
                self.request = message[1]
                self._apply_request()
            elif kind == "credit":
                self.credit = min(self.credit + message[1], PROBE_CREDITS)
                self._apply_request()
        return kind != "shutdown"

    def _apply_request(self) -> None:
        if self.trainer is not None:
            self.trainer.set_probe_request(self.request if self.credit > 0 and self.probing else None)


def _child_main(*args: Any) -> None:
    serve(*args)
    # Everything is sent and the pipes are closed: skip the interpreter's teardown of torch (~0.5 s)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def serve(commands: Connection, events: Connection, torch_threads: int, probe_interval_s: float) -> None:
    """The child's main: runs come in through `commands`, events go out through `events`."""
    if hasattr(os, "nice"):  # (POSIX)
        os.nice(NICENESS)
    import torch

    torch.set_num_threads(max(1, torch_threads))
    import workbench.training.engine  # noqa: F401 - loaded now, not at the first Start
    from workbench.training.devices import available_devices
    from workbench.training.placement import gpu_memory

    controls = _Controls()
    controls.probe_interval_s = probe_interval_s
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    outbox.put((NEWS, {"event": "ready", "hardware": Hardware(available_devices(), *gpu_memory())}))

    def listen() -> None:
        try:
            while True:
                message = commands.recv()
                if message[0] == "ask":  # answered here, beside whatever job runs
                    outbox.put((ANSWER, answer(message[1], message[2], controls)))
                elif not controls.handle(message):
                    break
        except (EOFError, OSError):  # the parent is gone: stop, then exit
            controls.handle(("shutdown",))
        controls.runs.put(None)

    def send() -> None:
        while (item := outbox.get()) is not None:
            try:
                events.send(item)
            except (BrokenPipeError, OSError):
                return

    listener = threading.Thread(target=listen, name="commands", daemon=True)
    sender = threading.Thread(target=send, name="events")
    listener.start()
    sender.start()
    warm_up()
    try:
        while (queued := controls.runs.get()) is not None:
            run_id, job = queued
            for event in job_events(job, controls):
                outbox.put((run_id, event))
    finally:
        outbox.put(None)
        sender.join()
        events.close()


def warm_up() -> None:
    """What the first run would otherwise wait for, done while the window waits for the user: an
    optimizer's first construction imports torch._dynamo (~2 s of a 2-core laptop's CPU with torch
    2.14), and the first convolution step sets up oneDNN. A job sent meanwhile starts after it, as it
    would have paid the same itself."""
    import torch

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.zeros(2, 1, 4, 4)).sum().backward()
    optimizer.step()


def answer(ask_id: int, question: Question, controls: _Controls) -> tuple[int, bool, Any]:
    """(ask_id, True, the answer) or (ask_id, False, what went wrong)."""
    try:
        return ask_id, True, question.answer(controls)
    except (ValueError, OSError) as exc:
        return ask_id, False, str(exc)
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - a question must not kill the process
        return ask_id, False, f"{type(exc).__name__}: {exc}"


def job_events(job: Job, controls: _Controls) -> Iterator[Any]:
    """A job's events; whatever goes wrong ends in a failed "done" event with a message."""
    try:
        yield from job.events(controls)
    except (ValueError, OSError) as exc:  # bad settings, missing data, a network that cannot serve
        yield failure(str(exc), None)
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - a bug in a layer must not kill the process
        yield failure(f"{type(exc).__name__}: {exc}", None)
    finally:
        with controls.lock:
            controls.trainer = None


def run_events(spec: RunSpec, controls: _Controls) -> Iterator[Event]:
    """One run's events; whatever goes wrong ends in a failed "done" event with a message."""
    from workbench.training.schedules import make_trainer, resume_trainer

    kwargs = {"log_interval_s": LIVE_LOG_INTERVAL_S, "probe_interval_s": controls.probe_interval_s}
    try:
        if spec.resume:
            trainer = resume_trainer(spec.run_dir, **kwargs, **spec.overrides)
        else:
            assert spec.project is not None, "a new run needs a project"
            trainer = make_trainer(spec.project, spec.schedule, run_dir=spec.run_dir, **kwargs, **spec.overrides)
    except (ValueError, OSError) as exc:  # bad settings, missing data: the engine's message
        done = failure(str(exc), spec.run_dir)
        for key in ("suggested_input", "suggested_resize"):  # fixes the window offers as buttons
            if getattr(exc, key, None):
                done[key] = getattr(exc, key)  # type: ignore[literal-required]
        yield done
        return
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - a bug in a layer must not kill the process
        yield failure(f"training could not start: {type(exc).__name__}: {exc}", spec.run_dir)
        return
    trainer.tune_threads = True  # the window draws on the same cores: see workbench.training.threads
    controls.attach(trainer)
    try:
        for event in trainer.events():
            if event["event"] == "probe":
                controls.probe_sent()
            yield event
            if event["event"] == "done":
                return
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - reported, and the process lives on
        yield failure(f"training failed: {type(exc).__name__}: {exc}", spec.run_dir)
