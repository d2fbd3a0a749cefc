"""Putting an imported network together: layers with ids and inputs, weights by layer id, opaque cards.

The PyTorch and ONNX importers walk their graphs in order and hand each operation here: as catalogue
layers (`add`) or as an opaque card (`add_opaque`) with its output shape from a real forward pass.
`finish` keeps what leads to the network's output, checks every catalogue layer's inferred volume
against the measured one (a layer whose catalogue rule disagrees with torch becomes an opaque card
rather than a wrong volume), and words what could not be represented with the final layer numbers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from workbench.core.catalogue import CATALOGUE, MAX_SIZE, fmt_shape
from workbench.core.graph import INPUT
from workbench.core.inference import summarize
from workbench.core.project import ProjectError, validate_layer, validate_project
from workbench.core.summary import LayerRow, Summary

Shape = tuple[int, ...]
MAX_ID = 48


@dataclass
class Imported:
    """An imported network: the project (without "weights": `save_imported` writes the file beside),
    its weights by layer id (None when the source has no trained weights), one line per part that
    could not be represented or needs a word, and where each layer came from in the source."""

    doc: dict
    weights: dict[str, torch.Tensor] | None
    notes: list[str]
    origins: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unmapped:
    """No catalogue kind: `reason` completes "<what> is not in the catalogue" (" with return_indices=True")."""

    reason: str = ""


@dataclass
class _Part:
    layer: dict  # validated, with "id" and "inputs"
    origin: str  # where it sits in the source ("layer1.0.conv1", "/features/0/Conv")
    what: str  # what it is there ("torch.nn.Conv2d", "ONNX Conv")
    parameters: int  # its parameter count in the source
    reason: str = ""  # for an opaque card: completes "<what> is not in the catalogue"


class Assembly:
    def __init__(self, input_shape: Shape):
        self.input_shape = tuple(input_shape)
        self.parts: list[_Part] = []
        self.measured: dict[str, Shape] = {INPUT: self.input_shape}
        self.weights: dict[str, torch.Tensor] = {}
        self.remarks: dict[str, str] = {}  # layer id -> a note that is not about being opaque
        self.general: list[str] = []  # notes about the whole network
        self._ids = {INPUT}

    def _new_id(self, hint: str) -> str:
        base = re.sub(r"\W+", "_", hint).strip("_")[:MAX_ID] or "layer"
        if base[0].isdigit():
            base = "l" + base
        name, n = base, 1
        while name in self._ids:
            n += 1
            name = f"{base}_{n}"
        self._ids.add(name)
        return name

    def add(self, layers: list[dict], inputs: list[str], out_shape: Shape, origin: str, what: str,
            parameters: int = 0, tensors: dict[str, torch.Tensor] | None = None) -> str | Unmapped:
        """Catalogue layers, chained: the first takes `inputs` and holds `tensors` (its state dict), the
        last gives `out_shape`. Its id, or Unmapped when a value is out of the catalogue's range."""
        parts: list[_Part] = []
        source = list(inputs)
        try:
            for i, built in enumerate(layers):
                hint = origin if i == len(layers) - 1 else f"{origin}_{built['type'].lower()}"
                layer = validate_layer(len(self.parts) + len(parts), {**built, "id": self._new_id(hint), "inputs": source})
                parts.append(_Part(layer, origin, what, parameters if i == 0 else 0))
                source = [layer["id"]]
        except ProjectError as exc:
            self._ids.difference_update(part.layer["id"] for part in parts)
            return Unmapped(f" ({str(exc).split(': ', 1)[-1]})")
        self.parts += parts
        for key, value in (tensors or {}).items():
            self.weights[f"{parts[0].layer['id']}.{key}"] = value
        self.measured[source[0]] = tuple(out_shape)
        return source[0]

    def add_opaque(self, what: str, reason: str, inputs: list[str], out_shape: Shape, parameters: int,
                   origin: str) -> str:
        """An opaque card: what a forward pass measured. Raises ValueError for a shape it cannot show."""
        in_shape = self.measured[inputs[0]] if inputs else self.input_shape
        for shape in (in_shape, out_shape):
            if not 1 <= len(shape) <= 3 or not all(1 <= s <= MAX_SIZE for s in shape):
                raise ValueError(f"{origin} ({what}) gives {_per_sample(shape)} per sample, which workbench cannot "
                                 "show (it shows vectors, and volumes of up to 3 dimensions)")
        layer_id = self._new_id(origin)
        layer = {"type": "Opaque", "id": layer_id, "inputs": list(inputs) or [INPUT], "module": what[:200],
                 "source": origin[:200] or "?", "in_shape": list(in_shape), "output": list(out_shape),
                 "parameters": parameters}
        self.parts.append(_Part(validate_layer(len(self.parts), layer), origin, what, parameters, reason))
        self.measured[layer_id] = tuple(out_shape)
        return layer_id

    def remark(self, layer_id: str, text: str) -> None:
        self.remarks[layer_id] = text

    # -----------------------------------------------------------------------------------------
    def finish(self, output: str, name: str, with_weights: bool) -> Imported:
        """The project of what leads to `output`, checked against the measured volumes."""
        if output == INPUT:
            raise ValueError(f"{name}: the network returns its input unchanged: there is nothing to import")
        self.parts = self._leading_to(output)
        for _ in range(len(self.parts) + 1):  # each round turns at least one disagreeing layer opaque
            summary = summarize(self._doc(name))
            wrong = next((i for i, row in enumerate(summary["layers"]) if self._disagrees(row)), None)
            if wrong is None:
                break
            self._make_opaque(wrong, summary)
        doc = validate_project(self._doc(name))
        ids = {part.layer["id"] for part in self.parts}
        weights = {k: v for k, v in self.weights.items() if k.split(".", 1)[0] in ids} if with_weights else None
        return Imported(doc, weights, self._notes(), {p.layer["id"]: p.origin for p in self.parts})

    def _leading_to(self, output: str) -> list[_Part]:
        by_id = {part.layer["id"]: part for part in self.parts}
        needed, stack = set(), [output]
        while stack:
            layer_id = stack.pop()
            if layer_id in needed or layer_id == INPUT:
                continue
            needed.add(layer_id)
            stack += by_id[layer_id].layer["inputs"]
        return [part for part in self.parts if part.layer["id"] in needed]

    def _doc(self, name: str) -> dict:
        return {"name": name, "input": list(self.input_shape), "layers": [dict(p.layer) for p in self.parts]}

    def _disagrees(self, row: LayerRow) -> bool:
        if CATALOGUE[row["type"]].opaque:
            return False
        measured = self.measured.get(row["id"])
        return row["status"] == "error" or (measured is not None and tuple(row["output"] or ()) != measured)

    def _make_opaque(self, index: int, summary: Summary) -> None:
        part, row = self.parts[index], summary["layers"][index]
        if row["status"] == "error":
            reason = f" as called here ({row['message']})"
        else:
            reason = (f" as called here (torch gives {fmt_shape(self.measured[row['id']])}, the catalogue's rule "
                      f"{fmt_shape(tuple(row['output'] or ()))})")
        outputs = {r["id"]: r["output"] for r in summary["layers"]}
        first = row["inputs"][0]
        in_shape = self.measured.get(first) or tuple(outputs.get(first) or self.input_shape)
        layer_id = part.layer["id"]
        out_shape = self.measured.get(layer_id) or tuple(row["output"] or in_shape)
        self.parts[index] = _Part(validate_layer(index, {
            "type": "Opaque", "id": layer_id, "inputs": row["inputs"], "module": part.what[:200],
            "source": part.origin[:200] or "?", "in_shape": list(in_shape), "output": list(out_shape),
            "parameters": part.parameters}), part.origin, part.what, part.parameters, reason)
        self.weights = {k: v for k, v in self.weights.items() if k.split(".", 1)[0] != layer_id}

    def _notes(self) -> list[str]:
        notes = list(self.general)
        for index, part in enumerate(self.parts):
            layer_id = part.layer["id"]
            if part.layer["type"] == "Opaque":
                notes.append(f"layer {index}: {part.what}{part.reason} is not in the catalogue (at {part.origin}): "
                             "an opaque card")
            if layer_id in self.remarks:
                notes.append(f"layer {index}: {self.remarks[layer_id]}")
        return notes


def _per_sample(shape: Shape) -> str:
    return f"{len(shape)}-D values ({'×'.join(map(str, shape))})" if shape else "a single number"
