"""Training schedules by name, for `workbench train --schedule` and the window.

    trainer = make_trainer(project, "layerwise", run_dir="runs/x", epochs=20)

The names are `config.SCHEDULES` (a project's training.schedule is checked there); the trainers are
imported when one is made.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.core.spec import ProjectSpec, load_spec
from workbench.training.config import SCHEDULES, ConfigError, validate_training

if TYPE_CHECKING:
    from workbench.training.engine import Trainer


def trainer_class(schedule: str) -> "type[Trainer]":
    """"plain": the whole network from the start; "layerwise": greedy layer-wise pretraining, then
    fine-tuning (workbench.training.layerwise)."""
    if schedule == "plain":
        from workbench.training.engine import Trainer

        return Trainer
    if schedule == "layerwise":
        from workbench.training.layerwise import LayerwiseTrainer

        return LayerwiseTrainer
    raise ConfigError(f"schedule {schedule!r} is not known: use one of {', '.join(SCHEDULES)}")


def make_trainer(project: ProjectSpec, schedule: str | None = None, **kwargs: Any) -> "Trainer":
    """A Trainer for `schedule` (None: the project's training.schedule); kwargs go to its constructor."""
    if schedule is None:
        schedule = validate_training(load_spec(project).get("training", {})).schedule
    return trainer_class(schedule)(project, **kwargs)


def resume_trainer(run_dir: Any, **overrides: Any) -> "Trainer":
    """Continue a run folder with the schedule it was started with."""
    from workbench.training.run_folder import open_run

    schedule = open_run(run_dir).config.get("training", {}).get("schedule", "plain")
    return trainer_class(schedule).resume_run(run_dir, **overrides)
