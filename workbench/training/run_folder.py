"""A run folder: what trained, how, what happened, and the weights.

    RUN_DIR/project.json        the frozen project
    RUN_DIR/config.json         resolved training config, data section (split seed), device used
    RUN_DIR/metrics.jsonl       one event per line (never probes)
    RUN_DIR/checkpoints/last.safetensors, best.safetensors   model weights (safetensors)
    RUN_DIR/checkpoints/scaffold.safetensors   weights a stage trains besides the network (the
                                                mirrored decoder while pretraining layer-wise)
    RUN_DIR/checkpoints/optimizer.pt   optimizer state (tensors and numbers only)
    RUN_DIR/checkpoints/state.json     where training stands: stage_index, epoch (of the run),
                                       stage_epoch, global_step, best_val

Every file is written atomically. Weights are read with safetensors and the optimizer state with
`torch.load(weights_only=True)`: nothing in a run folder can make us unpickle arbitrary objects.
"""
from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from workbench.core.project import ProjectError, dumps_project, parse_project, write_atomic
from workbench.data import Dataset, load_dataset
from workbench.training.events import Event, RecordedEvent

CHECKPOINTS = "checkpoints"


class RunError(ValueError):
    """A run folder is missing, incomplete, corrupt or unsafe; the message names the file."""


def default_runs_root() -> Path:
    return Path(os.environ.get("WORKBENCH_RUNS") or Path.home() / ".workbench" / "runs")


def save_weights(path: Path, model: nn.Module) -> None:
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    write_atomic(path, save_safetensors(state))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_safetensors(path.read_bytes())
    except FileNotFoundError:
        raise RunError(f"{path}: no such checkpoint") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise RunError(f"{path}: not a safetensors weights file ({exc}); refusing to load it") from None


def save_tensors(path: Path, obj: Any) -> None:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_atomic(path, buffer.getvalue())


def load_tensors(path: Path) -> Any:
    """torch.load with weights_only=True: plain tensors, numbers and containers, or RunError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise RunError(f"{path}: missing") from None
    except Exception as exc:  # UnpicklingError for forbidden globals, and any corruption
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"{path}: refused: it holds more than plain tensors and numbers, or is corrupt "
                       f"({first[:160]})") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path.parent}: not a run folder ({path.name} is missing)") from None
    except (OSError, ValueError) as exc:
        raise RunError(f"{path}: cannot read ({exc})") from None


def read_metrics(path: Path) -> list[RecordedEvent]:
    """Events from metrics.jsonl; a torn last line (a crash mid-write), or any line that is not an
    event, is skipped."""
    events: list[RecordedEvent] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") in ("start", "batch", "epoch", "done"):
            events.append(event)  # type: ignore[arg-type]  # as the engine wrote it
    return events


class RunWriter:
    """Writes one run folder while training; `fresh=False` continues an existing one."""

    def __init__(self, path: str | os.PathLike, project: dict, config: dict, fresh: bool = True):
        self.path = Path(path)
        self.checkpoints = self.path / CHECKPOINTS
        if fresh and (self.path / "metrics.jsonl").exists():
            raise RunError(f"{self.path} already holds a run: resume it, or choose another folder")
        try:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"{self.path}: cannot create the run folder ({exc.strerror or exc})") from None
        write_atomic(self.path / "project.json", dumps_project(project))
        self.write_config(config)

    def write_config(self, config: dict) -> None:
        write_atomic(self.path / "config.json", json.dumps(config, indent=2) + "\n")

    def append(self, event: Event) -> None:
        # Opened per event (a few per second): no handle outlives an abandoned run.
        with open(self.path / "metrics.jsonl", "a", encoding="utf-8") as metrics:
            metrics.write(json.dumps(event) + "\n")

    def truncate_after(self, epoch: int, global_step: int) -> None:
        """Drop events past a checkpoint (an interrupted epoch), so a resumed run continues the curve.
        `epoch` counts the run's epochs across stages, as the events do."""
        path = self.path / "metrics.jsonl"
        kept = [e for e in read_metrics(path)
                if not (e.get("event") == "batch" and e.get("global_step", 0) > global_step)
                and not (e.get("event") == "epoch" and e.get("epoch", 0) > epoch)]
        write_atomic(path, "".join(json.dumps(e) + "\n" for e in kept))

    def save_checkpoint(self, model: nn.Module, optimizer: torch.optim.Optimizer, state: dict, best: bool,
                        scaffold: nn.Module | None = None) -> None:
        """The network, the optimizer of the stage training now and its scaffold, then state.json last."""
        save_weights(self.checkpoints / "last.safetensors", model)
        if best:
            save_weights(self.checkpoints / "best.safetensors", model)
        save_tensors(self.checkpoints / "optimizer.pt", optimizer.state_dict())
        if scaffold is not None:
            save_weights(self.checkpoints / "scaffold.safetensors", scaffold)
        else:
            (self.checkpoints / "scaffold.safetensors").unlink(missing_ok=True)
        write_atomic(self.checkpoints / "state.json", json.dumps(state) + "\n")


@dataclass
class Run:
    """A run folder opened for reading (the GUI's "open run", plots, resuming)."""

    path: Path
    project: dict
    config: dict
    metrics: list[RecordedEvent]
    state: dict

    def load_model(self, which: str = "last") -> nn.Module:
        """The trained network on the CPU, in eval mode."""
        from workbench.core.build import build_model

        model = build_model(self.project)
        self.load_weights_into(model, which)
        return model.eval()

    def load_weights_into(self, model: nn.Module, which: str = "last") -> None:
        """which: "last", "best", or "scaffold" (the checkpointed stage's own extra weights)."""
        if which not in ("last", "best", "scaffold"):
            raise RunError(f"checkpoint must be 'last', 'best' or 'scaffold', got {which!r}")
        path = self.path / CHECKPOINTS / f"{which}.safetensors"
        try:
            model.load_state_dict(load_weights(path))
        except RuntimeError as exc:
            raise RunError(f"{path}: does not fit the run's project ({str(exc).splitlines()[0]})") from None

    def optimizer_state(self) -> dict:
        return load_tensors(self.path / CHECKPOINTS / "optimizer.pt")

    def dataset(self) -> Dataset:
        """The run's dataset with the same train/validation split as in training."""
        return load_dataset(self.config["data"], self.project["input"])


def open_run(path: str | os.PathLike) -> Run:
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: no such run folder")
    try:
        project = parse_project((path / "project.json").read_bytes(), str(path / "project.json"))
    except FileNotFoundError:
        raise RunError(f"{path}: not a run folder (project.json is missing)") from None
    except ProjectError as exc:
        raise RunError(str(exc)) from None
    config = _read_json(path / "config.json")
    if not isinstance(config, dict) or "training" not in config or "data" not in config:
        raise RunError(f"{path / 'config.json'}: not a workbench run config")
    _check_types(path / "config.json", config, CONFIG_TYPES)
    state_path = path / CHECKPOINTS / "state.json"
    state = _read_json(state_path) if state_path.exists() else {}
    if not isinstance(state, dict):
        raise RunError(f"{state_path}: not a training state (expected a JSON object)")
    _check_types(state_path, state, STATE_TYPES)
    return Run(path, project, config, read_metrics(path / "metrics.jsonl"), state)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


# What the keys that resuming, plotting and probing read must hold (the values inside "training" and
# "data" are checked like a project's sections when the run is resumed or its data loaded).
CONFIG_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "training": ("an object", lambda v: isinstance(v, dict)), "data": ("an object", lambda v: isinstance(v, dict)),
    "schedule": ("an object", lambda v: isinstance(v, dict)), "classes": ("a list", lambda v: isinstance(v, list)),
    "split_seed": ("a whole number >= 0", _whole)}
STATE_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **{key: ("a whole number >= 0", _whole) for key in ("stage_index", "epoch", "stage_epoch", "global_step")},
    "best_val": ("a number or null", _number_or_null)}


def _check_types(path: Path, doc: dict, types: dict[str, tuple[str, Callable[[Any], bool]]]) -> None:
    """RunError naming the file and the key whose value is not what it must be."""
    for key, (what, fits) in types.items():
        if key in doc and not fits(doc[key]):
            raise RunError(f"{path}: {key!r} must be {what}, got {json.dumps(doc[key])[:80]}")
