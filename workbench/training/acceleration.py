"""How a run uses its device: channels_last for conv networks, fused optimizers, torch.compile.

    acceleration = default_acceleration(device, model)    # what pays on this device (see below)
    model = model.to(memory_format=acceleration.memory_format)
    compiler = Compiler(acceleration)
    if compiler.due(model, steps_done, seconds_left):     # "on": at once; "auto": when it pays
        result = compiler.compile(model, warm_up)         # warm_up(compiled) runs the shapes to compile
    compiler.model_for(model, x)                          # the compiled network for those shapes, else model

The switches and the compile mode live here and only here; benchmarks/gpu_check.py measures them
side by side on a GPU (the numbers it printed are in the README's Performance section).

Compiling runs the network's forward and backward on the shapes training uses (a full training
batch, a validation chunk), which is why the engine does it between steps, shows "compiling…",
and keeps that time out of the run's speed. Any other shape (the last, smaller batch of an
epoch) runs the network as it is: it shares the compiled one's weights. If compiling fails (no
C++ compiler or Triton, an operation torch.compile cannot handle), the run goes on uncompiled and
says why in one line.
"""
from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

# torch.compile's mode for every compiled run: "default", "reduce-overhead" (adds CUDA graphs: fewer
# launches for small, launch-bound networks), "max-autotune-no-cudagraphs" or "max-autotune" (both
# search kernels: longer compiles). Chosen by measurement on a GPU: see benchmarks/gpu_check.py.
COMPILE_MODE = "default"
# compile="auto" compiles once the first steps show the rest of the stage would take longer than this
# uncompiled: a compile takes tens of seconds and gains at most a few times the step time.
COMPILE_PAYS_AFTER_S = 90.0
COMPILE_AFTER_STEPS = 20  # steps timed before "auto" decides (the first ones include cuDNN's autotuning)
COMPILE_CHOICES = ("off", "auto", "on")
CUDA_GRAPH_MODES = ("reduce-overhead", "max-autotune")


@dataclass(frozen=True)
class Acceleration:
    """channels_last: conv weights and image batches in NHWC (tensor cores read it without transposes).
    cudnn_benchmark: cuDNN times its convolution algorithms on the first batch of each shape and keeps
    the fastest (torch.backends.cudnn.benchmark, set for the process while the run trains).
    fused_optimizer: the optimizer's update in one kernel (torch's fused Adam/AdamW/SGD).
    compile: "off", "auto" (when the run is long enough to pay for it) or "on"."""

    channels_last: bool = False
    cudnn_benchmark: bool = False
    fused_optimizer: bool = False
    compile: str = "off"
    compile_mode: str = COMPILE_MODE
    compile_backend: str = "inductor"  # "aot_eager" traces without generating code (tests, debugging)

    def __post_init__(self) -> None:
        if self.compile not in COMPILE_CHOICES:
            raise ValueError(f"compile must be one of {', '.join(COMPILE_CHOICES)}, got {self.compile!r}")

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format


def has_conv(model: nn.Module) -> bool:
    return any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in model.modules())


def default_acceleration(device: torch.device, model: nn.Module) -> Acceleration:
    """What pays on `device`. On a CUDA GPU: channels_last and cuDNN's autotuning for conv networks, a
    fused optimizer, and compiling runs long enough. On the CPU: channels_last for conv networks and a
    fused optimizer, measured to pay there (benchmarks/README.md: digits-cnn 1.08x and 1.05x,
    cifar10-cnn 1.21x and 1.00x); compiling is not switched on there (a digits-cnn compile took 36 s
    on 2 cores). Elsewhere (Apple's MPS) nothing: not measured."""
    conv = has_conv(model)
    if device.type == "cuda":
        return Acceleration(channels_last=conv, cudnn_benchmark=conv, fused_optimizer=True, compile="auto")
    if device.type == "cpu":
        return Acceleration(channels_last=conv, fused_optimizer=True)
    return Acceleration()


def apply_to_process(acceleration: Acceleration) -> None:
    """The settings torch keeps per process, for the run about to train (one at a time per process)."""
    torch.backends.cudnn.benchmark = acceleration.cudnn_benchmark


def make_fused(cls: type[torch.optim.Optimizer], params: Any, fused: bool, **options: Any) -> torch.optim.Optimizer:
    """cls(params, **options), fused where asked for and this torch can (older ones fuse on CUDA only)."""
    params = list(params)
    if fused and "fused" in inspect.signature(cls).parameters:
        try:
            return cls(params, fused=True, **options)
        except (RuntimeError, ValueError):  # e.g. torch < 2.4: "fused=True requires all the params to be CUDA"
            pass
    return cls(params, **options)


@dataclass
class CompileResult:
    ok: bool
    seconds: float
    message: str


@dataclass
class Compiler:
    """torch.compile for one run's networks (one per stage), with an uncompiled fallback."""

    acceleration: Acceleration
    _compiled: dict[nn.Module, nn.Module] = field(default_factory=dict)
    _shapes: dict[nn.Module, set[tuple]] = field(default_factory=dict)
    _tried: set[nn.Module] = field(default_factory=set)

    def due(self, model: nn.Module, steps_done: int, seconds_left: Callable[[], float]) -> bool:
        """Whether to compile `model` now: "on" at once, "auto" when COMPILE_AFTER_STEPS steps say the rest
        would take longer than COMPILE_PAYS_AFTER_S uncompiled; never twice for one network. Asked before
        every step: seconds_left is called only when it matters."""
        mode = self.acceleration.compile
        if mode == "off" or model in self._tried:
            return False
        return mode == "on" or (steps_done >= COMPILE_AFTER_STEPS and seconds_left() > COMPILE_PAYS_AFTER_S)

    def compile(self, model: nn.Module, warm_up: Callable[[Callable[..., torch.Tensor]], None]) -> CompileResult:
        """Compile `model` for the shapes `warm_up(forward)` runs it on. warm_up must leave the weights as
        they were (the engine's restores them). On failure the network stays uncompiled."""
        import torch._dynamo

        self._tried.add(model)
        # One run at a time is compiled per process: earlier runs' networks would fill dynamo's cache
        # (8 networks per code object) and later ones would silently run uncompiled.
        torch._dynamo.reset()
        accel = self.acceleration
        mode = accel.compile_mode if accel.compile_backend == "inductor" else None  # modes are inductor's
        compiled = torch.compile(model, backend=accel.compile_backend, mode=mode, dynamic=False)
        shapes: set[tuple] = set()

        def forward(x: torch.Tensor) -> torch.Tensor:
            shapes.add(_shape_key(model, x))
            return self._call(compiled, x)

        began = time.perf_counter()
        try:
            warm_up(forward)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
        except Exception as exc:  # noqa: BLE001 - any failure to compile leaves an uncompiled run
            torch._dynamo.reset()
            text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            return CompileResult(False, time.perf_counter() - began,
                                 f"compiling failed ({type(exc).__name__}: {text}): training uncompiled")
        seconds = time.perf_counter() - began
        self._compiled[model], self._shapes[model] = compiled, shapes
        return CompileResult(True, seconds, f"compiled in {seconds:.1f} s ({self.acceleration.compile_mode})")

    def model_for(self, model: nn.Module, x: torch.Tensor,
                  uncompiled: nn.Module | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
        """The compiled network if `x`'s shape (in the network's mode) was compiled, else `uncompiled`
        (what the step calls otherwise: the network, or DDP around it), by default the network."""
        compiled = self._compiled.get(model)
        if compiled is None or _shape_key(model, x) not in self._shapes[model]:
            return uncompiled if uncompiled is not None else model
        return lambda batch: self._call(compiled, batch)

    def _call(self, compiled: nn.Module, x: torch.Tensor) -> torch.Tensor:
        if self.acceleration.compile_mode in CUDA_GRAPH_MODES:
            torch.compiler.cudagraph_mark_step_begin()  # a new step: the previous call's outputs are used up
        return compiled(x)


def _shape_key(model: nn.Module, x: torch.Tensor) -> tuple:
    return (model.training, torch.is_grad_enabled(), tuple(x.shape), x.dtype)
