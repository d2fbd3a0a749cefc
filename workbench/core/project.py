"""The project: input shape, layers with stable ids, and the data/training sections.

On disk one JSON object: {"format": "workbench-project", "version": 1, "input": [C, H, W],
"layers": [{"type": "Conv2d", "out_channels": 96, ...}, ...], "data": {...}, "training": {...}}.
An optional "weights" names a safetensors file of initial weights by layer id (an imported
network's; workbench.core.weights), relative to the project file. Version 2 adds branches (workbench.core.graph): a layer may name its inputs by id
(`"inputs": ["b1_bn2", "stem_relu"]`; "input" is the network's input) and the merge kinds Add and
Concat exist. A project without branches is still written as version 1, so an older workbench keeps
reading it; one with branches as version 2, which an older workbench refuses with a clear message.
Every problem in a file raises `ProjectError` (a ValueError) whose message names the layer index and
key; nothing here lets a traceback-worthy exception escape for any input.

`Project` is the live model the window views: each mutation validates, stores, then emits
`changed`, so views redraw from the project and never from each other.
"""
from __future__ import annotations

import contextlib
import copy
import difflib
import glob
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

from psygnal import Signal

from workbench.core import graph
from workbench.core.catalogue import CATALOGUE, DERIVED_KEYS, MAX_CHANNELS, MAX_SIZE, brief
from workbench.core.regular_file import FileTooLarge, read_regular

FORMAT = "workbench-project"
VERSION = 2  # the newest format this workbench reads; it writes 1 whenever the project has no branches
MAX_LAYERS = 10_000
MAX_FILE_BYTES = 20 * 1024 * 1024
SECTIONS = ("data", "training")
WEIGHTS = "weights"  # initial weights: a safetensors file (workbench.core.weights), beside the file or absolute
TOP_KEYS = ("format", "version", "name", "input", "layers", WEIGHTS, *SECTIONS)


class ProjectError(ValueError):
    """A project (file or dict) is not valid; the message names what and where."""


def new_id() -> str:
    return uuid.uuid4().hex[:8]


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate_input(value: Any) -> list[int]:
    """[C, H, W] for images or [N] for vectors, each a positive integer within limits."""
    ok = (isinstance(value, list) and len(value) in (1, 3)
          and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value))
    if not ok:
        raise ProjectError(f"input must be [C, H, W] (or [N]) of positive integers, got {brief(value)}")
    limit = MAX_CHANNELS if len(value) == 3 else 10_000_000
    if value[0] > limit or any(v > MAX_SIZE for v in value[1:]):
        raise ProjectError(f"input {value} is too large (depth up to {limit}, height and width up to {MAX_SIZE})")
    return list(value)


def validate_layer(index: int, layer: Any) -> dict:
    """Return the layer normalized (keys in schema order, an id), or raise ProjectError."""
    where = f"layer {index}"
    if not isinstance(layer, dict):
        raise ProjectError(f"{where}: must be an object like {{\"type\": \"Conv2d\", ...}}, got {brief(layer)}")
    kind_name = layer.get("type")
    if not isinstance(kind_name, str) or kind_name not in CATALOGUE:
        known = ", ".join(CATALOGUE)
        hint = _suggest(kind_name, list(CATALOGUE)) if isinstance(kind_name, str) else ""
        raise ProjectError(f"{where}: unknown type {brief(kind_name)}{hint}; known types: {known}")
    kind = CATALOGUE[kind_name]
    where = f"layer {index} ({kind_name})"
    layer_id = layer.get("id")
    if layer_id is not None and (not isinstance(layer_id, str) or not 0 < len(layer_id) <= 64):
        raise ProjectError(f"{where}: 'id' must be a short string, got {brief(layer_id)}")
    names = [p.name for p in kind.params]
    for key in layer:
        if key in ("type", "id", "inputs") or key in names:
            continue
        if key in DERIVED_KEYS:
            raise ProjectError(f"{where}: '{key}' follows from the previous layer and is never written; remove it")
        raise ProjectError(f"{where}: unknown key '{key}'{_suggest(key, names)}; "
                           f"{kind_name} takes: {', '.join(names) or 'no parameters'}")
    out: dict[str, Any] = {"type": kind_name, "id": layer_id or new_id()}
    if "inputs" in layer:
        out["inputs"] = _validate_inputs(where, layer["inputs"])
    for param in kind.params:
        if param.name not in layer:
            if param.required:
                raise ProjectError(f"{where}: '{param.name}' is required ({param.help or param.describe()})")
            continue
        try:
            out[param.name] = param.validate(layer[param.name])
        except ValueError as exc:
            raise ProjectError(f"{where}: '{param.name}' {exc}") from None
    return out


def _validate_inputs(where: str, value: Any) -> list[str]:
    ok = (isinstance(value, list) and 0 < len(value) <= graph.MAX_INPUTS
          and all(isinstance(v, str) and 0 < len(v) <= 64 for v in value))
    if not ok:
        raise ProjectError(f"{where}: 'inputs' must be a list of 1 to {graph.MAX_INPUTS} layer ids "
                           f"(\"{graph.INPUT}\" for the network's input), got {brief(value)}")
    return list(value)


def validate_layers(layers: list[dict]) -> list[dict]:
    """Check that validated layers form a graph (unique ids, inputs that exist and come earlier);
    return them normalized (no "inputs" that only name the previous layer)."""
    seen: set[str] = set()
    for i, layer in enumerate(layers):
        if layer["id"] in seen:
            raise ProjectError(f"layer {i} ({layer['type']}): id {layer['id']!r} is used twice")
        seen.add(layer["id"])
    problem = graph.structure_error(layers)
    if problem is not None:
        raise ProjectError(problem)
    return graph.normalized(layers)


def file_version(layers: list[dict]) -> int:
    return 2 if graph.is_branched(layers) else 1


def with_param(index: int, layer: dict, key: str, value: Any) -> dict:
    """Layer `index` with one parameter set (value None resets a non-optional one to its default),
    validated: a ProjectError names the layer and the key."""
    candidate = dict(layer)
    if value is None and not CATALOGUE[layer["type"]].param(key).optional:
        candidate.pop(key, None)
    else:
        candidate[key] = value
    return validate_layer(index, candidate)


def validate_section(name: str, value: Any) -> dict:
    """data/training sections: JSON objects whose meaning the training package checks."""
    if not isinstance(value, dict):
        raise ProjectError(f"'{name}' must be an object, got {brief(value)}")
    return copy.deepcopy(value)


def validate_project(doc: Any) -> dict:
    """Check a whole project document and return it normalized (every layer with an id)."""
    if not isinstance(doc, dict):
        raise ProjectError(f"a project must be a JSON object, got {brief(doc)}")
    if doc.get("format", FORMAT) != FORMAT:
        raise ProjectError(f"'format' must be {FORMAT!r}, got {brief(doc.get('format'))}: is this a workbench project?")
    version = doc.get("version", VERSION)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectError(f"'version' must be a positive integer, got {brief(version)}")
    if version > VERSION:
        raise ProjectError(f"this file was written by a newer workbench (format version {version}); "
                           f"this one reads versions up to {VERSION}: update workbench to open it")
    for key in doc:
        if key not in TOP_KEYS:
            raise ProjectError(f"unknown top-level key '{key}'{_suggest(key, list(TOP_KEYS))}")
    if "input" not in doc:
        raise ProjectError("'input' is missing: give the input shape as [C, H, W]")
    layers = doc.get("layers", [])
    if not isinstance(layers, list):
        raise ProjectError(f"'layers' must be a list, got {brief(layers)}")
    if len(layers) > MAX_LAYERS:
        raise ProjectError(f"{len(layers)} layers is more than this app handles ({MAX_LAYERS})")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise ProjectError(f"'name' must be a string, got {brief(name)}")
    checked = validate_layers([validate_layer(i, layer) for i, layer in enumerate(layers)])
    out: dict[str, Any] = {"format": FORMAT, "version": file_version(checked), "name": name,
                           "input": validate_input(doc["input"]), "layers": checked}
    if WEIGHTS in doc:
        out[WEIGHTS] = validate_weights_path(doc[WEIGHTS])
    for section in SECTIONS:
        if section in doc:
            out[section] = validate_section(section, doc[section])
    return out


def validate_weights_path(value: Any) -> str:
    """The initial-weights file a project names; whether it exists is checked when it is loaded."""
    if not isinstance(value, str) or not value.strip() or len(value) > 4096:
        raise ProjectError(f"'{WEIGHTS}' must name a .safetensors file (its path, relative to the project file), "
                           f"got {brief(value)}")
    return value


def parse_project(text: str | bytes, source: str = "project") -> dict:
    """Parse and validate JSON text; every failure becomes a ProjectError naming `source`."""
    if len(text) > MAX_FILE_BYTES:
        raise ProjectError(f"{source}: {len(text):,} bytes is too large for a project file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ProjectError(f"{source}: JSON nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProjectError(f"{source}: not valid JSON text ({exc})") from None
    try:
        return validate_project(doc)
    except ProjectError as exc:
        raise ProjectError(f"{source}: {exc}") from None
    except RecursionError:
        raise ProjectError(f"{source}: nested too deeply") from None


def read_project(path: str | os.PathLike) -> dict:
    """A project file: a regular file of at most MAX_FILE_BYTES (a FIFO or /dev/zero is refused)."""
    path = Path(path)
    try:
        data = read_regular(path, MAX_FILE_BYTES)
    except FileTooLarge as exc:
        raise ProjectError(f"{path}: {exc.size:,} bytes is too large for a project file") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read ({exc.strerror or exc})") from None
    doc = parse_project(data, str(path))
    if WEIGHTS in doc:  # relative to the project file, wherever it is opened from
        doc[WEIGHTS] = str((path.parent / doc[WEIGHTS]).absolute())
    return doc


def dumps_project(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def project_file_text(doc: dict, path: str | os.PathLike) -> str:
    """`doc` as the text of the project file `path`. Its weights file, absolute in memory (as
    `read_project` makes it), is named relative to the file's folder when it lies there or below,
    so that the folder can be moved or shared whole; elsewhere it stays absolute."""
    if WEIGHTS in doc:
        weights, folder = Path(doc[WEIGHTS]), Path(path).absolute().parent
        if weights.is_absolute() and weights.is_relative_to(folder):
            doc = {**doc, WEIGHTS: weights.relative_to(folder).as_posix()}
    return dumps_project(doc)


def write_atomic(path: str | os.PathLike, text: str | bytes) -> None:
    """Write to a temporary file beside `path`, then rename: the old file survives any failure."""
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:  # a read-only or missing folder: name the file the user asked for, not our temp
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        os.chmod(tmp, _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    remove_stale_temps(path)


TEMP_SUFFIX = ".tmp"
STALE_TEMP_S = 600  # a save in progress writes its temporary file within seconds


def remove_stale_temps(path: Path, older_than_s: float = STALE_TEMP_S) -> None:
    """Temporary files beside `path` left by saves that were killed before their rename: removed
    once they are old enough not to belong to a save still in progress."""
    cutoff = time.time() - older_than_s
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if stale.lstat().st_mtime < cutoff:
                stale.unlink()


def _read_umask() -> int:
    # os.umask can only be read by setting it; do that once, at import, before any thread runs.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _mode_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


class Project:
    """The live, observable project. Mutate only through these methods (commands call them)."""

    changed = Signal(str)  # what changed: "layers", "input", "sections", "all"

    def __init__(self, doc: dict | None = None):
        self._doc = validate_project(doc or {"input": [1, 28, 28], "layers": []})

    # reading ---------------------------------------------------------------------------------
    @property
    def input(self) -> list[int]:
        return list(self._doc["input"])

    @property
    def layers(self) -> list[dict]:
        """Copies: editing them does not edit the project."""
        return copy.deepcopy(self._doc["layers"])

    @property
    def name(self) -> str:
        return self._doc["name"]

    def __len__(self) -> int:
        return len(self._doc["layers"])

    def layer(self, index: int) -> dict:
        return copy.deepcopy(self._doc["layers"][index])

    def index_of(self, layer_id: str) -> int:
        for i, layer in enumerate(self._doc["layers"]):
            if layer["id"] == layer_id:
                return i
        raise KeyError(layer_id)

    def section(self, name: str) -> dict:
        return copy.deepcopy(self._doc.get(name, {}))

    def peek(self) -> dict:
        """The live document, not a copy: for readers that never change it and run on every edit
        (inference); anything else takes `to_dict()`."""
        return self._doc

    def to_dict(self) -> dict:
        """The project as its file holds it (version 1 unless it has branches)."""
        doc = copy.deepcopy(self._doc)
        doc["layers"] = graph.normalized(doc["layers"])
        doc["version"] = file_version(doc["layers"])
        return doc

    def ids(self) -> list[str]:
        """The layers' ids in order."""
        return [layer["id"] for layer in self._doc["layers"]]

    # mutating --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Several mutations, one `changed` at the end: views redraw once for a multi-layer edit."""
        with self.changed.paused(reducer=lambda a, b: a if a == b else ("all",)):
            yield

    def insert_layer(self, index: int, layer: dict) -> dict:
        """Insert at index (clamped); returns the stored layer (with its id)."""
        index = max(0, min(index, len(self)))
        stored = validate_layer(index, layer)
        if any(other["id"] == stored["id"] for other in self._doc["layers"]):
            stored["id"] = new_id()
        self._doc["layers"].insert(index, stored)
        self.changed.emit("layers")
        return copy.deepcopy(stored)

    def remove_layer(self, index: int) -> dict:
        removed = self._doc["layers"].pop(index)
        self.changed.emit("layers")
        return removed

    def move_layer(self, src: int, dst: int) -> None:
        layers = self._doc["layers"]
        layers.insert(dst, layers.pop(src))
        self.changed.emit("layers")

    def set_param(self, index: int, key: str, value: Any) -> None:
        """Set (or, with value None for a non-optional key, reset to default) one parameter."""
        self._doc["layers"][index] = with_param(index, self._doc["layers"][index], key, value)
        self.changed.emit("layers")

    def set_layers(self, layers: list[dict]) -> None:
        """Swap in a whole layer list (a change of connections); it must form a valid graph."""
        self._doc["layers"] = validate_layers([validate_layer(i, layer) for i, layer in enumerate(layers)])
        self.changed.emit("layers")

    def set_input(self, shape: list[int]) -> None:
        self._doc["input"] = validate_input(list(shape))
        self.changed.emit("input")

    def set_section(self, name: str, value: dict) -> None:
        if name not in SECTIONS:
            raise ProjectError(f"unknown section {name!r}")
        self._doc[name] = validate_section(name, value)
        self.changed.emit("sections")

    def replace(self, doc: dict) -> None:
        """Swap in a whole project (template load, open file)."""
        self._doc = validate_project(doc)
        self.changed.emit("all")
