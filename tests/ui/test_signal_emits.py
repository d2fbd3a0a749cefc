"""Regression: PySide6 6.12.0 on Python 3.11 aborts after ~1-2k signal emits (excluded in pyproject)."""
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(int)
    flag = Signal(bool)


def test_100k_signal_emits_arrive_without_a_crash(qtbot):
    emitter, seen = _Emitter(), []
    emitter.fired.connect(seen.append)
    flags = []
    emitter.flag.connect(flags.append)
    for i in range(100_000):
        emitter.fired.emit(i)
        if i % 10 == 0:
            emitter.flag.emit(i % 20 == 0)  # bools were the refcount bug
    assert len(seen) == 100_000 and seen[-1] == 99_999
    assert len(flags) == 10_000 and flags[:2] == [True, False]
