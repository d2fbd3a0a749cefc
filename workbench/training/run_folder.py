"""A run folder: what trained, how, what happened, and the weights.

    RUN_DIR/project.json        the frozen project
    RUN_DIR/config.json         resolved training config, data section (split seed), device used
    RUN_DIR/metrics.jsonl       one event per line, strict JSON (never probes)
    RUN_DIR/health.jsonl        the health events (statistics and findings per layer, every few steps)
                                and the timing event (time per layer, after the first epoch)
    RUN_DIR/filters/            the first layer's filters at each epoch (training/filter_history.py)
    RUN_DIR/checkpoints/state.json     where training stands (stage_index, epoch of the run, stage_epoch,
                                       global_step, best_val) and "checkpoint": the folder below
    RUN_DIR/checkpoints/epoch-NNNNNN/  the checkpoint, one folder per save:
        last.safetensors, best.safetensors   model weights (safetensors; best is a hard link when the
                                              same bytes)
        scaffold.safetensors   weights a stage trains besides the network (the mirrored decoder while
                               pretraining layer-wise)
        optimizer.pt           optimizer state (tensors and numbers only)

A checkpoint is one unit: its files go into a new folder, then state.json, replaced atomically, names
that folder (the commit), then older folders are removed. A crash or a full disk at any moment leaves
the previous checkpoint whole and named by state.json; a half-written folder is never read and is
removed when the run goes on. (Run folders written before this layout keep their files directly in
checkpoints/ and are read as before.)

Every file is read only if it is a regular file. Weights are read with safetensors and checked against
the network (names, shapes, types, finite values); the optimizer state with
`torch.load(weights_only=True)`: nothing in a run folder can make us unpickle arbitrary objects.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from workbench.core.project import (MAX_FILE_BYTES, TEMP_SUFFIX, ProjectError, dumps_project, parse_project,
                                    write_atomic)
from workbench.core.regular_file import FileTooLarge, read_regular
from workbench.data import Dataset, load_dataset
from workbench.training.config import MAX_EPOCHS
from workbench.training.events import Event, HealthRecord, RecordedEvent

CHECKPOINTS = "checkpoints"
CHECKPOINT_FOLDER = re.compile(r"epoch-\d{6,}(-\d+)?")
WEIGHTS = ("last", "best", "scaffold")
LEGACY_FILES = ("last.safetensors", "best.safetensors", "scaffold.safetensors", "optimizer.pt")


class RunError(ValueError):
    """A run folder is missing, incomplete, corrupt or unsafe; the message names the file."""


def default_runs_root() -> Path:
    return Path(os.environ.get("WORKBENCH_RUNS") or Path.home() / ".workbench" / "runs")


def strict_json(event: Mapping[str, object]) -> str:
    """One event as strict JSON: a non-finite number (which json.dumps would write as NaN or
    Infinity, which no strict reader accepts) is written as null."""
    return json.dumps(_finite_or_none(event), allow_nan=False)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def _write_file(path: Path, data: bytes) -> None:
    """A file of a checkpoint folder not yet committed: written in place, flushed to the disk."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _weights_bytes(model: nn.Module) -> bytes:
    return save_safetensors({k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()})


def _tensors_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _link_or_copy(source: Path, target: Path) -> None:
    """The same bytes under a second name: a hard link where the file system has them."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        with open(target, "rb+") as handle:
            os.fsync(handle.fileno())


def _read_file(path: Path, limit: int | None = None) -> bytes:
    try:
        return read_regular(path, limit)
    except FileNotFoundError:
        raise
    except FileTooLarge as exc:
        raise RunError(f"{path}: {exc.size:,} bytes is too large for this file") from None
    except OSError as exc:
        raise RunError(f"{path}: cannot read ({exc.strerror or exc})") from None


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_safetensors(_read_file(path))
    except FileNotFoundError:
        raise RunError(f"{path}: no such checkpoint") from None
    except (SafetensorError, ValueError, RuntimeError) as exc:
        if isinstance(exc, RunError):
            raise
        raise RunError(f"{path}: not a safetensors weights file ({exc}); refusing to load it") from None


def check_weights(path: Path, weights: dict[str, torch.Tensor], model: nn.Module) -> None:
    """RunError naming the file and the tensor when the weights are not the network's own: a name
    missing or extra, another shape, another type (int8 would be cast to float silently), or
    values that are not finite (a diverged network: nothing to show or to train on)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in weights]
    extra = [k for k in weights if k not in expected]
    if missing or extra:
        what = (f"lacks {_names(missing)}" if missing else "") + (" and " if missing and extra else "") + \
            (f"has {_names(extra)} that the network does not" if extra else "")
        raise RunError(f"{path}: does not fit the run's network: it {what}")
    for key, tensor in weights.items():
        want = expected[key]
        if tuple(tensor.shape) != tuple(want.shape):
            raise RunError(f"{path}: {_where(key, model)} is {_shape(tensor)} in the checkpoint but "
                           f"{_shape(want)} in the network: the weights belong to another network")
        if tensor.dtype != want.dtype:
            raise RunError(f"{path}: {_where(key, model)} holds {str(tensor.dtype).removeprefix('torch.')} "
                           f"values where the network holds {str(want.dtype).removeprefix('torch.')}: "
                           f"not weights workbench wrote")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise RunError(f"{path}: {_where(key, model)} holds {bad:,} NaN or infinite values: the network had "
                           f"diverged when it was saved, so it cannot be shown or trained on")


def _names(keys: list[str]) -> str:
    shown = ", ".join(repr(k) for k in keys[:3])
    return shown + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _shape(tensor: torch.Tensor) -> str:
    return "×".join(map(str, tensor.shape)) or "a scalar"


def _where(key: str, model: nn.Module) -> str:
    """'0.weight' -> "'0.weight' (layer 0, Conv2d)" for a sequential network."""
    head = key.split(".", 1)[0]
    if isinstance(model, nn.Sequential) and head.isdigit() and int(head) < len(model):
        return f"{key!r} (layer {head}, {type(model[int(head)]).__name__})"
    return repr(key)


def load_tensors(path: Path) -> Any:
    """torch.load with weights_only=True: plain tensors, numbers and containers, or RunError."""
    try:
        data = _read_file(path)
    except FileNotFoundError:
        raise RunError(f"{path}: missing") from None
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError for forbidden globals, and any corruption
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"{path}: refused: it holds more than plain tensors and numbers, or is corrupt "
                       f"({first[:160]})") from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(_read_file(path, MAX_FILE_BYTES))
    except FileNotFoundError:
        raise RunError(f"{path.parent}: not a run folder ({path.name} is missing)") from None
    except ValueError as exc:
        if isinstance(exc, RunError):
            raise
        raise RunError(f"{path}: cannot read ({exc})") from None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


# What each key of an event in metrics.jsonl must hold, and the keys an event of each kind needs (what
# curves, plots and resuming read). A line that breaks them is skipped, like a torn last line.
EVENT_TYPES: dict[str, Callable[[Any], bool]] = {
    "stage": lambda v: isinstance(v, str),
    **{key: _whole for key in ("epoch", "step", "global_step", "stage_index", "stage_epoch", "epochs",
                               "steps_per_epoch")},
    **{key: _number_or_null for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "samples_per_s",
                                        "eta_s", "time_s", "best_val_loss")},
    "val_confusion": lambda v: isinstance(v, list) and all(isinstance(row, list) and all(map(_whole, row))
                                                           for row in v)}
EVENT_NEEDS = {"batch": ("epoch", "global_step", "train_loss"), "epoch": ("epoch", "global_step", "train_loss")}


def _valid_event(event: Any) -> bool:
    return (isinstance(event, dict) and event.get("event") in ("start", "batch", "epoch", "done")
            and all(fits(event[key]) for key, fits in EVENT_TYPES.items() if key in event)
            and all(key in event for key in EVENT_NEEDS.get(event["event"], ())))


def _read_lines(path: Path, valid: Callable[[Any], bool]) -> list[Any]:
    """The JSON lines of a file that pass `valid`. A line that does not (a torn last line after a
    crash, bytes that are not UTF-8, a value of the wrong type) is skipped: the rest of the run stays
    readable, plottable and resumable."""
    events: list[Any] = []
    try:
        data = _read_file(path)
    except FileNotFoundError:
        return []
    for line in data.splitlines():
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            continue
        if valid(event):
            events.append(event)
    return events


def read_metrics(path: Path) -> list[RecordedEvent]:
    """Events from metrics.jsonl (see _read_lines)."""
    return _read_lines(path, _valid_event)


def _valid_health(event: Any) -> bool:
    return (isinstance(event, dict) and event.get("event") in ("health", "timing") and _whole(event.get("global_step"))
            and isinstance(event.get("layers"), list)
            and all(isinstance(layer, dict) and _whole(layer.get("layer")) for layer in event["layers"])
            and (event["event"] == "timing" or isinstance(event.get("findings"), list)))


def read_health(path: Path) -> list[HealthRecord]:
    """Events from health.jsonl (see _read_lines); none for a run trained without health statistics."""
    return _read_lines(path, _valid_health)


# events written somewhere else than metrics.jsonl
EVENT_FILES = {"health": "health.jsonl", "timing": "health.jsonl"}


class RunWriter:
    """Writes one run folder while training; `fresh=False` continues an existing one."""

    def __init__(self, path: str | os.PathLike, project: dict, config: dict, fresh: bool = True):
        self.path = Path(path)
        self.checkpoints = self.path / CHECKPOINTS
        if fresh and (self.path / "metrics.jsonl").exists():
            raise RunError(f"{self.path} already holds a run: resume it (workbench train --resume {self.path}), "
                           f"or choose another folder")
        try:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunError(f"{self.path}: cannot create the run folder ({exc.strerror or exc})") from None
        self.current = None if fresh else _committed_folder(self.checkpoints)
        self._remove_leftovers()
        write_atomic(self.path / "project.json", dumps_project(project))
        self.write_config(config)

    def write_config(self, config: dict) -> None:
        write_atomic(self.path / "config.json", json.dumps(config, indent=2) + "\n")

    def append(self, event: Event) -> None:
        # Opened per event (a few per second): no handle outlives an abandoned run.
        with open(self.path / EVENT_FILES.get(event["event"], "metrics.jsonl"), "a", encoding="utf-8") as file:
            file.write(strict_json(event) + "\n")

    def truncate_after(self, epoch: int, global_step: int) -> None:
        """Drop events past a checkpoint (an interrupted epoch), so a resumed run continues the curve.
        `epoch` counts the run's epochs across stages, as the events do."""
        path = self.path / "metrics.jsonl"
        kept = [e for e in read_metrics(path)
                if not (e["event"] == "batch" and e["global_step"] > global_step)
                and not (e["event"] == "epoch" and e["epoch"] > epoch)]
        write_atomic(path, "".join(strict_json(e) + "\n" for e in kept))
        health = self.path / "health.jsonl"
        if health.exists():
            records = [e for e in read_health(health) if e["global_step"] <= global_step]
            write_atomic(health, "".join(strict_json(e) + "\n" for e in records))

    def save_checkpoint(self, model: nn.Module, optimizer: torch.optim.Optimizer, state: dict, best: bool,
                        scaffold: nn.Module | None = None) -> None:
        """The network, the optimizer of the stage training now and its scaffold, as one unit (see the
        module docstring): a new folder, then state.json naming it."""
        name = f"epoch-{state['epoch']:06d}"
        suffix = 0
        while name == self.current:  # never write into the committed checkpoint
            suffix += 1
            name = f"epoch-{state['epoch']:06d}-{suffix}"
        folder = self.checkpoints / name
        shutil.rmtree(folder, ignore_errors=True)  # a save of this epoch that crashed before its commit
        folder.mkdir()
        _write_file(folder / "last.safetensors", _weights_bytes(model))
        previous_best = self._folder() / "best.safetensors"
        if best:
            _link_or_copy(folder / "last.safetensors", folder / "best.safetensors")
        elif previous_best.is_file():
            _link_or_copy(previous_best, folder / "best.safetensors")
        _write_file(folder / "optimizer.pt", _tensors_bytes(optimizer.state_dict()))
        if scaffold is not None:
            _write_file(folder / "scaffold.safetensors", _weights_bytes(scaffold))
        write_atomic(self.checkpoints / "state.json", json.dumps({**state, "checkpoint": name}) + "\n")
        self.current = name
        self._remove_leftovers()

    def _folder(self) -> Path:
        """Where the committed checkpoint's files are (checkpoints/ itself in an older run folder)."""
        return self.checkpoints / self.current if self.current else self.checkpoints

    def _remove_leftovers(self) -> None:
        """Checkpoint folders no state.json names (older ones, or a save that crashed before its
        commit), the files of an older layout once a checkpoint replaces them, and temporary files
        of killed writes: this writer is the folder's only one."""
        for folder in (self.path, self.checkpoints):
            for entry in folder.iterdir():
                if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                    entry.unlink(missing_ok=True)
                elif folder == self.checkpoints and CHECKPOINT_FOLDER.fullmatch(entry.name) and \
                        entry.name != self.current:
                    shutil.rmtree(entry, ignore_errors=True)
                elif folder == self.checkpoints and self.current and entry.name in LEGACY_FILES:
                    entry.unlink(missing_ok=True)


def _committed_folder(checkpoints: Path) -> str | None:
    """The checkpoint folder state.json names, if it names a valid one."""
    try:
        name = json.loads(read_regular(checkpoints / "state.json", MAX_FILE_BYTES)).get("checkpoint")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) and CHECKPOINT_FOLDER.fullmatch(name) else None


@dataclass
class Run:
    """A run folder opened for reading (the GUI's "open run", plots, resuming)."""

    path: Path
    project: dict
    config: dict
    metrics: list[RecordedEvent]
    state: dict

    def health(self) -> list[HealthRecord]:
        """The health and timing events (health.jsonl), oldest first."""
        return read_health(self.path / "health.jsonl")

    @property
    def checkpoint(self) -> Path:
        """The folder of the committed checkpoint (checkpoints/ itself in an older run folder)."""
        name = self.state.get("checkpoint")
        return self.path / CHECKPOINTS / name if name else self.path / CHECKPOINTS

    def load_model(self, which: str = "last") -> nn.Module:
        """The trained network on the CPU, in eval mode."""
        from workbench.core.build import build_model

        model = build_model(self.project)
        self.load_weights_into(model, which)
        return model.eval()

    def load_weights_into(self, model: nn.Module, which: str = "last") -> None:
        """which: "last", "best", or "scaffold" (the checkpointed stage's own extra weights)."""
        if which not in WEIGHTS:
            raise RunError(f"checkpoint must be 'last', 'best' or 'scaffold', got {which!r}")
        path = self.checkpoint / f"{which}.safetensors"
        weights = load_weights(path)
        check_weights(path, weights, model)
        model.load_state_dict(weights)

    def optimizer_state(self) -> dict:
        return load_tensors(self.checkpoint / "optimizer.pt")

    def dataset(self) -> Dataset:
        """The run's dataset with the same train/validation split as in training."""
        return load_dataset(self.config["data"], self.project["input"])


def open_run(path: str | os.PathLike) -> Run:
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"{path}: no such run folder")
    try:
        project = parse_project(_read_file(path / "project.json", MAX_FILE_BYTES), str(path / "project.json"))
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
    if state.get("stage_epoch", 0) > state.get("epoch", 0):
        raise RunError(f"{state_path}: 'stage_epoch' ({state['stage_epoch']}) cannot exceed 'epoch' ({state['epoch']})")
    return Run(path, project, config, read_metrics(path / "metrics.jsonl"), state)


def _at_most(high: int) -> Callable[[Any], bool]:
    return lambda value: _whole(value) and value <= high


MAX_STEPS = 2**53  # beyond this a JSON number is no longer an exact integer

# What the keys that resuming, plotting and probing read must hold (the values inside "training" and
# "data" are checked like a project's sections when the run is resumed or its data loaded).
CONFIG_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "training": ("an object", lambda v: isinstance(v, dict)), "data": ("an object", lambda v: isinstance(v, dict)),
    "schedule": ("an object", lambda v: isinstance(v, dict)), "classes": ("a list", lambda v: isinstance(v, list)),
    "split_seed": ("a whole number >= 0", _whole)}
STATE_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    **{key: (f"a whole number from 0 to {MAX_EPOCHS}", _at_most(MAX_EPOCHS))
       for key in ("stage_index", "epoch", "stage_epoch")},
    "global_step": (f"a whole number from 0 to {MAX_STEPS}", _at_most(MAX_STEPS)),
    "best_val": ("a number or null", _number_or_null),
    "checkpoint": ("the name of a checkpoint folder (epoch-NNNNNN)",
                   lambda v: isinstance(v, str) and CHECKPOINT_FOLDER.fullmatch(v) is not None)}


def _check_types(path: Path, doc: dict, types: dict[str, tuple[str, Callable[[Any], bool]]]) -> None:
    """RunError naming the file and the key whose value is not what it must be."""
    for key, (what, fits) in types.items():
        if key in doc and not fits(doc[key]):
            raise RunError(f"{path}: {key!r} must be {what}, got {json.dumps(doc[key])[:80]}")
