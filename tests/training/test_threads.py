"""The thread tuner keeps whichever torch thread count makes steps faster now, asks again later, and
leaves the process's count as it found it."""
import pytest
import torch

from workbench.core.templates import template
from workbench.training.engine import Trainer
from workbench.core.inference import summarize
from workbench.training.threads import LONG_STEP_S, RECHECK_S, SETTLE_STEPS, ThreadTuner, worth_tuning


@pytest.fixture
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def train(tuner: ThreadTuner, step_s, steps: int, now: float = 0.0) -> float:
    """`steps` steps whose time depends on the thread count in use: step_s(threads, now)."""
    for _ in range(steps):
        now += step_s(torch.get_num_threads(), now)
        tuner.step_done(now)
    return now


def test_it_keeps_two_threads_when_they_are_faster_and_one_when_another_process_is_busy(two_threads):
    tuner = ThreadTuner(2)
    now = train(tuner, lambda threads, now: 0.010 if threads == 2 else 0.016, 40)
    assert tuner.choice == 2 and torch.get_num_threads() == 2
    # another program takes a core: every parallel region waits for the descheduled thread
    now = train(tuner, lambda threads, now: 0.200 if threads == 2 else 0.016, 40 + int(RECHECK_S[-1] / 0.016), now)
    assert tuner.choice == 1 and torch.get_num_threads() == 1
    tuner.finish()
    assert torch.get_num_threads() == 2


def test_when_one_thread_won_a_slow_second_count_is_timed_for_two_steps_only(two_threads):
    tuner = ThreadTuner(2)
    steps_at_two = []

    def step_s(threads: int, now: float) -> float:
        if threads == 2 and tuner.choice == 1:  # a later round, one thread being the choice
            steps_at_two.append(now)
        return 0.500 if threads == 2 else 0.002

    now = train(tuner, step_s, 20)
    assert tuner.choice == 1 and not steps_at_two
    train(tuner, step_s, int(RECHECK_S[0] / 0.002) + 40, now)  # the next round: one thread first, then two
    assert tuner.choice == 1
    assert 1 <= len(steps_at_two) <= SETTLE_STEPS + 2  # settling, then two steps show it is slow


def test_steps_that_stay_long_end_the_tuning_and_big_networks_are_not_tuned(two_threads):
    tuner = ThreadTuner(2)
    train(tuner, lambda threads, now: 2 * LONG_STEP_S * (1 if threads == 2 else 1.5), 20)
    assert not tuner.tuning and tuner.choice == 2 and torch.get_num_threads() == 2
    assert worth_tuning(summarize(template("cifar10-cnn"))["total_macs"], 64)
    assert not worth_tuning(summarize(template("alexnet"))["total_macs"], 64)


def test_one_thread_is_nothing_to_tune():
    assert not ThreadTuner(1).tuning


def test_a_run_that_tunes_puts_the_count_back_even_when_its_events_are_left_unread(two_threads):
    doc = template("digits-cnn")
    doc["data"]["count"] = 200
    doc["training"].update(epochs=3, device="cpu")
    trainer = Trainer(doc)
    trainer.tune_threads = True
    events = trainer.events()
    for event in events:
        if event["event"] == "epoch":
            torch.set_num_threads(1)  # as a round timing one thread would
            break
    events.close()
    assert torch.get_num_threads() == 2
