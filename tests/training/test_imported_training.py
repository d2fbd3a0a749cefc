"""An imported network trains on from its weights, and the Filters panel shows them before the first step."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from workbench.core.importing import save_imported
from workbench.core.importing.torch_fx import import_module
from workbench.core.project import read_project

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Digits(nn.Module):
    input_shape = (1, 8, 8)

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(nn.functional.max_pool2d(torch.relu(self.conv(x)), 2), 1))


@pytest.fixture
def saved(tmp_path):
    source = Digits().eval()
    path = tmp_path / "digits.json"
    save_imported(import_module(source, name="digits"), path)
    return path, source


def test_training_starts_from_the_imported_weights_and_its_filters_are_theirs(saved) -> None:
    from workbench.training.engine import Trainer
    from workbench.training.probes import conv_filters

    path, source = saved
    doc = read_project(path)
    doc["data"] = {"dataset": "digits", "count": 64}
    trainer = Trainer(doc, epochs=1)
    torch.testing.assert_close(trainer.model[0].weight.cpu(), source.conv.weight)
    filters = conv_filters(trainer.model)[0]  # what the Filters panel shows before the first step
    assert filters.shape[0] == 4 and (filters.reshape(4, -1) == source.conv.weight.detach().numpy().reshape(4, -1)).all()
    start = next(trainer.events())
    assert start["event"] == "start" and start["weight_notes"] == []


def test_it_trains_further_and_says_which_edited_layers_start_fresh(saved, tmp_path) -> None:
    from workbench.training.engine import Trainer

    path, source = saved
    doc = read_project(path)
    doc["data"] = {"dataset": "digits", "count": 64}
    doc["layers"][0]["out_channels"] = 6  # conv edited after the import: its weights no longer fit
    doc["layers"][-1]["out_features"] = 10
    events = list(Trainer(doc, run_dir=tmp_path / "run", epochs=1).events())
    assert events[-1]["status"] == "finished", events[-1]
    notes = events[0]["weight_notes"]
    assert notes[0] == "layer 0 (conv): the file's weight is 4×1×3×3 but the layer needs 6×1×3×3: it starts from fresh weights"
    assert len(notes) == 2 and notes[1].startswith("layer 4 (fc): the file's weight is 10×64 but the layer needs 10×96")
