"""MNIST, FashionMNIST and CIFAR-10 through torchvision, and `folder` (one sub-folder per class).

Files come from a root folder; torchvision downloads only when the user asks (`download`), and a
missing dataset raises DataError saying which files to put where. The official test set is the
validation set, so runs compare with published numbers.
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from workbench.data.dataset import DataError, Dataset, resize_images

# name -> (torchvision class name, folder under root, the files it needs)
VISION = {
    "mnist": ("MNIST", "MNIST/raw", "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
              "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or the same names with .gz)"),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw", "train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                      "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or the same names with .gz)"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py", "data_batch_1 … data_batch_5, test_batch and batches.meta "
                "(unpacked from cifar-10-python.tar.gz)"),
}
# name -> (training images, test images): what the official files hold
VISION_SIZES = {"mnist": (60_000, 10_000), "fashion-mnist": (60_000, 10_000), "cifar10": (50_000, 10_000)}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def _images(array: np.ndarray) -> torch.Tensor:
    """uint8 N×H×W or N×H×W×C -> float32 N×C×H×W in [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(array))
    x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
    return x.float().div_(255.0)


def load_vision(name: str, root: Path, download: bool) -> Dataset:
    import torchvision.datasets as tvd

    cls_name, folder, files = VISION[name]
    cls = getattr(tvd, cls_name)
    _only_regular_files(root / folder)
    parts = []
    for train in (True, False):
        try:
            # torchvision prints its download progress on stdout, where `workbench train` writes JSON
            with contextlib.redirect_stdout(sys.stderr):
                ds = cls(str(root), train=train, download=download)
        except RuntimeError as exc:
            text = str(exc)
            if download and text.startswith("Error downloading"):  # every mirror failed: say it once
                reasons = [line for line in text.splitlines() if line.startswith("<") or "rror" in line]
                raise DataError(f"{name}: the download failed ({reasons[-1] if reasons else text.splitlines()[0]}); "
                                f"check the network, or put {files} in {root / folder}") from None
            if "not found" not in text and "corrupted" not in text:
                raise DataError(f"{name}: cannot read the files in {root / folder} ({_first_line(exc)})") from None
            how = ("the download did not complete; " if download else "")
            raise DataError(f"{name} not found: {how}put {files} in {root / folder}, "
                            f"or let workbench download them (--download / data.download = true; needs the network)") from None
        except OSError as exc:  # network errors while downloading, unreadable files
            raise DataError(f"{name}: {'download failed' if download else 'cannot read files'} "
                            f"({exc.strerror or _first_line(exc)}); put {files} in {root / folder}") from None
        except Exception as exc:  # noqa: BLE001 - garbage files: torchvision asserts, numpy and pickle complain
            raise DataError(f"{name}: cannot read the files in {root / folder}: they are not {cls_name} files "
                            f"({type(exc).__name__}: {_first_line(exc)}); put {files} there") from None
        data = ds.data.numpy() if isinstance(ds.data, torch.Tensor) else ds.data
        targets = ds.targets.numpy() if isinstance(ds.targets, torch.Tensor) else np.asarray(ds.targets)
        parts.append((_images(data), torch.from_numpy(targets).long()))
    classes = [c.split(" - ")[-1] for c in ds.classes]
    (train_x, train_y), (val_x, val_y) = parts
    return Dataset(name, classes, train_x, train_y, val_x, val_y)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no details"


def _only_regular_files(folder: Path) -> None:
    """torchvision opens whatever has a dataset file's name: a FIFO there would block forever."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if not path.is_dir() and not path.is_file():
            raise DataError(f"{path}: not a regular file (a FIFO, device or broken link): remove it")


def load_folder(root: Path, input_shape: list[int]) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Every image under root/<class>/ converted to the input's channels and resized to its H×W."""
    from PIL import Image, UnidentifiedImageError

    if not root.is_dir():
        raise DataError(f"folder dataset: {root} is not a folder; make one sub-folder per class "
                        f"(e.g. {root}/cat/*.png, {root}/dog/*.png) and set data.root to it")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"folder dataset: {root} needs at least two sub-folders, one per class "
                        f"(found {len(classes)})")
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise DataError(f"folder dataset: the project's input must be [1, H, W] or [3, H, W] images, "
                        f"got {input_shape}")
    channels, height, width = input_shape
    images, labels = [], []
    for label, cls in enumerate(classes):
        for path in sorted((root / cls).iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if not path.is_file():  # a FIFO named like an image would block the open below
                raise DataError(f"folder dataset: {path} is not a regular file (a FIFO, device or broken link): "
                                f"remove it")
            try:
                with warnings.catch_warnings():
                    # over PIL's pixel limit PIL only warns; at twice it, it refuses: both are refused here
                    warnings.simplefilter("error", Image.DecompressionBombWarning)
                    with Image.open(path) as img:
                        img = img.convert("L" if channels == 1 else "RGB").resize((width, height), Image.BILINEAR)
                        images.append(np.asarray(img, dtype=np.uint8))
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise DataError(f"folder dataset: {path} has more pixels than the {Image.MAX_IMAGE_PIXELS:,} PIL "
                                f"opens safely (a decompression bomb, or a huge image): shrink or remove it") from None
            except (OSError, UnidentifiedImageError, ValueError) as exc:
                raise DataError(f"folder dataset: cannot read {path} ({_first_line(exc)})") from None
            labels.append(label)
    if not images:
        raise DataError(f"folder dataset: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {root}")
    return classes, _images(np.stack(images)), torch.tensor(labels, dtype=torch.long)


def resize_dataset(data: Dataset, size: tuple[int, int]) -> Dataset:
    return Dataset(data.name, data.classes, resize_images(data.train_x, size), data.train_y,
                   resize_images(data.val_x, size), data.val_y)
