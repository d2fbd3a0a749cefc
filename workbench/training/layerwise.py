"""Greedy layer-wise pretraining, the course's way to train a deep network: train each non-output
layer as an autoencoder, one after another, then fine-tune the whole network on the task.

    trainer = LayerwiseTrainer("stacked-autoencoder", epochs=20)
    for event in trainer.events():          # every event carries "stage": "pretrain-1", ..., "finetune";
        ...                                 # "epoch" counts across stages, "stage_epoch" within one

Stage "pretrain-j" trains block j (its Linear/Conv2d and the layers up to the next one) with a
mirrored decoder built here (Linear n→k gets Linear k→n, Conv2d gets a ConvTranspose2d, pooling an
Upsample, Flatten an Unflatten) to reconstruct what the block receives: the input for block 1, the
frozen earlier blocks' codes after that. Earlier blocks run in eval mode under no_grad, so their
weights (and batch-norm statistics) stay exactly as their own stage left them. Stage "finetune" is
the engine's plain stage: the whole network, the project's task (classify, or the deep
autoencoder's reconstruction). Only `stages()` is overridden; the loop is the engine's. A stage's
decoder is its scaffold: checkpointed with its optimizer, so a run stopped mid-pretraining resumes.

The epoch budget is the project's `epochs`: by default half of it is spent pretraining, shared
equally by the blocks, so a comparison with training from scratch (`comparison_events`) is fair.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Generator, Iterator

import torch
from torch import nn

from workbench.core.graph import INPUT, is_branched
from workbench.core.inference import summarize
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import Summary, output_shapes
from workbench.data import Dataset, load_dataset
from workbench.training.engine import Stage, Trainer, make_optimizer
from workbench.training.events import ComparisonEvent, Curve, Event
from workbench.training.probes import bottleneck
from workbench.training.tasks import Task

WEIGHT_LAYERS = ("Linear", "Conv2d")
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.Sigmoid, nn.Tanh, nn.GELU)


@dataclass(frozen=True)
class Block:
    """Layers [start, end) of the network, pretrained together; `weight` is its Linear/Conv2d."""

    start: int
    end: int
    weight: int


@dataclass(frozen=True)
class Plan:
    blocks: tuple[Block, ...]
    pretrain_epochs: int   # per block
    finetune_epochs: int

    def to_dict(self) -> dict:
        return {"name": "layerwise", "blocks": [[b.start, b.end] for b in self.blocks],
                "pretrain_epochs": self.pretrain_epochs, "finetune_epochs": self.finetune_epochs}


def pretrain_blocks(project: dict, task: str) -> tuple[Block, ...]:
    """The encoder blocks to pretrain: for a classifier every weight layer but the output layer; for an
    autoencoder the weight layers up to its code (the bottleneck), the last block ending at the code."""
    summary = summarize(project)
    if summary["first_error"] is not None:
        raise ValueError("layer-wise pretraining: the network has an error (see `workbench summary`)")
    if is_branched(project["layers"]):
        merge = next((r for r in summary["layers"] if len(r["inputs"]) > 1), None)
        where = (f" (layer {merge['index']}, {merge['type']}, merges "
                 f"{' and '.join('the input' if s == INPUT else '#' + str(_index(summary, s)) for s in merge['inputs'])})"
                 if merge else "")
        raise ValueError(f"layer-wise pretraining trains a chain of layers one after another, each mirrored by its "
                         f"own decoder; this network has branches{where}, so no layer alone feeds the next: "
                         f"train it end to end (schedule plain)")
    types = [layer["type"] for layer in project["layers"]]
    weights = [i for i, kind in enumerate(types) if kind in WEIGHT_LAYERS]
    if task == "classify":
        encoder, last_end = weights[:-1], weights[-1] if weights else 0
    else:
        code = bottleneck([math.prod(shape) for shape in output_shapes(summary)])
        encoder, last_end = [w for w in weights if code is not None and w <= code], (code or 0) + 1
    if not encoder:
        what = "before the output layer" if task == "classify" else "up to the code (the narrowest layer)"
        raise ValueError(f"layer-wise pretraining needs a Linear or Conv2d layer {what}: this network has none")
    ends = encoder[1:] + [last_end]
    starts = [0] + ends[:-1]
    return tuple(Block(s, e, w) for s, e, w in zip(starts, ends, encoder))


def _index(summary: Summary, layer_id: str) -> int:
    return next(r["index"] for r in summary["layers"] if r["id"] == layer_id)


def plan_schedule(project: dict, task: str, epochs: int, pretrain_epochs: int | None = None) -> Plan:
    blocks = pretrain_blocks(project, task)
    per_block = pretrain_epochs if pretrain_epochs is not None else max(1, epochs // (2 * len(blocks)))
    if per_block < 1:
        raise ValueError(f"pretrain_epochs must be at least 1, got {per_block}")
    return Plan(blocks, per_block, max(1, epochs - per_block * len(blocks)))


def _transpose(conv: nn.Conv2d, size_in: list[int]) -> list[nn.Module]:
    """The ConvTranspose2d that maps conv's output back to its input's height and width."""
    out_h, out_w = (
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(size_in, conv.padding, conv.dilation, conv.kernel_size, conv.stride))
    extra = [n - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
             for n, o, p, d, k, s in zip(size_in, (out_h, out_w), conv.padding, conv.dilation, conv.kernel_size,
                                         conv.stride)]
    fits = all(0 <= e < max(s, d) for e, s, d in zip(extra, conv.stride, conv.dilation))
    layer = nn.ConvTranspose2d(conv.out_channels, conv.in_channels, conv.kernel_size, conv.stride, conv.padding,
                               output_padding=tuple(extra) if fits else 0, groups=conv.groups,
                               dilation=conv.dilation)
    return [layer] if fits else [layer, nn.Upsample(size=tuple(size_in))]


def mirror(network: nn.Sequential, block: Block, shapes: list[list[int]], activation: nn.Module | None) -> nn.Sequential:
    """The decoder of one block: its layers undone in reverse order, ending in `activation` (that of
    what it reconstructs). shapes[i] is the input shape of layer i."""
    parts: list[nn.Module] = []
    for i in reversed(range(block.start, block.end)):
        layer, shape_in, shape_out = network[i], shapes[i], shapes[i + 1]
        if isinstance(layer, nn.Linear):
            parts.append(nn.Linear(layer.out_features, layer.in_features))
        elif isinstance(layer, nn.Conv2d):
            parts += _transpose(layer, shape_in[1:])
        elif shape_in == shape_out:
            continue  # activations, dropout, normalization, corruption: nothing to undo
        elif len(shape_in) == 3 and len(shape_out) == 1:
            parts.append(nn.Unflatten(1, tuple(shape_in)))
        elif len(shape_in) == 1 and len(shape_out) == 3:
            parts.append(nn.Flatten())
        elif len(shape_in) == 3 and len(shape_out) == 3 and shape_in[0] == shape_out[0]:
            parts.append(nn.Upsample(size=tuple(shape_in[1:])))  # pooling: back to the size before it
        else:
            raise ValueError(f"layer-wise pretraining: layer {i} ({type(layer).__name__}) cannot be mirrored "
                             f"in a decoder")
    if activation is not None:
        parts.append(activation)
    return nn.Sequential(*parts)


def _output_activation(network: nn.Sequential, block: Block) -> nn.Module | None:
    """What the decoder of `block` ends with: Sigmoid for block 1 (pixels in [0, 1]), else the last
    activation of the block before (ReLU codes are reconstructed through a ReLU), or none."""
    if block.start == 0:
        return nn.Sigmoid()
    for layer in reversed(list(network[:block.start])):
        if isinstance(layer, ACTIVATIONS):
            return copy.deepcopy(layer)
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            return None
    return None


class LayerAutoencoder(nn.Module):
    """The model of stage pretrain-j: the frozen blocks before block j, block j, its decoder.
    It learns to reconstruct what block j receives (`received`)."""

    def __init__(self, network: nn.Sequential, block: Block, decoder: nn.Sequential):
        super().__init__()
        self.network, self.decoder = network, decoder
        self.start, self.end = block.start, block.end

    def received(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.network[:self.start](x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.network[self.start:self.end](self.received(x)))

    def train(self, mode: bool = True) -> "LayerAutoencoder":
        super().train(mode)
        self.network[:self.start].eval()  # frozen: no dropout, no batch-statistics updates
        return self

    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        # Checkpoints taken while pretraining hold the network being built (what a run folder's
        # load_model() reads); the decoder is scaffolding, dropped after its stage.
        return self.network.state_dict(*args, **kwargs)


@dataclass
class CodeTask(Task):
    """Reconstruct the codes the frozen blocks give (the clean input's, under denoising)."""

    source: LayerAutoencoder | None = field(default=None, repr=False)

    def targets(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        assert self.source is not None
        return self.source.received(x)


class LayerwiseTrainer(Trainer):
    """The engine with a staged schedule: pretrain-1 … pretrain-n, then finetune."""

    def __init__(self, project: ProjectSpec, *, pretrain_epochs: int | None = None, **kwargs: Any):
        self._pretrain_epochs = pretrain_epochs  # read by _config_record while the engine sets up
        super().__init__(project, **kwargs)
        self.plan = self._plan()
        self._stages = self._build_stages()

    def _plan(self) -> Plan:
        return plan_schedule(self.project, self.config.task, self.config.epochs, self._pretrain_epochs)

    def _config_record(self) -> dict:
        # Runs inside Trainer.__init__ before the run folder is written: a network that cannot be
        # pretrained raises here and leaves no folder behind.
        return {**super()._config_record(), "schedule": self._plan().to_dict()}

    def _build_stages(self) -> list[Stage]:
        shapes = [list(self.project["input"]), *output_shapes(summarize(self.project))]
        stages = []
        for j, block in enumerate(self.plan.blocks, 1):
            decoder = mirror(self.model, block, shapes, _output_activation(self.model, block)).to(self.device)
            model = LayerAutoencoder(self.model, block, decoder)
            task = CodeTask("autoencoder", "mse", self.task.corruption, source=model)
            trained = [*self.model[block.start:block.end].parameters(), *decoder.parameters()]
            stages.append(Stage(f"pretrain-{j}", self.plan.pretrain_epochs, model, task,
                                make_optimizer(self.config, trained, self.acceleration.fused_optimizer),
                                scaffold=decoder))
        stages.append(Stage("finetune", self.plan.finetune_epochs, self.model, self.task, self.optimizer))
        return stages

    def stages(self) -> list[Stage]:
        return self._stages

    def _emit(self, event: Event, stage: Stage | None = None) -> Event:
        # start and done come without a stage from the engine: they belong to the one the run is at
        if stage is None:
            stage = self._stages[min(self.stage_index, len(self._stages) - 1)]
        return super()._emit(event, stage)

    def _run_stage(self, stage: Stage) -> Iterator[Event]:
        if self.stage_epoch == 0:
            self.best_val = math.inf  # losses of different stages do not compare: best is per stage
        yield from super()._run_stage(stage)


# comparison with training from scratch -----------------------------------------------------------------

def _curve(events: list[Event]) -> Curve:
    """Epoch events as curves over the budget (the events' epoch numbers run on across stages)."""
    epochs = [e for e in events if e["event"] == "epoch"]
    curve: Curve = {"epoch": [e["epoch"] for e in epochs],
                    "stage": [e.get("stage", "") for e in epochs],
                    "val_loss": [e["val_loss"] for e in epochs],
                    "train_loss": [e["train_loss"] for e in epochs],
                    "time_s": max((e["time_s"] for e in epochs), default=0.0)}
    if epochs and "val_accuracy" in epochs[-1]:
        curve["val_accuracy"] = [e.get("val_accuracy") for e in epochs]
    return curve


def comparison_events(project: ProjectSpec, *, dataset: Dataset | None = None,
                      pretrain_epochs: int | None = None, **overrides: Any
                      ) -> Generator[Event | ComparisonEvent, None, None]:
    """Train the project layer-wise, then from scratch, with the same data, seed (so the same initial
    weights) and epoch budget. Yields the engine's events with "schedule": "layerwise" | "scratch",
    then {"event": "comparison", "budget", "pretrain_epochs" (total), "layerwise": curve,
    "scratch": curve} (curves: see `_curve`; the task's loss is comparable on the finetune epochs)."""
    doc = load_spec(project)
    if dataset is None:
        dataset = load_dataset(doc.get("data", {}), doc["input"])
    layerwise = LayerwiseTrainer(doc, dataset=dataset, pretrain_epochs=pretrain_epochs, **overrides)
    budget = layerwise.plan.pretrain_epochs * len(layerwise.plan.blocks) + layerwise.plan.finetune_epochs
    runs = {"layerwise": layerwise}
    logs: dict[str, list[Event]] = {}
    for name in ("layerwise", "scratch"):
        trainer = runs.get(name) or Trainer(doc, dataset=dataset, **{**overrides, "epochs": budget})
        logs[name] = []
        for event in trainer.events():
            event["schedule"] = name
            logs[name].append(event)
            yield event
            if event["event"] == "done" and event["status"] != "finished":
                return
    yield {"event": "comparison", "budget": budget,
           "pretrain_epochs": layerwise.plan.pretrain_epochs * len(layerwise.plan.blocks),
           "task": layerwise.config.task, "layerwise": _curve(logs["layerwise"]), "scratch": _curve(logs["scratch"])}


def compare_with_scratch(project: ProjectSpec, **kwargs: Any) -> ComparisonEvent:
    """The comparison as one dict (see `comparison_events`)."""
    for event in comparison_events(project, **kwargs):
        if event["event"] == "comparison":
            return event
        if event["event"] == "done" and event["status"] != "finished":
            raise ValueError(f"{event.get('schedule')} training {event['status']}: {event['message']}")
    raise ValueError("the comparison ended without a result")
