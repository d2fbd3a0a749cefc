"""The training engine: a run from a frozen copy of the project, as a generator of events.

    trainer = Trainer(project, run_dir="runs/digits")
    for event in trainer.events():      # {"event": "start" | "batch" | "epoch" | "probe" | "done", ...}
        ...

Another thread may call `pause()`, `resume()`, `stop()` and `set_probe_request()` at any time; they
take effect between steps. The loop is split into `stages()` -> `_run_stage()` -> `_run_epoch()` ->
`_step()` so staged schedules (e.g. greedy layer-wise pretraining: which parameters train, with
which model and loss) can override `stages()` and reuse the rest; their events carry "stage".

Per step nothing leaves the device: losses are kept as tensors and fetched together at logging
points (at most every `log_interval_s`), the only CPU-GPU sync in the hot loop (as in nanoGPT).

Under torchrun, `world` (workbench.training.distributed.World) is this process's place among those
training the run: each step takes this rank's share of the global batch, logging points become sync
points every rank reaches at the same step, validation sums are added up, and rank 0 alone writes
the run folder. Alone, `World()` changes nothing.
"""
from __future__ import annotations

import collections
import contextlib
import copy
import math
import statistics
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterator, cast

import torch
from torch import nn

from workbench.core.build import build_model
from workbench.core.weights import load_initial_weights
from workbench.core.inference import summarize
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import Summary
from workbench.data import Dataset, load_dataset
from workbench.data.augment import augment_batch, check_augment
from workbench.training.acceleration import Acceleration, Compiler, apply_to_process, default_acceleration, make_fused
from workbench.training.config import ConfigError, TrainingConfig, validate_sections, validate_training
from workbench.training.devices import device_name, resolve_device
from workbench.training.distributed import SINGLE, World, backend_for
from workbench.training.events import (BatchEvent, CompiledEvent, CompilingEvent, DoneEvent, EpochEvent, Event,
                                       StartEvent, Status, TimingEvent)
from workbench.training.feed import BatchFeed, place, to_layout
from workbench.training.memory import MemoryShortage, check_memory
from workbench.training.filter_history import save_snapshot
from workbench.training.health import HEALTH_EVERY, HealthRecorder
from workbench.training.run_folder import Run, RunError, RunWriter, open_run
from workbench.training.tasks import Task, make_task
from workbench.training.threads import ThreadTuner, worth_tuning
from workbench.training.timing import compare_with_macs, time_layers

# Probes may take at most this share of the run's time: after a probe that took t seconds the next
# waits at least t / PROBE_SHARE (on 2 CPU cores a live probe of every panel of cifar10-cnn costs
# ~5 ms, the first one, of the whole probe batch, ~75 ms: see probes.LiveProbe).
PROBE_SHARE = 0.1
PROBE_CATCH_UP_S = 0.5  # probes missed in at most this long are made up (see Trainer._probe)
TIMING_SHARE = 0.02  # the time per layer is measured once, after the first epoch, in about this share of its time
EVAL_BATCH = 1024


class NonFiniteLoss(Exception):
    pass


class _Stopped(Exception):
    pass


@dataclass
class Stage:
    """One phase of a schedule: `model` is called on the batch, `optimizer` holds what trains.
    `scaffold` holds weights the stage trains that are not the network's (layer-wise pretraining's
    mirrored decoder): checkpointed with the stage, so a run resumes mid-stage."""

    name: str | None
    epochs: int
    model: nn.Module
    task: Task
    optimizer: torch.optim.Optimizer
    scaffold: nn.Module | None = None


def apply_hyperparameters(optimizer: torch.optim.Optimizer, config: TrainingConfig) -> None:
    """The config's learning rate, weight decay and momentum into every parameter group (loading an
    optimizer's state brings back the values it was saved with)."""
    for group in optimizer.param_groups:
        group["lr"] = config.lr
        group["weight_decay"] = config.weight_decay
        if "momentum" in group:
            group["momentum"] = config.momentum


def make_optimizer(config: TrainingConfig, params: Any, fused: bool = False) -> torch.optim.Optimizer:
    """fused: the update in one kernel where this torch can (acceleration.make_fused)."""
    if config.optimizer == "sgd":
        return make_fused(torch.optim.SGD, params, fused, lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return make_fused(cls, params, fused, lr=config.lr, weight_decay=config.weight_decay)


class Trainer:
    """One run. Build it (this loads data and the model; bad input raises a ValueError), then
    iterate `events()`; after a stop or a failure, `events()` may be iterated again to go on.
    `acceleration` (None: what pays on the device, see training.acceleration) is for benchmarks."""

    def __init__(self, project: ProjectSpec, *, run_dir: str | Path | None = None,
                 dataset: Dataset | None = None, root: str | None = None, log_interval_s: float = 0.1,
                 probe_interval_s: float = 0.25, world: World | None = None,
                 acceleration: Acceleration | None = None, health_every: int = HEALTH_EVERY,
                 _resume_state: dict | None = None, **overrides: Any):
        doc = load_spec(project)
        self.project = copy.deepcopy(doc)  # frozen: edits in the window never reach this run
        self.config, self.data_section = validate_sections(self.project, **overrides)
        self.world = world or SINGLE  # one process, or this rank of several (workbench.training.distributed)
        self.world.check_batch(self.config.batch_size)
        self.device = self.world.device_for(resolve_device(self.config.device))
        self.log_interval_s = log_interval_s
        self.probe_interval_s = probe_interval_s
        summary = summarize(self.project)
        check_memory(summary, self.config, self.device, self.world.size)  # before a byte is allocated
        torch.manual_seed(self.config.seed)
        with self._allocating(summary):
            model = build_model(self.project)
        # An imported network starts from its weights (a resumed run from its checkpoint, loaded later;
        # one that had none starts over, from them too); layers edited since the import start fresh,
        # which the start event's "weight_notes" says.
        self.weight_notes = load_initial_weights(model, self.project) if not _resume_state else []
        with self._allocating(summary):
            self.model = self.world.prepare(model, self.device).to(self.device)
        self.acceleration = acceleration or default_acceleration(self.device, self.model)
        if self.world.distributed and self.acceleration.compile != "off":
            # not under torchrun (yet): every rank would have to compile at the same step, and DDP's
            # compiled path is unmeasured here
            self.acceleration = replace(self.acceleration, compile="off")
        self.model = self.model.to(memory_format=self.acceleration.memory_format)
        self.compiler = Compiler(self.acceleration)
        self.world.seed(self.config.seed)
        data = dataset if dataset is not None else load_dataset(self.data_section, self.project["input"], root)
        self.classes = list(data.classes)
        # on the device if it fits there, else the training images stream from host memory
        self.data, self.streamed = place(data, self.device, self.acceleration.memory_format)
        self.feed = self.make_feed()
        check_augment(self.data_section["augment"], self.project["input"])
        self.task = make_task(self.config, self.model, self.project["input"], summary["output"], len(self.classes))
        self.optimizer = make_optimizer(self.config, self.model.parameters(), self.acceleration.fused_optimizer)
        self.use_amp = self.device.type == "cuda" and self.config.amp
        self.amp_dtype = torch.bfloat16 if self.use_amp and torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)
        # Where training stands: completed epochs of the run and of the current stage, steps overall.
        # Events' "epoch" counts across stages (one axis for curves, progress and resuming).
        self.stage_index, self.epoch, self.stage_epoch, self.global_step = 0, 0, 0, 0
        self.best_val = math.inf
        self._val_inputs = self._fixed_val_inputs()
        self._stop, self._paused = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self._probe_request: Any = None
        self._probe_costs: collections.deque = collections.deque(maxlen=5)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.writer: RunWriter | None = None
        self._training_models: dict[int, nn.Module] = {}  # id(stage.model) -> what its steps call (DDP)
        if self.run_dir is not None and self.world.is_main:
            self.writer = RunWriter(self.run_dir, self.project, self._config_record(), fresh=_resume_state is None)
            if _resume_state is None:  # the filters before any step: where "filters forming" starts
                save_snapshot(self.run_dir, 0, self.model, self.project["input"])
        # health statistics every few steps (0: never), and time per layer once, after the first epoch
        self.health = HealthRecorder(self.model, [layer["type"] for layer in self.project["layers"]],
                                     health_every, fresh=not _resume_state)  # {}: started over
        self._timed = health_every <= 0
        if _resume_state is not None:
            self.stage_index = int(_resume_state.get("stage_index", 0))
            self.epoch = int(_resume_state.get("epoch", 0))
            self.stage_epoch = int(_resume_state.get("stage_epoch", self.epoch))
            self.global_step = int(_resume_state.get("global_step", 0))
            best = _resume_state.get("best_val")
            self.best_val = math.inf if best is None else float(best)
        self._epoch_first_step = self.global_step  # where an interrupted epoch starts over

    @classmethod
    def resume_run(cls, run_dir: str | Path, *, log_interval_s: float = 0.1, probe_interval_s: float = 0.25,
                   world: World | None = None, **overrides: Any) -> "Trainer":
        """Continue a run folder from its last checkpoint: same split, same curves (metrics appended);
        overrides (e.g. epochs=40) change the recorded config."""
        run = open_run(run_dir)
        if not run.state:
            # Killed before (or while) writing its first checkpoint, the run's record ends at most with
            # epoch 1's event. Anything after it means checkpoints existed and were deleted.
            kinds = [e["event"] for e in run.metrics]
            epochs = kinds.count("epoch")
            if epochs > 1 or (epochs == 1 and kinds[-1] != "epoch"):
                raise RunError(f"{run.path / 'checkpoints'}: no checkpoint, though metrics.jsonl records {epochs} "
                               f"epoch{'s' * (epochs > 1)} (were the checkpoints deleted?): the trained weights are "
                               f"gone; start a new run")
        section = {**run.config["training"], **{k: v for k, v in overrides.items() if v is not None}}
        project = {**run.project, "training": section, "data": run.config["data"]}
        trainer = cls(project, run_dir=run_dir, log_interval_s=log_interval_s, probe_interval_s=probe_interval_s,
                      world=world, _resume_state=run.state)
        if not run.state:  # stopped before its first checkpoint: nothing to lose, so it starts over
            trainer.note = "no checkpoint yet (it stopped before its first epoch ended): started over"
            if trainer.writer is not None:  # rank 0's alone under torchrun
                trainer.writer.truncate_after(0, 0)
            return trainer
        stages = trainer.stages()
        if not 0 <= trainer.stage_index < len(stages):
            raise RunError(f"{run.path / 'checkpoints' / 'state.json'}: stage_index {trainer.stage_index} does not "
                           f"exist in this run's schedule ({len(stages)} stages)")
        same_optimizer = run.config["training"].get("optimizer") == trainer.config.optimizer
        trainer._load_checkpoint(run, stages[trainer.stage_index], optimizer_state=same_optimizer)
        if trainer.writer is not None:  # rank 0's alone under torchrun
            trainer.writer.truncate_after(trainer.epoch, trainer.global_step)
        return trainer

    def make_feed(self) -> BatchFeed:
        """Where training batches come from: on the device or streamed, this rank's share of each batch."""
        return BatchFeed(self.data.train_x, self.data.train_y, self.device, rank=self.world.rank,
                         world_size=self.world.size, stream=self.streamed, memory_format=self.acceleration.memory_format)

    # controls, safe from any thread -------------------------------------------------------------
    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def stop(self) -> None:
        self._stop.set()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def set_probe_request(self, request: Any) -> None:
        """A workbench.training.probes.ProbeRequest (or None): captured at most every probe_interval_s."""
        with self._lock:
            self._probe_request = request if request is not None and request.any() else None

    def update_config(self, **changes: Any) -> None:
        """Change hyperparameters between runs (e.g. a smaller batch size after running out of memory)."""
        self.config = validate_training(self.config.to_dict(), **changes)
        self.world.check_batch(self.config.batch_size)
        if "batch_size" in changes:  # compiled for the old batch's shape: compile again if it pays
            self.compiler = Compiler(self.acceleration)
        for stage in self.stages():
            apply_hyperparameters(stage.optimizer, self.config)
        if self.writer is not None:
            self.writer.write_config(self._config_record())

    # the schedule -----------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        """The plain schedule: one stage, the whole network, the project's task."""
        return [Stage(None, self.config.epochs, self.model, self.task, self.optimizer)]

    def events(self) -> Iterator[Event]:
        """The run from where it stands: an epoch that was interrupted starts over. Whatever goes
        wrong ends in a "done" event with status "failed" and a message (written to metrics.jsonl).
        With `tune_threads` a CPU run picks its torch thread count by timing steps (training.threads);
        the count is put back when the run ends or its events are no longer read."""
        tunes = (self.tune_threads and self.device.type == "cpu" and not self.world.distributed
                 and worth_tuning(summarize(self.project)["total_macs"], self.config.batch_size))
        self._threads = ThreadTuner(torch.get_num_threads()) if tunes else None
        try:
            yield from self._run_events()
        finally:
            if self._threads is not None:
                self._threads.finish()

    def _run_events(self) -> Iterator[Event]:
        status: Status = "finished"
        message = ""
        failed_rank: int | None = None  # a failure on one rank under torchrun (a NaN is every rank's)
        self._phase = "start"
        try:
            apply_to_process(self.acceleration)
            stages = self.stages()
            self._back_to_epoch_start()
            start: StartEvent = {"event": "start", "device": str(self.device), "device_name": device_name(self.device),
                              "epochs": sum(s.epochs for s in stages), "steps_per_epoch": self.steps_per_epoch,
                              "train_size": len(self.data.train_x), "val_size": len(self.data.val_x),
                              "classes": self.classes, "epoch": self.epoch, "global_step": self.global_step,
                              "weight_notes": self.weight_notes, "processes": self.world.size}
            if self.note:
                start["note"] = self.note
            yield self._emit(start)
            self._clock = _Clock()
            self._steps_left = sum(max(0, s.epochs - (self.stage_epoch if i == self.stage_index else 0))
                                   * self.steps_per_epoch for i, s in enumerate(stages) if i >= self.stage_index)
            self._steps_done = 0
            while self.stage_index < len(stages):
                yield from self._run_stage(stages[self.stage_index])
                if self.stage_index < len(stages) - 1:
                    self.stage_epoch = 0
                self.stage_index += 1
            self.stage_index = len(stages) - 1
            message = f"finished {self.epoch} epoch{'' if self.epoch == 1 else 's'}"
        except _Stopped:
            status, message = "stopped", f"stopped at epoch {self.epoch + 1}, step {self.global_step}"
        except NonFiniteLoss as exc:
            status, message = "failed", str(exc) + self._restore_last_checkpoint()
        except torch.cuda.OutOfMemoryError:
            status, message = "failed", self._out_of_memory_message("GPU memory")
            message, failed_rank = self.world.settle_failure(message)
        except Exception as exc:  # noqa: BLE001 - a run must end in a message, and the engine stay usable
            status, message = "failed", self._failure_message(exc)
            # under torchrun the other ranks may be waiting in a collective: the first failure's message wins
            message, failed_rank = self.world.settle_failure(message)
        self._stop.clear()  # here, not at the start: a stop asked for before the run began still counts
        done: DoneEvent = {"event": "done", "status": status, "message": message,
                           "run_dir": str(self.run_dir) if self.run_dir else None, "epoch": self.epoch,
                           "global_step": self.global_step,
                           "best_val_loss": None if math.isinf(self.best_val) else self.best_val}
        if failed_rank is not None and self.world.distributed:
            done["failed_process"] = failed_rank + 1
        try:
            self._emit(done)
        except OSError as exc:  # the run folder cannot take it (disk full): the caller still gets the event
            done["message"] += f" (not recorded in the run folder: {exc.strerror or exc})"
        yield done

    @property
    def steps_per_epoch(self) -> int:
        return self.feed.steps(self.config.batch_size)

    # the loop ---------------------------------------------------------------------------------------
    def _run_stage(self, stage: Stage) -> Iterator[Event]:
        while self.stage_epoch < stage.epochs:
            yield from self._run_epoch(stage)
            self._phase = "validation"
            record = self._evaluate(stage)
            self._check_finite(stage, record)
            self.epoch += 1
            self.stage_epoch += 1
            self._epoch_first_step = self.global_step
            best = record["val_loss"] < self.best_val
            self.best_val = min(self.best_val, record["val_loss"])
            # logged before the checkpoint that commits it: a crash in between leaves the event past the
            # checkpoint, dropped on resume; the other way round it left a checkpoint with no event
            self._emit(record, stage)
            if self.writer is not None:
                self._phase = "checkpoint"
                self.writer.save_checkpoint(stage.model, stage.optimizer, self._state(), best, stage.scaffold)
            yield record
            yield from self._after_epoch(stage)

    def _check_finite(self, stage: Stage, record: dict) -> None:
        """A diverged epoch is never checkpointed as good: its losses and the weights it leaves must
        all be finite (a validation loss of inf with weights at 1e9 passed the training loss's check)."""
        for key in ("train_loss", "val_loss"):
            if not math.isfinite(record[key]):
                raise NonFiniteLoss(f"the {'training' if key == 'train_loss' else 'validation'} loss became "
                                    f"{record[key]} in epoch {self.epoch + 1}: training stopped; {self._kept()}. "
                                    f"Try a lower learning rate (now {self.config.lr:g})")
        modules = [stage.model] + ([stage.scaffold] if stage.scaffold is not None else [])
        tensors = [t for m in modules for t in m.state_dict().values() if t.is_floating_point()]
        if tensors and not bool(torch.stack([torch.isfinite(t).all() for t in tensors]).all()):
            raise NonFiniteLoss(f"the weights hold NaN or infinite values after epoch {self.epoch + 1}: training "
                                f"stopped; {self._kept()}. Try a lower learning rate (now {self.config.lr:g})")

    def _kept(self) -> str:
        return "the last good checkpoint is kept" if self.run_dir is not None else "nothing was saved"

    def _run_epoch(self, stage: Stage) -> Iterator[Event]:
        # The order depends only on (seed, stage, epoch): a resumed run sees the same batches.
        epoch_seed = self.config.seed * 1_000_003 + self.stage_index * 10_007 + self.stage_epoch
        order = torch.randperm(len(self.data.train_x), generator=torch.Generator().manual_seed(epoch_seed))
        # So are dropout masks, corruption noise and augmentation: an epoch run again after a resume
        # draws what it drew the first time, and the resumed curve is the uninterrupted one (under
        # torchrun each rank draws its own, as world.seed says).
        if self.device.type == "cpu":  # the CPU's generator alone: torch.manual_seed seeds every device kind
            torch.default_generator.manual_seed(epoch_seed + 1)  # there is (~0.1 ms, 0.2 % of a digits epoch)
        else:
            torch.manual_seed(epoch_seed + 1)
        self.world.seed(epoch_seed + 1)
        self._training_model(stage).train()
        self._loss_sum = torch.zeros((), device=self.device)
        self._correct = torch.zeros((), device=self.device, dtype=torch.long)
        self._predicted: list[tuple[torch.Tensor, torch.Tensor]] = []  # since the last batch event: (classes, truth)
        pending: list[torch.Tensor] = []
        sizes: list[int] = []  # of the steps in pending: this rank's batch sizes
        last_log = self._clock.now()
        self._epoch_start = last_log
        self._epoch_samples = 0
        for step, batch in enumerate(self.feed.batches(order, self.config.batch_size)):
            yield from self._controls(stage)
            if self.compiler.due(stage.model, self._steps_done, lambda: self._seconds_left(stage, step)):
                yield from self._compile(stage)
            self._phase = "step"
            # this rank's share of the global batch (all of it, in one process)
            with self.health.watch(self.global_step):  # a no-op but on the few steps it collects
                pending.append(self._step(stage, batch.x, batch.y, self.world.share_weight(len(batch.x), batch.whole)))
            sizes.append(len(batch.x))
            self.global_step += 1
            self._steps_done += 1
            self._epoch_samples += batch.whole
            now = self._clock.now()
            if self._threads is not None:
                self._threads.step_done(now, first_of_epoch=step == 0)
            if self._log_due(step, now - last_log):
                batch_event = self._batch_event(pending, sizes, step, now - last_log)
                for health in self.health.events(batch_event, self.config.lr):  # steps collected since the last
                    yield self._emit(health, stage)
                yield self._emit(batch_event, stage)
                pending, sizes, last_log = [], [], now
            if self._probe_request is not None and now >= self._next_probe:
                yield from self._probe(stage)

    def _seconds_left(self, stage: Stage, step: int) -> float:
        """The rest of the stage at the run's pace so far (what compiling would speed up)."""
        steps_left = (stage.epochs - self.stage_epoch) * self.steps_per_epoch - step
        return self._clock.now() / max(self._steps_done, 1) * steps_left

    def _compile(self, stage: Stage) -> Iterator[Event]:
        """Compile the stage's network between steps; the time it takes is reported, not counted as
        training (the clock is paused), and a failure leaves the run going uncompiled."""
        self._phase = "compile"
        compiling: CompilingEvent = {"event": "compiling", "epoch": self.epoch + 1, "global_step": self.global_step}
        yield self._emit(compiling, stage)
        with self._clock.paused():
            result = self.compiler.compile(stage.model, lambda forward: self._warm_up(stage, forward))
        compiled: CompiledEvent = {"event": "compiled", "epoch": self.epoch + 1, "global_step": self.global_step,
                                   "ok": result.ok, "seconds": result.seconds, "message": result.message}
        yield self._emit(compiled, stage)

    def _warm_up(self, stage: Stage, forward: Any) -> None:
        """Run `forward` on the shapes training uses, a training batch (forward and backward) and a
        validation chunk, then put the batch-norm statistics, gradients and random streams back as
        they were: compiling changes nothing in the run. (The weights do not change: no optimizer step.)"""
        buffers = [(buffer, buffer.clone()) for buffer in stage.model.buffers()]
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            xb, yb = self.feed.head(self.config.batch_size)
            xb = augment_batch(xb, self.data_section["augment"])
            inputs = to_layout(stage.task.inputs(xb), self.acceleration.memory_format)
            with self._autocast():
                out = forward(inputs)
            stage.task.loss(out, stage.task.targets(xb, yb)).backward()
            stage.model.eval()
            try:
                with torch.no_grad(), self._autocast():
                    forward(self._val_inputs[:EVAL_BATCH].to(self.device))
            finally:
                stage.model.train()
        stage.model.zero_grad(set_to_none=True)
        with torch.no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)

    def _step(self, stage: Stage, xb: torch.Tensor, yb: torch.Tensor, weight: float = 1.0) -> torch.Tensor:
        """One optimizer step; returns the batch's loss as a detached device tensor. `weight`: what
        this rank's share of the global batch counts (World.share_weight; 1 in one process).

        Nothing here but the step and what only this step can give (its number right): the losses
        are summed per batch event, as a small network's whole step is a couple of milliseconds and
        every extra tensor operation costs it about 1 % (benchmarks/engine_vs_loop.py)."""
        xb = augment_batch(xb, self.data_section["augment"])
        target = stage.task.targets(xb, yb)
        inputs = to_layout(stage.task.inputs(xb), self.acceleration.memory_format)
        with self._autocast():  # compiled for the shapes it warmed up on (never under torchrun: see __init__)
            if self.health.collecting:  # its hooks are for the network's own layers, not a compiled graph
                out = self._training_model(stage)(inputs)
            else:
                out = self.compiler.model_for(stage.model, inputs, self._training_model(stage))(inputs)
        loss = stage.task.loss(out, target)  # in float32, outside autocast (which refuses BCE)
        stage.optimizer.zero_grad(set_to_none=True)
        weighted = loss if weight == 1.0 else loss * weight
        if self.scaler.is_enabled():
            self.scaler.scale(weighted).backward()
            self.scaler.step(stage.optimizer)
            self.scaler.update()
        else:
            weighted.backward()
            stage.optimizer.step()
        predicted = stage.task.predicted(out.detach())
        if predicted is not None:  # counted per batch event, as the losses are
            self._predicted.append((predicted, target))
        return loss.detach()

    def _log_due(self, step: int, since_log: float) -> bool:
        """Whether this step ends with a batch event: every log_interval_s, and at the epoch's end.
        Under torchrun, at the step rank 0 chose at the last one (every rank must sync at the same step)."""
        if step == self.steps_per_epoch - 1:
            return True
        if self.world.distributed:
            return step >= self._sync_step
        return since_log >= self.log_interval_s

    _sync_step = 0  # under torchrun: the next step the ranks sync at (the first of each epoch does)

    def _batch_event(self, pending: list[torch.Tensor], sizes: list[int], step: int, since_log: float) -> BatchEvent:
        losses, stop = torch.stack(pending).float(), False
        # this rank's sums for the epoch's event (pending: its steps' mean losses, of `sizes` samples each)
        self._loss_sum += torch.dot(losses, torch.tensor(sizes, dtype=losses.dtype).to(losses.device, non_blocking=True))
        if self._predicted:
            predicted, truth = zip(*self._predicted)
            self._correct += (torch.cat(predicted) == torch.cat(truth)).sum()
            self._predicted.clear()
        if self.world.distributed:  # every rank's losses, any rank's stop, and when to sync next
            per_interval = max(1, int(len(pending) * self.log_interval_s / max(since_log, 1e-9)))
            losses, stop, next_sync = self.world.agree(losses, self._stop.is_set(), step + per_interval)
            self._sync_step = 0 if step == self.steps_per_epoch - 1 else next_sync
        losses = losses.cpu()  # the sync point
        finite = torch.isfinite(losses)
        if not finite.all():
            bad = self.global_step - len(pending) + int((~finite).nonzero()[0, 0]) + 1
            raise NonFiniteLoss(
                f"the loss became {losses[~finite][0].item()} at step {bad} (epoch {self.epoch + 1}): training "
                f"stopped; {self._kept()}. Try a lower learning rate (now {self.config.lr:g})")
        if stop:
            raise _Stopped
        elapsed = self._clock.now() - self._epoch_start
        rate = self._epoch_samples / max(elapsed, 1e-9)
        return {"event": "batch", "epoch": self.epoch + 1, "step": step + 1, "global_step": self.global_step,
                "train_loss": float(losses.mean()), "samples_per_s": rate, "eta_s": self._eta()}

    def _eta(self) -> float:
        elapsed = self._clock.now()
        left = self._steps_left - self._steps_done
        return elapsed / max(self._steps_done, 1) * max(left, 0)

    @torch.no_grad()
    def _evaluate(self, stage: Stage) -> EpochEvent:
        train_time = self._clock.now() - self._epoch_start
        stage.model.eval()
        self.world.broadcast_buffers(stage.model)  # per-process BatchNorm statistics: rank 0's validate
        val_x, val_y = self._val_inputs, self.data.val_y
        k = len(self.classes)
        loss_sum = torch.zeros((), device=self.device)
        confusion = torch.zeros(k * k, device=self.device, dtype=torch.long)
        lo, hi = self.world.share_range(len(val_x))  # all of it, in one process
        for i in range(lo, hi, EVAL_BATCH):
            j = min(i + EVAL_BATCH, hi)
            # on the device already, unless the dataset is too large for it (training.feed.place)
            xb, yb = val_x[i:j].to(self.device, non_blocking=True), val_y[i:j]
            with self._autocast():
                out = self.compiler.model_for(stage.model, xb)(xb)
            target = stage.task.targets(self.data.val_x[i:j].to(self.device, non_blocking=True), yb)
            loss_sum += stage.task.loss(out, target) * len(xb)
            if stage.task.classifies:
                pred = out.argmax(1)
                real = pred < k  # a network with more outputs than classes may predict none of them: wrong
                confusion += torch.bincount(yb[real] * k + pred[real], minlength=k * k)
        stage.model.train()
        train_sum, correct, loss_sum, confusion = self.world.sum([self._loss_sum, self._correct, loss_sum, confusion])
        n_train = max(self._epoch_samples, 1)
        record: dict[str, Any] = {"event": "epoch", "epoch": self.epoch + 1, "global_step": self.global_step,
                                  "train_loss": float(train_sum) / n_train}
        if stage.task.classifies:
            record["train_accuracy"] = float(correct) / n_train
        record["val_loss"] = float(loss_sum) / max(len(val_x), 1)
        if stage.task.classifies and len(val_x):
            confusion = confusion.view(k, k).cpu()
            record["val_accuracy"] = float(confusion.diag().sum()) / len(val_x)
            record["val_confusion"] = confusion.tolist()
        record["samples_per_s"] = self._epoch_samples / max(train_time, 1e-9)
        record["eta_s"] = self._eta()
        record["time_s"] = self._clock.now()
        return cast(EpochEvent, record)  # built key by key: metrics.jsonl keeps this order

    def _after_epoch(self, stage: Stage) -> Iterator[Event]:
        """The first layer's filters into the run folder; after the first epoch, the time per layer."""
        if self.writer is not None:
            save_snapshot(self.writer.path, self.epoch, self.model, self.project["input"])
        if self._timed:
            return
        self._timed = True
        n = self.config.batch_size
        xb, yb = self.data.train_x[:n].to(self.device), self.data.train_y[:n]  # (streamed data is on the host)

        def loss() -> torch.Tensor:
            with self._autocast():
                out = stage.model(to_layout(stage.task.inputs(xb), self.acceleration.memory_format))
            return stage.task.loss(out, stage.task.targets(xb, yb))

        # about TIMING_SHARE of the epoch's time: two passes at least, more while they fit; under torchrun
        # exactly two on every process (SyncBatchNorm's collectives must match)
        budget = 0.0 if self.world.distributed else TIMING_SHARE * (self._clock.now() - self._epoch_start)
        seconds = time_layers(stage.model, list(self.model.children()), loss, budget)
        timing: TimingEvent = {"event": "timing", "epoch": self.epoch, "global_step": self.global_step,
                               "device": str(self.device), "batch_size": len(xb),
                               "layers": compare_with_macs(seconds, summarize(self.project)["layers"])}
        yield self._emit(timing, stage)

    def _controls(self, stage: Stage) -> Iterator[Event]:
        """Between steps: honour stop, and block while paused (the pause time is not counted). Under
        torchrun a stop waits for the next sync point, where every rank stops (and nobody pauses)."""
        if self.world.distributed:
            return
        if self._stop.is_set():
            raise _Stopped
        if self._paused.is_set():
            yield self._emit({"event": "paused", "epoch": self.epoch + 1, "global_step": self.global_step}, stage)
            with self._clock.paused():
                while self._paused.is_set() and not self._stop.is_set():
                    time.sleep(0.02)
            if self._stop.is_set():
                raise _Stopped
            yield self._emit({"event": "resumed", "epoch": self.epoch + 1, "global_step": self.global_step}, stage)

    def _probe(self, stage: Stage) -> Iterator[Event]:
        from workbench.training import probes  # the insight helper's module; loaded only when asked for

        with self._lock:
            request = self._probe_request
        began = self._clock.now()
        if request is None:
            return
        self._phase = "probe"
        if self._live_probe is None:
            n = min(probes.PROBE_COUNT, len(self._val_inputs))
            # Denoising: the clean images are the inputs, and the noisy ones what the network is given.
            noisy = self._val_inputs[:n].to(self.device) if self.task.corruption is not None else None
            self._live_probe = probes.LiveProbe(self.data.val_x[:n].to(self.device), self.data.val_y[:n],
                                                corrupted=noisy, classes=len(self.data.classes))
        capture = self._live_probe.capture(stage.model, request)
        self._probe_costs.append(self._clock.now() - began)
        # the cost of a typical probe, not of a one-off: the first (of the whole batch, ~15 times a later
        # one's for cifar10-cnn) or one slowed by the window painting on the same cores
        took = statistics.median_low(self._probe_costs)
        # On a beat of probe_interval_s, not that long after this probe: probes wait for a step's end,
        # and timing them from the probe made the rate depend on the step time (at one interval,
        # cifar10-cnn refreshed 4.7 times a second and digits-cnn 7). Probes missed in the last
        # half second (an epoch's validation) are made up half an interval apart; a costly probe waits.
        first = self._beat == -math.inf
        self._beat = began if first else max(self._beat + self.probe_interval_s, began - PROBE_CATCH_UP_S)
        self._next_probe = max(self._beat, began + self.probe_interval_s / 2, began + took / PROBE_SHARE)
        yield self._emit({"event": "probe", "global_step": self.global_step, **capture}, stage)

    note = ""  # said with the start event (a resume that had to start over)
    tune_threads = False  # set by the training process and `workbench train` (see events())
    _threads: ThreadTuner | None = None
    _next_probe = _beat = -math.inf
    _live_probe: Any = None  # a probes.LiveProbe once the first probe is asked for

    # helpers ----------------------------------------------------------------------------------------
    def _emit(self, event: Event, stage: Stage | None = None) -> Event:
        if stage is not None and stage.name is not None:
            event["stage"] = stage.name
            event["stage_index"] = self.stage_index
            if event["event"] != "probe" and "epoch" in event:  # the stage's own count: the run's less
                event["stage_epoch"] = event["epoch"] - (self.epoch - self.stage_epoch)  # the earlier stages'
        if self.writer is not None and event["event"] not in ("probe", "paused", "resumed"):
            self.writer.append(event)
        return event

    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self.use_amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.amp_dtype)

    def _fixed_val_inputs(self) -> torch.Tensor:
        """Validation inputs as the network sees them; denoising noise is drawn once, from the seed,
        so validation losses compare across epochs."""
        if self.task.corruption is None:
            return self.data.val_x
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed + 1)
            return self.task.inputs(self.data.val_x.cpu()).to(self.data.val_x.device)

    def _state(self) -> dict:
        return {"stage_index": self.stage_index, "epoch": self.epoch, "stage_epoch": self.stage_epoch,
                "global_step": self.global_step, "best_val": None if math.isinf(self.best_val) else self.best_val}

    def _back_to_epoch_start(self) -> None:
        """Going on after a stop or a failure repeats the interrupted epoch from its first step: its
        steps are not counted twice, and its logged batches are dropped from metrics.jsonl."""
        if self.global_step != self._epoch_first_step:
            self.global_step = self._epoch_first_step
            if self.writer is not None:
                self.writer.truncate_after(self.epoch, self.global_step)

    def _config_record(self) -> dict:
        return {"training": self.config.to_dict(), "data": self.data_section,
                "split_seed": self.data_section["split_seed"], "device": str(self.device),
                "device_name": device_name(self.device), "classes": self.classes,
                "input": self.project["input"], "processes": self.world.size,
                **({"backend": backend_for(self.device), "batch_norm": self.world.batch_norm(self.device)}
                   if self.world.distributed else {})}

    def _training_model(self, stage: Stage) -> nn.Module:
        """What a stage's steps call: its model, or under torchrun DDP around it (made at the stage's
        first step, on every rank at once). A stage that trains part of the network (layer-wise
        pretraining) holds layers its steps leave unused: DDP must look for them."""
        model = self._training_models.get(id(stage.model))
        if model is None:
            model = self.world.wrap(stage.model, self.device, find_unused=stage.model is not self.model)
            self._training_models[id(stage.model)] = model
        return model

    def _load_checkpoint(self, run: Run, stage: Stage, optimizer_state: bool = True) -> None:
        """The run folder's last checkpoint into the network, and into `stage` (the one the checkpoint
        was taken in) its optimizer state (unless the optimizer changed) and scaffold. The learning
        rate, weight decay and momentum are this run's config's: a resume with --lr uses that lr."""
        run.load_weights_into(self.model)
        if optimizer_state:
            try:
                stage.optimizer.load_state_dict(run.optimizer_state())
            except (ValueError, KeyError) as exc:
                raise RunError(f"{run.checkpoint / 'optimizer.pt'}: the optimizer state does not fit this run "
                               f"({exc})") from None
        apply_hyperparameters(stage.optimizer, self.config)
        if stage.scaffold is not None:
            run.load_weights_into(stage.scaffold, "scaffold")

    def _restore_last_checkpoint(self) -> str:
        """After a non-finite loss the weights are poisoned: go back to the last good epoch, if any.
        A stage with no checkpoint of its own yet (the last one is its predecessor's) starts afresh.
        Returns what the failure message should add when that is not possible."""
        stage = self.stages()[self.stage_index]
        stage.optimizer.zero_grad(set_to_none=True)
        if self.run_dir is None or not (self.run_dir / "checkpoints" / "state.json").exists():
            return ""  # nothing checkpointed yet (or, under torchrun, rank 0's folder is not on this machine)
        try:
            run = open_run(self.run_dir)
            if run.state.get("stage_index", 0) == self.stage_index:
                self._load_checkpoint(run, stage)
                return ""
            run.load_weights_into(self.model)
        except RunError as exc:
            return f" (the checkpoint could not be restored: {exc})"
        stage.optimizer.state.clear()
        for module in stage.scaffold.modules() if stage.scaffold is not None else ():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        return ""

    @contextlib.contextmanager
    def _allocating(self, summary: Summary) -> Iterator[None]:
        """Past the memory estimate, torch's allocator or its size checks refuse: one line, not theirs."""
        try:
            yield
        except (RuntimeError, MemoryError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise MemoryShortage(f"the network's {summary['total_params']:,} parameters cannot be allocated on "
                                 f"{device_name(self.device)} ({first[:160]}): make the network smaller") from None

    def _out_of_memory_message(self, what: str) -> str:
        self.optimizer.zero_grad(set_to_none=True)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        smaller = max(1, self.config.batch_size // 2)
        return (f"out of {what} at batch size {self.config.batch_size} (epoch {self.epoch + 1}): "
                f"try batch size {smaller} or smaller, or a smaller network")

    def _failure_message(self, exc: Exception) -> str:
        """What went wrong, and where: the step, the validation or the probe it happened in."""
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if isinstance(exc, MemoryError) or "allocate memory" in text:  # torch's CPU allocator says so
            return self._out_of_memory_message("memory")
        where = {"start": "before the first step",
                 "step": f"at step {self.global_step + 1} (epoch {self.epoch + 1})",
                 "validation": f"while validating epoch {self.epoch + 1}",
                 "compile": f"while compiling the network at step {self.global_step}",
                 "checkpoint": f"while saving the checkpoint of epoch {self.epoch}",
                 "probe": f"while probing the network at step {self.global_step}"}[self._phase]
        if isinstance(exc, OSError) and exc.strerror:  # a full or read-only disk: what, and which file
            return f"training failed {where}: {exc.strerror}" + (f" ({exc.filename})" if exc.filename else "")
        return f"training failed {where}: {type(exc).__name__}: {text[:300]}"


class _Clock:
    """Seconds since the run (re)started, not counting time spent paused."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused_total = 0.0

    def now(self) -> float:
        return time.perf_counter() - self._start - self._paused_total

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self._paused_total += time.perf_counter() - began
