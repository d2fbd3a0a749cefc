"""What `workbench import SOURCE` accepts, and the network and weights each kind of SOURCE gives.

    torchvision:resnet18      a torchvision classification model, built with weights=None (nothing is
                              downloaded); --weights FILE brings a state dict for it
    path/to/net.py:Net        a class in a Python file, built as Net(); its weights, if any, from
                              --weights FILE, else net.Net.safetensors (.pt, .pth) beside net.py, else
                              net.safetensors (.pt, .pth) beside it
    path/to/net.py            the same, when the file defines one nn.Module class
    path/to/model.onnx        an ONNX file, its initializers as the weights (needs the onnx package)

A state dict file is a safetensors file, or a torch.save file read with weights_only=True (no code
runs from it); a checkpoint holding it under "state_dict", "model_state_dict" or "model" works too.
"""
from __future__ import annotations

import difflib
import hashlib
import importlib.util
import inspect
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from workbench.core.importing.assembly import Imported
from workbench.core.importing.onnx_graph import import_onnx
from workbench.core.importing.torch_fx import import_module

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")
SOURCE_FORMS = "torchvision:NAME, FILE.py:CLASS or FILE.onnx"


def import_source(source: str, input_shape: list[int] | None = None, weights: str | None = None) -> Imported:
    """Import SOURCE (see the module's docstring). A ValueError says in one line what went wrong."""
    text = source.strip()
    if text.startswith("torchvision:"):
        name = text.split(":", 1)[1]
        model = torchvision_model(name)
        if weights:
            load_state_dict(model, weights, text)
        shape = input_shape or [3, default_size(name), default_size(name)]
        imported = import_module(model, shape, name, with_weights=bool(weights))
        if not weights:
            imported.notes.append(f"{text} was built with weights=None (random weights, nothing downloaded): give "
                                  "--weights FILE, a state dict of it, to bring trained weights")
        return imported
    if text.lower().endswith(".onnx"):
        if weights:
            raise ValueError("an ONNX file carries its weights (its initializers): leave out --weights")
        return import_onnx(text, input_shape)
    path, class_name = _python_source(text)
    model = python_model(Path(path), class_name)
    weights_file = Path(weights) if weights else beside(Path(path), type(model).__name__)
    if weights_file is not None:
        try:
            load_state_dict(model, weights_file, text)
        except ValueError as exc:
            if weights:
                raise
            raise ValueError(f"{exc}; it was found beside {path}: name the weights of {type(model).__name__} "
                             f"{Path(path).stem}.{type(model).__name__}.pt, or give --weights FILE") from None
    imported = import_module(model, input_shape, type(model).__name__, with_weights=weights_file is not None)
    if weights_file is None:
        imported.notes.append(f"no weights: none beside {path} ({Path(path).stem}.safetensors, .pt or .pth) and no "
                              "--weights FILE, so the project starts from fresh weights")
    return imported


def _python_source(text: str) -> tuple[str, str]:
    """("path/net.py", "Net") from "path/net.py:Net"; the class empty for a bare "net.py"."""
    if text.lower().endswith(".py"):
        return text, ""
    path, colon, class_name = text.rpartition(":")
    if colon and path.lower().endswith(".py") and class_name.isidentifier():
        return path, class_name
    raise ValueError(f"{text!r}: SOURCE must be {SOURCE_FORMS}")


def parse_shape(text: str) -> list[int]:
    """"3,32,32" (or "3x32x32") -> [3, 32, 32], one sample's shape; a ValueError says the form."""
    parts = re.split(r"[,x×]", text.strip().lower())
    if len(parts) not in (1, 3) or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"input shape {text!r} must be C,H,W (or N for vectors) of positive integers, e.g. 3,32,32")
    return [int(p) for p in parts]


# ---------------------------------------------------------------------------------------------
# torchvision


def classification_models() -> list[str]:
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def torchvision_model(name: str) -> nn.Module:
    import torchvision

    known = classification_models()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else f"; known: {', '.join(known[:8])}, …"
        raise ValueError(f"torchvision:{name} is not one of torchvision's classification models{hint}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GoogLeNet and Inception say their initialization will change
        return torchvision.models.get_model(name, weights=None)


def default_size(name: str) -> int:
    """The image size a torchvision model's weights were trained at (224 for most, 299 for Inception)."""
    import torchvision

    try:
        return int(torchvision.models.get_model_weights(name).DEFAULT.transforms().crop_size[0])
    except (AttributeError, ValueError, KeyError, IndexError, TypeError):
        return 224


# ---------------------------------------------------------------------------------------------
# A class in a Python file


def python_model(path: Path, class_name: str) -> nn.Module:
    """Run the file (as Python runs a script it imports) and build the class without arguments."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
    spec = importlib.util.spec_from_file_location(f"workbench_import_{path.stem}_{digest}", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look their module up there
    sys.path.insert(0, str(path.parent.resolve()))  # the file's own imports of its neighbours
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - whatever the file raises is reported
        sys.modules.pop(spec.name, None)
        raise ValueError(f"{path}: running it failed ({type(exc).__name__}: {_first_line(exc)})") from None
    finally:
        sys.path.remove(str(path.parent.resolve()))
    classes = {name: obj for name, obj in vars(module).items()
               if inspect.isclass(obj) and issubclass(obj, nn.Module) and obj.__module__ == module.__name__}
    if not class_name:
        if len(classes) != 1:
            names = ", ".join(classes) or "none"
            raise ValueError(f"{path}: name the class, as {path}:CLASS ({len(classes)} nn.Module classes: {names})")
        class_name = next(iter(classes))
    cls = getattr(module, class_name, None)
    if not (inspect.isclass(cls) and issubclass(cls, nn.Module)):
        close = difflib.get_close_matches(class_name, list(classes), n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (its nn.Module classes: {', '.join(classes) or 'none'})"
        raise ValueError(f"{path}: no nn.Module class {class_name!r}{hint}")
    try:
        return cls()
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"{path}:{class_name}() failed ({type(exc).__name__}: {_first_line(exc)}); workbench builds "
                         "the class without arguments") from None


def beside(path: Path, class_name: str) -> Path | None:
    """The weights beside net.py for class Net: net.Net.safetensors (.pt, .pth), else net.safetensors
    (.pt, .pth), the first that exists."""
    names = [f"{path.stem}.{class_name}{s}" for s in WEIGHT_SUFFIXES] + [path.stem + s for s in WEIGHT_SUFFIXES]
    return next((p for p in (path.with_name(n) for n in names) if p.is_file()), None)


# ---------------------------------------------------------------------------------------------
# State dicts


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such weights file")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            state: Any = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file
        raise ValueError(f"{path}: not a state dict file ({type(exc).__name__}: {_first_line(exc)})") from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: holds no state dict (a mapping of names to tensors)")
    if state and all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def load_state_dict(model: nn.Module, path: str | Path, source: str) -> None:
    state = read_state_dict(path)
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # a tensor of the wrong shape
        detail = next((line.strip() for line in str(exc).splitlines() if "size mismatch" in line), _first_line(exc))
        raise ValueError(f"{path}: does not fit {source} ({detail})") from None
    problems = []
    if result.missing_keys:
        problems.append(f"{len(result.missing_keys)} missing, e.g. {result.missing_keys[0]}")
    if result.unexpected_keys:
        problems.append(f"{len(result.unexpected_keys)} it does not have, e.g. {result.unexpected_keys[0]}")
    if problems:
        raise ValueError(f"{path}: does not fit {source} (tensors: {'; '.join(problems)})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
