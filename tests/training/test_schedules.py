"""The schedule is part of the project's training section, and the CLI follows it or its flag."""
import json
import subprocess
import sys

import pytest

from workbench.core.lessons import get_lesson
from workbench.core.templates import template
from workbench.training.config import ConfigError, validate_training
from workbench.training.layerwise import LayerwiseTrainer
from workbench.training.schedules import make_trainer


def test_the_layerwise_lesson_and_template_train_layer_wise(tmp_path) -> None:
    for doc in (get_lesson("layerwise-pretraining").project, template("stacked-autoencoder")):
        assert isinstance(make_trainer(doc, run_dir=None, epochs=2), LayerwiseTrainer)
    assert not isinstance(make_trainer(template("stacked-autoencoder"), "plain", epochs=2), LayerwiseTrainer)


def test_an_unknown_schedule_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="schedule"):
        validate_training({"schedule": "greedy"})


def test_cli_schedule_flag_gives_stage_fields(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "workbench", "train", "stacked-autoencoder", "--epochs", "4",
                             "--schedule", "layerwise", "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    stages = [e["stage"] for e in events if e["event"] == "epoch"]
    assert stages[0] == "pretrain-1" and stages[-1] == "finetune"
    assert events[-1]["event"] == "done" and events[-1]["status"] == "finished"
