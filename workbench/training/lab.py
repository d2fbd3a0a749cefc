"""The autoencoder lab's experiments, Qt-free: jobs the training process runs (workbench.training.remote).

    process.submit(AnalyseJob(project, "plain"))   # train, then analyse: PCA, compression, denoising
    process.submit(CompareJob(project))            # layer-wise pretraining against training from scratch
    process.submit(AnalyseRunJob("runs/ae"))       # analyse a saved run
    process.submit(SweepJob("masking"))            # the last analysed network against growing noise
    clean, noisy, denoised = process.ask(DenoiseExamples(0, 8, "masking", 0.3))

A job's `events(controls)` yields the engine's events (training inside it), then its result as one
event ("analysis", "comparison" or "sweep"), then a "done" event. The trained network and its data
stay in the training process (the controls' workshop): the window gets numbers and numpy arrays only.
The analyses load scikit-learn: they are imported by the jobs that need them, not with this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Literal, Protocol, TypedDict

from workbench.data import Dataset, load_dataset
from workbench.training.events import LIVE_LOG_INTERVAL_S, ComparisonEvent, DoneEvent, Event

if TYPE_CHECKING:
    import numpy as np
    import torch

    from workbench.training.compression import CodeInfo, CompressionRow
    from workbench.training.denoise_sweep import SweepRow
    from workbench.training.pca_compare import PcaComparison


class Analysis:
    """A trained autoencoder ready to analyse: its project, CPU model in eval mode and dataset."""

    def __init__(self, project: dict, model: torch.nn.Module, data: Dataset, name: str):
        from workbench.training.pca_compare import image_output

        self.project, self.model, self.data, self.name = project, model.cpu().eval(), data, name
        self.output = image_output(project, self.model)  # ValueError when it is not an autoencoder

    def results(self) -> "AnalysisEvent":
        from workbench.training.compression import code_info, compression_table
        from workbench.training.pca_compare import compare

        info = code_info(self.project)
        return {"event": "analysis", "name": self.name, "pca": compare(self.project, self.model, self.data, self.name),
                "info": info, "val_size": len(self.data.val_x),
                "compression": compression_table(self.model, info, self.data.train_x, self.data.val_x,
                                                 output=self.output)}


class AnalysisEvent(TypedDict):
    event: Literal["analysis"]
    name: str
    pca: PcaComparison
    info: CodeInfo
    compression: list[CompressionRow]
    val_size: int  # validation samples: the denoising examples are picked among them


class SweepEvent(TypedDict):
    event: Literal["sweep"]
    rows: list[SweepRow]


LabEvent = Event | ComparisonEvent | AnalysisEvent | SweepEvent


class Controls(Protocol):
    """What a job needs of the training process (remote._Controls)."""

    stopped: bool
    workshop: dict[str, Any]  # kept between jobs: "analysis", the network analysed last

    def attach(self, trainer: Any) -> None: ...


def _finished(message: str) -> DoneEvent:
    return {"event": "done", "status": "finished", "message": message, "run_dir": None}


def _stopped() -> DoneEvent:
    return {"event": "done", "status": "stopped", "message": "stopped", "run_dir": None}


@dataclass
class CompareJob:
    """Layer-wise pretraining, then training from scratch on the same epoch budget
    (layerwise.comparison_events): epoch events carry "schedule"; the result is a "comparison" event."""

    project: dict

    def events(self, controls: Controls) -> Iterator[LabEvent]:
        from workbench.training.layerwise import comparison_events

        stream = comparison_events(self.project, log_interval_s=LIVE_LOG_INTERVAL_S)
        for event in stream:
            if controls.stopped:  # the trainers are made inside: close them at their next event
                stream.close()
                yield _stopped()
                return
            if event["event"] == "done":  # each run's end; the job's own "done" comes last
                if event["status"] != "finished":
                    yield event
                    return
                continue
            yield event
        yield _finished("compared")


@dataclass
class AnalyseJob:
    """Train the project (schedule "plain" or "layerwise"), then analyse it: an "analysis" event."""

    project: dict
    schedule: str

    def events(self, controls: Controls) -> Iterator[LabEvent]:
        from workbench.training.schedules import make_trainer

        data = load_dataset(self.project.get("data", {}), self.project["input"])
        trainer = make_trainer(self.project, self.schedule, dataset=data, log_interval_s=LIVE_LOG_INTERVAL_S)
        controls.attach(trainer)
        for event in trainer.events():
            if event["event"] == "done":
                if event["status"] != "finished":
                    yield {**event, "message": f"training {event['status']}: {event['message']}"}
                    return
                break
            yield event
        yield from _analyse(controls, Analysis(self.project, trainer.model, data, self.project.get("name") or
                                               "autoencoder"))


@dataclass
class AnalyseRunJob:
    """Analyse a saved run folder's network."""

    path: str

    def events(self, controls: Controls) -> Iterator[LabEvent]:
        from workbench.training.run_folder import open_run

        run = open_run(self.path)
        analysis = Analysis(run.project, run.load_model(), run.dataset(), run.project.get("name") or run.path.name)
        yield from _analyse(controls, analysis)


def _analyse(controls: Controls, analysis: Analysis) -> Iterator[LabEvent]:
    results = analysis.results()
    controls.workshop["analysis"] = analysis
    yield results
    yield _finished(f"analysed {analysis.name}")


def _needs_analysis(controls: Controls) -> Analysis:
    analysis: Analysis | None = controls.workshop.get("analysis")
    if analysis is None:
        raise ValueError("train an autoencoder or open a run first")
    return analysis


@dataclass
class SweepJob:
    """The analysed network's error against the noise level, for one kind of noise."""

    kind: str

    def events(self, controls: Controls) -> Iterator[LabEvent]:
        from workbench.training.denoise_sweep import denoise_sweep

        analysis = _needs_analysis(controls)
        rows = denoise_sweep(analysis.model, analysis.data.val_x, self.kind, output=analysis.output)
        yield {"event": "sweep", "rows": rows}
        yield _finished("swept")


@dataclass
class DenoiseExamples:
    """A question, answered at once (not queued behind a job): clean, noisy and denoised validation
    samples [start, start + count) of the analysed network."""

    start: int
    count: int
    kind: str
    level: float

    def answer(self, controls: Controls) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from workbench.training.denoise_sweep import denoise_examples

        analysis = _needs_analysis(controls)
        x = analysis.data.val_x[self.start:self.start + self.count]
        return denoise_examples(analysis.model, x, self.kind, self.level, analysis.output)

