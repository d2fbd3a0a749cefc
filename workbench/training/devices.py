"""Which device trains: `auto` picks CUDA, then Apple's MPS, then the CPU."""
from __future__ import annotations

import os
import platform

import torch

from workbench.training.config import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("training.device: 'cuda' is not available here (no CUDA GPU or a CPU-only torch); "
                          "use 'auto' or 'cpu'")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("training.device: 'mps' is not available here; use 'auto' or 'cpu'")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """For people: "NVIDIA H100 80GB HBM3", "Apple MPS", "CPU (x86_64, 2 cores)"."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({platform.machine() or 'unknown'}, {os.cpu_count()} cores)"


def available_devices() -> list[tuple[str, str]]:
    """(choice, label) pairs for a device menu; labels name the GPU when there is one."""
    choices = [("auto", f"auto ({device_name(resolve_device('auto'))})"), ("cpu", "CPU")]
    if torch.cuda.is_available():
        choices.append(("cuda", f"CUDA: {torch.cuda.get_device_name(0)}"))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        choices.append(("mps", "Apple MPS"))
    return choices
