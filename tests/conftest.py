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
