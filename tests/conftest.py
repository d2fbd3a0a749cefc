"""Test session setup: Qt renders offscreen, so the suite needs no display, network or GPU."""
import os

# Always offscreen, even where a display (or an empty QT_QPA_PLATFORM) is set: tests must behave the
# same on a desktop, a headless CI machine and a fresh clone.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("WORKBENCH_SETTINGS_SCOPE", "tests")  # keep QSettings away from the user's

import pytest  # noqa: E402


@pytest.fixture
def one_torch_thread():
    """Tiny models train faster, and repeatably, on one torch thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
