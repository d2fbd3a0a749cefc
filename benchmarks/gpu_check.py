"""The GPU check (issue 14), side by side in one process, in under 3 minutes on one GPU.

For cifar10-cnn (batch 256) and a compute-bound VGG-style CNN (batch 512), both on the same generated
`shapes` (40,960 training images, on the GPU): samples/s of a plain PyTorch loop, the same loop in
channels_last, in channels_last and compiled, and of the engine with the device's defaults, compiled,
compiled with CUDA graphs, with every insight panel's probe live, and in the training process the
window uses. Every rate is the steady state (a first epoch warms up: cuDNN's autotuning, compiling)
with a validation pass per epoch; mixed precision is bf16 where the GPU has it. Prints the ratios
the issue's goals are about: the engine >= 0.9x the fastest loop, live probes cost <= 5 %.

    python benchmarks/gpu_check.py                 # on the GPU ("auto")
    python benchmarks/gpu_check.py --smoke         # tiny sizes, anywhere (a test runs this on the CPU)

Needs only the Qt-free part of workbench (core, data, training) and psygnal (README: carrying a wheel).
"""
from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass, replace
from typing import Callable

import torch
import torch.nn.functional as F

from workbench.core.build import build_model
from workbench.core.templates import template
from workbench.data import Dataset, load_dataset
from workbench.training.acceleration import COMPILE_MODE, Acceleration, default_acceleration
from workbench.training.devices import device_name, resolve_device
from workbench.training.engine import EVAL_BATCH, Trainer
from workbench.training.probes import PANEL_KINDS, ProbeRequest
from workbench.training.remote import PROBE_INTERVAL_S, TrainingProcess

EVERY_PANEL = ProbeRequest.for_panels(PANEL_KINDS)


def conv_bn(channels: int) -> list[dict]:
    return [{"type": "Conv2d", "out_channels": channels, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm2d"}, {"type": "ReLU"}]


def vgg(width: int = 128) -> dict:
    """conv 128-128, pool, 256-256, pool, 512, pool, BatchNorm after each conv, global average pool, FC 10."""
    pool = {"type": "MaxPool2d", "kernel_size": 2}
    layers = [*conv_bn(width), *conv_bn(width), pool, *conv_bn(2 * width), *conv_bn(2 * width), pool,
              *conv_bn(4 * width), pool, {"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
              {"type": "Linear", "out_features": 10}]
    return {"input": [3, 32, 32], "layers": layers,
            "training": {"task": "classify", "optimizer": "adam", "lr": 1e-3}}


@dataclass
class Workload:
    name: str
    doc: dict
    batch_size: int


@dataclass
class Settings:
    device: torch.device
    epochs: int
    compile_backend: str  # "inductor" on a GPU; "eager" for --smoke (dynamo alone, no code generation)
    modes: list[str]
    process: bool


def project(workload: Workload, settings: Settings, count: int) -> dict:
    doc = copy.deepcopy(workload.doc)
    doc["data"] = {"dataset": "shapes", "count": count}
    doc["training"] = {**doc.get("training", {}), "device": str(settings.device), "batch_size": workload.batch_size,
                       "epochs": settings.epochs + 1, "optimizer": "adam", "amp": True}
    return doc


# the loops ------------------------------------------------------------------------------------------
def loop_rate(doc: dict, data: Dataset, settings: Settings, channels_last: bool, compiled: bool) -> tuple[float, float]:
    """(samples/s of the timed epochs, seconds of the first, warm-up epoch) of the loop anyone would
    write: Adam, autocast, the loss in float32, a validation pass per epoch; optionally channels_last
    (model and data) and torch.compile."""
    device, batch = settings.device, doc["training"]["batch_size"]
    torch.backends.cudnn.benchmark = False  # cuDNN's default, whatever an engine run before set
    torch.manual_seed(0)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = build_model(doc).to(device, memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=doc["training"]["lr"])
    net: Callable = torch.compile(model, backend=settings.compile_backend) if compiled else model
    x, y = data.train_x.to(device).contiguous(memory_format=layout), data.train_y.to(device)
    vx, vy = data.val_x.to(device).contiguous(memory_format=layout), data.val_y.to(device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    def epoch() -> None:
        model.train()
        order = torch.randperm(len(x), device=device)
        for i in range(0, len(x) - 1, batch):  # as the engine: no last batch of a single sample
            index = order[i:i + batch]
            with autocast:
                out = net(x[index])
            loss = F.cross_entropy(out.float(), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = torch.zeros((), device=device, dtype=torch.long)
        with torch.no_grad(), autocast:
            for i in range(0, len(vx), EVAL_BATCH):
                correct += (net(vx[i:i + EVAL_BATCH]).argmax(1) == vy[i:i + EVAL_BATCH]).sum()
        correct.item()  # the sync the engine makes for its epoch record

    began = time.perf_counter()
    epoch()
    warm_up = time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(settings.epochs):
        epoch()
    return len(x) * settings.epochs / (time.perf_counter() - began), warm_up


# the engine -----------------------------------------------------------------------------------------
def steady_rate(events: list[dict], samples: int) -> float:
    """Samples/s over the epochs after the first, on the run's own clock (compiling is not on it)."""
    ends = [e["time_s"] for e in events if e["event"] == "epoch"]
    return samples * (len(ends) - 1) / (ends[-1] - ends[0])


def engine_rate(doc: dict, data: Dataset, acceleration: Acceleration | None,
                probes: ProbeRequest | None = None) -> tuple[float, str]:
    """(steady samples/s, what compiling said or "") of the engine in this process."""
    trainer = Trainer(doc, dataset=data, acceleration=acceleration, probe_interval_s=PROBE_INTERVAL_S)
    trainer.set_probe_request(probes)
    events = list(trainer.events())
    if events[-1]["status"] != "finished":
        raise SystemExit(f"the engine's run failed: {events[-1]['message']}")
    compiled = next((e["message"] for e in events if e["event"] == "compiled"), "")
    return steady_rate(events, len(trainer.data.train_x)), compiled


def process_rate(doc: dict, process: TrainingProcess) -> tuple[float, int]:
    """(steady samples/s, probes drawn) of a run in the training process the window uses, every panel
    probed and each probe granted at once (a window that draws instantly)."""
    process.set_probe_request(EVERY_PANEL)
    process.run(doc)
    events, probes = [], 0
    while not events or events[-1]["event"] != "done":
        arrived = process.events(timeout=0.05)
        drawn = sum(e["event"] == "probe" for e in arrived)
        if drawn:
            process.grant_probe(drawn)
        probes += drawn
        events += arrived
    if events[-1]["status"] != "finished":
        raise SystemExit(f"the training process's run failed: {events[-1]['message']}")
    start = events[0]
    return steady_rate(events, start["train_size"]), probes


# the report -----------------------------------------------------------------------------------------
def check(workload: Workload, data: Dataset, settings: Settings, process: TrainingProcess | None) -> dict[str, float]:
    doc = project(workload, settings, len(data.train_x) + len(data.val_x))
    rates: dict[str, float] = {}

    def row(name: str, rate: float, note: str = "") -> None:
        rates[name] = rate
        print(f"  {name:36s} {rate:>10,.0f}  {note}", flush=True)

    print(f"{workload.name}, batch {workload.batch_size}, {len(data.train_x):,} training samples "
          f"(samples/s, steady state, a validation pass per epoch)", flush=True)
    rate, _ = loop_rate(doc, data, settings, channels_last=False, compiled=False)
    row("plain loop", rate)
    rate, _ = loop_rate(doc, data, settings, channels_last=True, compiled=False)
    row("channels_last loop", rate)
    rate, warm_up = loop_rate(doc, data, settings, channels_last=True, compiled=True)
    row("channels_last + compile loop", rate, f"(first epoch, compiling: {warm_up:.1f} s)")
    fastest = max(rates.values())
    defaults = default_acceleration(settings.device, build_model(doc))
    rate, _ = engine_rate(doc, data, None)
    row("engine, the device's defaults", rate, f"{rate / fastest:.2f}x the fastest loop ({describe(defaults)})")
    for mode in settings.modes:
        accel = replace(defaults, compile="on", compile_mode=mode, compile_backend=settings.compile_backend)
        rate, said = engine_rate(doc, data, accel)
        row(f"engine, compiled ({mode})", rate, f"{rate / fastest:.2f}x the fastest loop; {said}")
    rate, _ = engine_rate(doc, data, None, EVERY_PANEL)
    row("engine, every panel probed", rate,
        f"{rate / rates['engine, the device' + chr(39) + 's defaults']:.2f}x the engine unprobed (goal >= 0.95)")
    if process is not None:
        rate, drawn = process_rate(doc, process)
        row("training process, every panel probed", rate,
            f"{rate / rates['engine, the device' + chr(39) + 's defaults']:.2f}x the engine unprobed in this "
            f"process ({drawn} probes drawn)")
    best = max(v for k, v in rates.items() if k.startswith("engine, compiled") or k.startswith("engine, the"))
    print(f"  best engine / fastest loop: {best / fastest:.2f} (goal >= 0.9)", flush=True)
    return rates


def describe(acceleration: Acceleration) -> str:
    on = [name for name, value in (("channels_last", acceleration.channels_last),
                                   ("fused optimizer", acceleration.fused_optimizer)) if value]
    on += ["cuDNN benchmark"] if acceleration.cudnn_benchmark else []
    return ", ".join(on + [f"compile {acceleration.compile}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs, after one that warms up")
    # 51,200: 40,960 train (160 batches of 256, 80 of 512) and 10,240 validate (10 chunks of 1,024), so no
    # smaller last batch makes a compiled loop compile again (the timings would not include it, the
    # check's 3 minutes would)
    parser.add_argument("--count", type=int, default=51_200, help="shapes images (a fifth validate)")
    parser.add_argument("--modes", default=f"{COMPILE_MODE},reduce-overhead",
                        help="torch.compile modes to run the engine with, comma-separated ('' for none)")
    parser.add_argument("--no-process", action="store_true", help="skip the run in the training process")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and traced (not generated) compiles: checks the script runs, measures nothing")
    args = parser.parse_args()
    device = resolve_device(args.device)
    began = time.perf_counter()
    modes = list(dict.fromkeys(m for m in args.modes.split(",") if m))
    settings = Settings(device, args.epochs, "inductor", modes, not args.no_process)
    count, width = args.count, 128
    if args.smoke:
        settings = Settings(device, 1, "eager", modes[:1], not args.no_process)
        count, width = 200, 4
    print(f"device: {device_name(device)}; torch {torch.__version__}; "
          f"{'bf16 autocast' if device.type == 'cuda' else 'float32'}; data on the device", flush=True)
    data = load_dataset({"dataset": "shapes", "count": count}, [3, 32, 32])
    workloads = [Workload("cifar10-cnn", template("cifar10-cnn"), 256), Workload("VGG-style CNN", vgg(width), 512)]
    process = TrainingProcess() if settings.process else None
    try:
        for workload in workloads:
            check(workload, data, settings, process)
    finally:
        if process is not None:
            process.shutdown()
    doc = template("digits-cnn")
    doc["training"] = {**doc["training"], "device": str(device), "epochs": 2 if args.smoke else 30}
    start = time.perf_counter()
    for event in Trainer(doc).events():
        if event["event"] == "epoch" and (event["val_accuracy"] >= 0.97 or args.smoke):
            print(f"digits-cnn reached {event['val_accuracy']:.1%} at epoch {event['epoch']} after "
                  f"{time.perf_counter() - start:.1f} s (goal: 97 %)")
            break
    print(f"gpu_check took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
