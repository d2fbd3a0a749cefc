"""Training schedules by name, for `workbench train --schedule` and the window.

    trainer = make_trainer(project, "layerwise", run_dir="runs/x", epochs=20)

Kept free of torch imports so a CLI can list the choices without loading the engine.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.training.engine import Trainer

SCHEDULES = ("plain", "layerwise")


def make_trainer(project: Any, schedule: str, **kwargs: Any) -> "Trainer":
    """A Trainer (workbench.training.engine) for `schedule`; kwargs go to its constructor.
    "plain": the whole network from the start; "layerwise": greedy layer-wise pretraining, then
    fine-tuning (workbench.training.layerwise)."""
    if schedule == "plain":
        from workbench.training.engine import Trainer

        return Trainer(project, **kwargs)
    if schedule == "layerwise":
        from workbench.training.layerwise import LayerwiseTrainer

        return LayerwiseTrainer(project, **kwargs)
    raise ValueError(f"schedule {schedule!r} is not known: use one of {', '.join(SCHEDULES)}")
