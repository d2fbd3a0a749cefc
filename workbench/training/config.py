"""The "training" section as a frozen config (nanoGPT style): every key checked, defaults filled.

    {"task": "classify", "optimizer": "adam", "lr": 0.002, "batch_size": 64, "epochs": 30}
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.data import DataError, validate_data
from workbench.data.options import MAX_SEED, Option, check_section

MAX_EPOCHS = 100_000
TASKS = ("classify", "autoencoder", "denoise")
OPTIMIZERS = ("sgd", "adam", "adamw")
DEVICES = ("auto", "cpu", "cuda", "mps")
LOSSES = ("mse", "bce")
NOISE_KINDS = ("gaussian", "masking", "salt_pepper")
SCHEDULES = ("plain", "layerwise")  # made into trainers by workbench.training.schedules

TRAINING_OPTIONS = {
    "task": Option("choice", "classify", TASKS),
    "optimizer": Option("choice", "adam", OPTIMIZERS),
    "lr": Option("float", 1e-3, low=1e-8, high=10.0),
    "momentum": Option("float", 0.9, low=0.0, high=0.999),
    "weight_decay": Option("float", 0.0, low=0.0, high=1.0),
    "batch_size": Option("int", 64, low=1, high=65536),
    "epochs": Option("int", 10, low=1, high=MAX_EPOCHS),
    "seed": Option("int", 0, low=0, high=MAX_SEED),
    "device": Option("choice", "auto", DEVICES),
    "amp": Option("bool", True),
    "loss": Option("choice", "mse", LOSSES),
    "noise": Option("str", "gaussian:0.3"),
    "schedule": Option("choice", "plain", SCHEDULES),
}


class ConfigError(ValueError):
    """A training/data section is not valid, or a network cannot serve its task; the message names
    the key and the allowed values."""


@dataclass(frozen=True)
class TrainingConfig:
    """A checked "training" section; the defaults are TRAINING_OPTIONS'."""

    task: str = TRAINING_OPTIONS["task"].default
    optimizer: str = TRAINING_OPTIONS["optimizer"].default
    lr: float = TRAINING_OPTIONS["lr"].default
    momentum: float = TRAINING_OPTIONS["momentum"].default
    weight_decay: float = TRAINING_OPTIONS["weight_decay"].default
    batch_size: int = TRAINING_OPTIONS["batch_size"].default
    epochs: int = TRAINING_OPTIONS["epochs"].default
    seed: int = TRAINING_OPTIONS["seed"].default
    device: str = TRAINING_OPTIONS["device"].default
    amp: bool = TRAINING_OPTIONS["amp"].default          # mixed precision, used on CUDA only
    loss: str = TRAINING_OPTIONS["loss"].default         # autoencoder/denoise reconstruction loss
    noise: str = TRAINING_OPTIONS["noise"].default       # denoise corruption "kind:level"
    schedule: str = TRAINING_OPTIONS["schedule"].default  # "layerwise": greedy layer-wise pretraining, then fine-tuning

    @property
    def noise_kind_level(self) -> tuple[str, float]:
        return parse_noise(self.noise)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_noise(text: str) -> tuple[str, float]:
    """ "gaussian:0.3" -> ("gaussian", 0.3); salt-and-pepper may be spelt salt_pepper or salt-and-pepper."""
    kind, _, level = text.partition(":")
    kind = {"salt-and-pepper": "salt_pepper", "salt-pepper": "salt_pepper"}.get(kind.strip(), kind.strip())
    try:
        value = float(level) if level else 0.3
    except ValueError:
        value = -1.0
    if kind not in NOISE_KINDS or not 0.0 <= value <= (5.0 if kind == "gaussian" else 1.0):
        raise ConfigError(f"training.noise: {text!r} is not allowed: must be KIND:LEVEL with KIND one of "
                          f"gaussian, masking, salt-and-pepper and LEVEL a number (0..1; gaussian: std 0..5), "
                          f"e.g. gaussian:0.3")
    return kind, value


def validate_training(section: Any, **overrides: Any) -> TrainingConfig:
    """The project's "training" section (plus non-None overrides, e.g. from CLI flags) as a config."""
    values = dict(section or {}) if isinstance(section, dict) else section
    if isinstance(values, dict):
        values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        checked = check_section("training", values, TRAINING_OPTIONS)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    config = TrainingConfig(**checked)
    parse_noise(config.noise)
    return config


def section_problem(project: dict) -> str | None:
    """What is wrong with a project's training or data section (the message `validate_sections`
    raises), or None: the window warns about it when it opens such a project."""
    try:
        validate_sections(project)
    except ConfigError as exc:
        return str(exc)
    return None


def validate_sections(project: dict, **overrides: Any) -> tuple[TrainingConfig, dict]:
    """Both sections of a project: (training config, data section with defaults)."""
    data = project.get("data", {})
    try:
        data = validate_data(data)
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    return validate_training(project.get("training", {}), **overrides), data
