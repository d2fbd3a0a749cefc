"""Training schedules by name, for `workbench train --schedule` and the window.

    trainer = make_trainer(project, "layerwise", run_dir="runs/x", epochs=20)

Kept free of torch imports so a CLI can list the choices without loading the engine.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.training.engine import Trainer

SCHEDULES = ("plain", "layerwise")


def trainer_class(schedule: str) -> "type[Trainer]":
    """"plain": the whole network from the start; "layerwise": greedy layer-wise pretraining, then
    fine-tuning (workbench.training.layerwise)."""
    if schedule == "plain":
        from workbench.training.engine import Trainer

        return Trainer
    if schedule == "layerwise":
        from workbench.training.layerwise import LayerwiseTrainer

        return LayerwiseTrainer
    raise ValueError(f"schedule {schedule!r} is not known: use one of {', '.join(SCHEDULES)}")


def make_trainer(project: Any, schedule: str | None = None, **kwargs: Any) -> "Trainer":
    """A Trainer for `schedule` (None: the project's training.schedule); kwargs go to its constructor."""
    if schedule is None:
        from workbench.core.project import Project, load_spec
        from workbench.training.config import validate_training

        doc = project.to_dict() if isinstance(project, Project) else load_spec(project)
        schedule = validate_training(doc.get("training", {})).schedule
    return trainer_class(schedule)(project, **kwargs)


def resume_trainer(run_dir: Any, **overrides: Any) -> "Trainer":
    """Continue a run folder with the schedule it was started with."""
    from workbench.training.run_folder import open_run

    schedule = open_run(run_dir).config.get("training", {}).get("schedule", "plain")
    return trainer_class(schedule).resume_run(run_dir, **overrides)
