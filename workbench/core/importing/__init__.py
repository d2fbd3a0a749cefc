"""Bring your own network: a torchvision model, a class in a Python file or an ONNX file as a project.

    imported = import_source("torchvision:resnet18")          # or "net.py:Net", "model.onnx"
    save_imported(imported, "resnet18.json")                  # + resnet18.safetensors when it has weights

Parts with no catalogue kind become opaque cards (their shapes and parameters measured by a forward
pass); `Imported.notes` says which, one line each. Modules: `sources` (what SOURCE may be),
`torch_fx` and `torch_mapping` (PyTorch), `onnx_graph` (ONNX), `assembly` (the project they build).
"""
from __future__ import annotations

import os
from pathlib import Path

from workbench.core.importing.assembly import Imported
from workbench.core.importing.sources import import_source
from workbench.core.project import WEIGHTS, dumps_project, validate_project, write_atomic
from workbench.core.weights import write_weights

__all__ = ["Imported", "import_source", "save_imported", "with_weights_file"]


def with_weights_file(imported: Imported, weights_path: str | os.PathLike, named_as: str | None = None) -> dict:
    """Write the imported weights (if any) to `weights_path`; the project naming them as `named_as`
    (default: the path as given), or the project as it is when there are no weights."""
    doc = dict(imported.doc)
    if imported.weights:
        write_weights(weights_path, imported.weights)
        doc[WEIGHTS] = named_as if named_as is not None else str(weights_path)
    return validate_project(doc)


def save_imported(imported: Imported, path: str | os.PathLike) -> Path | None:
    """Write the project to `path` (a .json file) and, when it has weights, NAME.safetensors beside
    it, which the project names; the weights first, so a project never names a file not yet there.
    Returns the weights file written, or None."""
    path = Path(path)
    if path.suffix.lower() == ".safetensors":
        raise ValueError(f"{path}: the project is a .json file (its weights go beside it as .safetensors)")
    weights_path = path.with_suffix(".safetensors")
    doc = with_weights_file(imported, weights_path, weights_path.name)
    write_atomic(path, dumps_project(doc))
    return weights_path if imported.weights else None
