"""How many threads torch computes with on the CPU, chosen by timing steps while a run trains.

On 2 quiet cores two threads train digits-cnn about 1.4 times as fast as one (load 0.7). But a
parallel region ends when its slowest thread does: when another process takes a core for a few
milliseconds (the window drawing its panels, a browser, a second program), every region of every
step waits for it. On the shared 2-core machine this project is measured on (load 4-6), two threads
trained digits-cnn 5-12 times slower than one, and a live probe took 200 ms instead of 2
(benchmarks/thread_tuner.py, benchmarks/README.md). Which count is faster is a property of the
moment, not of the network, so the tuner times a few steps at each count, keeps the faster, and asks
again now and then (less often while the answer stays the same); probes run between steps, at the
count chosen.

    tuner = ThreadTuner(torch.get_num_threads())
    for each step:  tuner.step_done(clock_now, first_of_epoch)   # after the step
    at the end:     tuner.finish()                               # the process's count as it was

Only small networks are tuned (`worth_tuning`: their operations are short, so the waits at their ends
weigh; a big network's long operations use every thread well, and timing one thread on it would cost
seconds a step), and only CPU runs in one process (the engine decides). A chosen count whose steps
still take longer than LONG_STEP_S ends the tuning.
"""
from __future__ import annotations

import statistics

import torch

SETTLE_STEPS = 2        # steps after a change that are not timed (the thread pool wakes, caches refill)
TIMED_STEPS = 6         # steps timed per count
GIVE_UP_FACTOR = 3.0    # a count whose first timed steps are this much slower than the best is dropped early
RECHECK_S = (10.0, 20.0, 40.0, 80.0)  # training seconds before asking again: longer while the answer holds
LONG_STEP_S = 0.5       # a chosen count's median step longer than this ends the tuning
TUNED_MACS_PER_STEP = 5e9  # cifar10-cnn: 1.2e9 a batch of 64; AlexNet: 4.6e10


def worth_tuning(macs_per_sample: int, batch_size: int) -> bool:
    """Whether a network's steps are short enough for the waits at their parallel regions to weigh."""
    return macs_per_sample * batch_size <= TUNED_MACS_PER_STEP


class ThreadTuner:
    """Chooses between all of `most` threads and one (see the module docstring)."""

    def __init__(self, most: int):
        self.original = torch.get_num_threads()
        self.counts = [most, 1] if most > 1 else []
        self.choice = most
        self._trial: list[int] = []          # counts still to time in this round
        self._times: dict[int, list[float]] = {}
        self._skip = 0
        self._last: float | None = None
        self._next_check = 0.0
        self._holds = 0                      # rounds in a row that kept the same count
        if self.counts:
            self._start_round()

    @property
    def tuning(self) -> bool:
        """Whether the tuner may still change the count."""
        return bool(self.counts)

    def step_done(self, now: float, first_of_epoch: bool = False) -> None:
        """After a step, with the run's clock (pauses not counted). The first step of an epoch is not
        timed: the time since the last one holds the validation."""
        if not self.counts:
            return
        last, self._last = self._last, now
        if first_of_epoch or last is None:
            return
        if not self._trial:
            if now >= self._next_check:
                self._start_round()
            return
        if self._skip:
            self._skip -= 1
            return
        count = self._trial[0]
        times = self._times.setdefault(count, [])
        times.append(now - last)
        best = min((statistics.median(t) for c, t in self._times.items() if c != count and len(t) >= 2),
                   default=None)
        slow = best is not None and len(times) >= 2 and min(times) > GIVE_UP_FACTOR * best
        if len(times) >= TIMED_STEPS or slow:
            self._trial.pop(0)
            if self._trial:
                self._use(self._trial[0])
            else:
                self._choose(now)

    def finish(self) -> None:
        """The process's thread count as it was before the run."""
        if torch.get_num_threads() != self.original:
            torch.set_num_threads(self.original)

    def _start_round(self) -> None:
        # the count in use first: its steps are timed without a switch
        self._trial = sorted(self.counts, key=lambda c: c != self.choice)
        self._times = {}
        self._use(self._trial[0])

    def _choose(self, now: float) -> None:
        medians = {c: statistics.median(t) for c, t in self._times.items() if t}
        choice = min(medians, key=lambda c: medians[c])
        self._holds = self._holds + 1 if choice == self.choice else 0
        self.choice = choice
        self._use(choice, settle=False)
        self._next_check = now + RECHECK_S[min(self._holds, len(RECHECK_S) - 1)]
        if medians[choice] > LONG_STEP_S:  # another round would time seconds of the slower count
            self.counts = []

    def _use(self, count: int, settle: bool = True) -> None:
        if torch.get_num_threads() != count:
            torch.set_num_threads(count)
        self._skip = SETTLE_STEPS if settle else 0

