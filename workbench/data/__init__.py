"""Datasets, Qt-free: embedded `digits` and `shapes`, torchvision MNIST/FashionMNIST/CIFAR-10, and
image folders, loaded whole into tensors with a deterministic train/validation split.

    load_dataset({"dataset": "digits"}, input_shape=[1, 8, 8]) -> Dataset
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workbench.data import digits, shapes
from workbench.data.dataset import DataError, Dataset, fit_to_input, split
from workbench.data.options import MAX_SEED, Option, check_section
from workbench.data.vision import IMAGE_SUFFIXES, VISION, VISION_SIZES, load_folder, load_vision, resize_dataset

DATASETS = ("digits", "shapes", *VISION, "folder")
AUGMENTATIONS = ("flip", "shift")
DATA_OPTIONS = {
    "dataset": Option("choice", "digits", DATASETS),
    "root": Option("str"),
    "download": Option("bool", False),
    "val_fraction": Option("float", 0.2, low=0.01, high=0.9),
    "split_seed": Option("int", 0, low=0, high=MAX_SEED),
    "count": Option("int", None, low=20, high=10_000_000),
    "resize": Option("size"),
    "augment": Option("list", [], AUGMENTATIONS),
}
SHAPES_COUNT = 6000

__all__ = ["DATASETS", "DataError", "Dataset", "default_root", "load_dataset", "sample_count", "validate_data"]


def validate_data(section: Any) -> dict:
    """The "data" section with defaults filled in; DataError names the key and the allowed values."""
    try:
        return check_section("data", section if section is not None else {}, DATA_OPTIONS)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def default_root() -> Path:
    """Where torchvision datasets live unless data.root says otherwise ($WORKBENCH_DATA)."""
    return Path(os.environ.get("WORKBENCH_DATA") or Path.home() / ".workbench" / "datasets")


def sample_count(data: dict, root: str | None = None) -> int | None:
    """How many samples (training and validation) the data section loads, without loading them;
    None for an image folder that is not there."""
    opts = validate_data(data)
    name, count = opts["dataset"], opts["count"]
    if name in VISION:
        train, test = VISION_SIZES[name]
        return min(train, count or train) + test
    if name == "shapes":
        return count or SHAPES_COUNT
    if name == "digits":
        total = digits.COUNT
    else:
        folder = Path(root or opts["root"] or "").expanduser()
        if not (root or opts["root"]) or not folder.is_dir():
            return None
        total = sum(1 for sub in folder.iterdir() if sub.is_dir() and not sub.name.startswith(".")
                    for path in sub.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    return min(total, count or total)


def load_dataset(data: dict, input_shape: list[int], root: str | None = None) -> Dataset:
    """The project's dataset, shaped for its input ([C, H, W], or [N] to flatten), on the CPU.

    `root` overrides data.root. The split is a function of (data section, split_seed) only.
    """
    opts = validate_data(data)
    name = opts["dataset"]
    folder = Path(root or opts["root"] or default_root()).expanduser()
    if name in VISION:
        ds = load_vision(name, folder, opts["download"])
        if opts["count"]:
            ds = Dataset(ds.name, ds.classes, ds.train_x[:opts["count"]], ds.train_y[:opts["count"]],
                         ds.val_x, ds.val_y)
    else:
        if name == "digits":
            classes, (x, y) = digits.CLASSES, digits.load()
        elif name == "shapes":
            classes, (x, y) = shapes.CLASSES, shapes.generate(opts["count"] or SHAPES_COUNT, opts["split_seed"])
        else:
            if not (root or opts["root"]):
                raise DataError("folder dataset: set data.root (or --data-root) to a folder with one sub-folder per class")
            classes, x, y = load_folder(folder, input_shape)
        if opts["count"] and name != "shapes":
            x, y = x[:opts["count"]], y[:opts["count"]]
        ds = split(name, classes, x, y, opts["val_fraction"], opts["split_seed"])
    if opts["resize"]:
        ds = resize_dataset(ds, tuple(opts["resize"]))
    return fit_to_input(ds, input_shape)
