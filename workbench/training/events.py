"""What training says, as types: the engine's events and the probes they carry.

    for event in trainer.events():
        if event["event"] == "epoch":     # narrows to EpochEvent: event["val_loss"] is a float
            ...

At run time every event is a plain dict (written as is to metrics.jsonl, sent as is to the window
and printed by `workbench train`); these TypedDicts let mypy (tests/test_types.py) catch a misspelt
key or a read of a key an event does not have.
"""
from __future__ import annotations

from typing import Any, Literal, NotRequired, Required, TypedDict, Union

Status = Literal["finished", "stopped", "failed"]

# How often a run watched by the window logs a batch event: twice per poll of the window's runner
# (10 a second, workbench.ui.training.runner), so each poll finds a fresh loss.
LIVE_LOG_INTERVAL_S = 0.05


class _Staged(TypedDict, total=False):
    """Keys any event may carry: the stage of a staged schedule (layer-wise pretraining) and, in a
    comparison of schedules (layerwise.comparison_events), which run it belongs to."""

    stage: str
    stage_index: int
    stage_epoch: int  # the stage's own epoch count ("epoch" counts across stages)
    schedule: str     # "layerwise" | "scratch"


class StartEvent(_Staged):
    event: Literal["start"]
    device: str
    device_name: str
    epochs: int
    steps_per_epoch: int
    train_size: int
    val_size: int
    classes: list[str]
    epoch: int          # epochs already done (a resumed run)
    global_step: int
    weight_notes: list[str]  # layers of an imported network that start from fresh weights, and why
    processes: int      # how many processes train the run (several under torchrun)
    note: NotRequired[str]  # a resume that had to start over says so


class BatchEvent(_Staged):
    event: Literal["batch"]
    epoch: int          # 1-based: the epoch in progress
    step: int           # steps done in this epoch
    global_step: int
    train_loss: float   # mean over the steps since the last batch event
    samples_per_s: float
    eta_s: float


class EpochEvent(_Staged):
    event: Literal["epoch"]
    epoch: int
    global_step: int
    train_loss: float
    train_accuracy: NotRequired[float]   # classification only
    val_loss: float
    val_accuracy: NotRequired[float]
    val_confusion: NotRequired[list[list[int]]]  # [true class][predicted class]
    samples_per_s: float
    eta_s: float
    time_s: float       # seconds of training so far, pauses not counted


class PausedEvent(_Staged):
    event: Literal["paused"]
    epoch: int
    global_step: int


class ResumedEvent(_Staged):
    event: Literal["resumed"]
    epoch: int
    global_step: int


class CompilingEvent(_Staged):
    """torch.compile starts (training.acceleration): no steps for a while."""

    event: Literal["compiling"]
    epoch: int
    global_step: int


class CompiledEvent(_Staged):
    """How compiling went: seconds it took (not counted as training), or why the run goes on uncompiled."""

    event: Literal["compiled"]
    epoch: int
    global_step: int
    ok: bool
    seconds: float
    message: str      # "compiled in 21.5 s (default)" or "compiling failed (…): training uncompiled"


class Probe(TypedDict, total=False):
    """Numpy arrays of the network's insides (workbench.training.probes.capture); keys a request
    did not ask for, or the network cannot give, are absent."""

    filters: dict[int, Any]       # layer -> (K, C, F, F)
    activations: dict[int, Any]   # layer -> (C, H, W) or (N,), of the chosen sample
    input: Any                    # the chosen sample (C, H, W)
    inputs: Any                   # the probe batch (n, C, H, W)
    inputs_2d: Any                # the batch as (n, 2) points, how and in short (core.projection.project_inputs)
    labels: Any                   # (n,) int64
    latent: Any                   # (n, d) codes
    latent_layer: int | None
    corrupted: Any                # what a denoising network is given
    reconstructions: Any
    predicted: Any                # (n,)
    confidence: Any               # (n,)
    confusion: Any                # (K, K) counts, rows: true class
    explanation: Any              # where the network looks: a workbench.training.attribution.Explanation
    explanation_error: str        # why it cannot say (not a classifier; a Grad-CAM layer without a volume)


class ProbeEvent(Probe, _Staged):
    event: Required[Literal["probe"]]
    global_step: Required[int]


Level = Literal["amber", "red"]


class LayerHealth(TypedDict):
    """One layer's health at a collected step (workbench.training.health); None where it does not
    apply (no weights, not a ReLU, no gradient reaches it) or was not measured."""

    layer: int
    act_mean: float | None      # the layer's output over the batch
    act_std: float | None
    dead: float | None          # ReLU: share of units that never activated in the last few collected batches
    saturated: float | None     # Sigmoid / Tanh: share of outputs in the flat ends (gradient < 4 % of the peak)
    grad_ratio: float | None    # gradient norm at the layer's output / the output layer's
    weight_grad: float | None   # norm of the gradient of the layer's weights
    update_ratio: float | None  # how much the step changed the weights: ||Δw|| / ||w||


class Finding(TypedDict):
    """Something wrong, in words (workbench.training.findings). layer None: the network as a whole."""

    layer: int | None
    finding: str                # a short name: "vanishing-gradient", "dead-units", "flat-loss", ...
    level: Level
    message: str                # the sentence shown on the card, with a suggestion


class HealthEvent(_Staged):
    """One collected step's statistics and the findings of the last few (written to health.jsonl)."""

    event: Literal["health"]
    epoch: int                  # 1-based: the epoch in progress
    global_step: int            # the step the statistics were collected on
    layers: list[LayerHealth]
    findings: list[Finding]


class LayerTiming(TypedDict):
    """One layer's measured time per training batch (workbench.training.timing)."""

    layer: int
    forward_s: float
    backward_s: float
    time_share: float           # of the whole network's forward + backward time
    macs_share: float | None    # of the network's MACs (None when the summary has none)
    slow: bool                  # far more time than its share of MACs


class TimingEvent(_Staged):
    """Time per layer, measured once after the first epoch (written to health.jsonl)."""

    event: Literal["timing"]
    epoch: int
    global_step: int
    device: str
    batch_size: int
    layers: list[LayerTiming]


class DoneEvent(_Staged):
    """The last event of every run, whatever happened. A run that could not start (or whose process
    died) says only status, message and run_dir."""

    event: Literal["done"]
    status: Status
    message: str
    run_dir: str | None
    epoch: NotRequired[int]
    global_step: NotRequired[int]
    best_val_loss: NotRequired[float | None]
    suggested_input: NotRequired[list[int]]  # a dataset that fits another input: the input that fits
    suggested_resize: NotRequired[int | list[int]]  # ... or the data.resize that fits it to the input
    failed_process: NotRequired[int]  # under torchrun: which process (1-based) failed first


class Curve(TypedDict):
    """A run's epoch events as curves over the epoch budget (layerwise.comparison_events)."""

    epoch: list[int]
    stage: list[str]
    val_loss: list[float]
    train_loss: list[float]
    time_s: float
    val_accuracy: NotRequired[list[float | None]]


class ComparisonEvent(TypedDict):
    """Layer-wise pretraining against training from scratch, on the same epoch budget."""

    event: Literal["comparison"]
    budget: int
    pretrain_epochs: int  # all blocks together
    task: str
    layerwise: Curve
    scratch: Curve


Event = Union[StartEvent, BatchEvent, EpochEvent, PausedEvent, ResumedEvent, CompilingEvent, CompiledEvent, ProbeEvent,
              HealthEvent, TimingEvent, DoneEvent]
RecordedEvent = Union[StartEvent, BatchEvent, EpochEvent, CompilingEvent, CompiledEvent, DoneEvent]  # metrics.jsonl
HealthRecord = Union[HealthEvent, TimingEvent]  # what health.jsonl holds


def failure(message: str, run_dir: str | None) -> DoneEvent:
    """The "done" event of a run that could not start, or whose process died."""
    return {"event": "done", "status": "failed", "message": message, "run_dir": run_dir}
