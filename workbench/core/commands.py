"""Edits as undoable commands over the core `Project`.

A command is built against the current project and checks its input while being built (raising
`ProjectError` with the core's message), so a command that exists always applies: `redo` and `undo`
never fail. This matters in the window, where a QUndoStack calls `redo` from C++ and could not
recover from an exception half-way. `History` is a tiny undo stack for headless use and tests; the
window wraps the same commands in QUndoCommand (workbench/ui/editing/undo.py).

Commands find layers by id, not index, wherever a later edit could have shifted the indices.
Commands that change connections (`Connect`, `Disconnect`, `AddSkip`, `InsertOnEdge`,
`InsertProjection`, and `RemoveLayers`, which closes a branch over the gap) hold the whole layer
list before and after, so undo gives back exactly what was there.
"""
from __future__ import annotations

import copy
from typing import Any

from workbench.core import graph
from workbench.core.catalogue import CATALOGUE, projection
from workbench.core.inference import summarize
from workbench.core.project import (SECTIONS, Project, ProjectError, new_id, validate_input, validate_layer,
                                    validate_layers, validate_project, with_param)

NO_MERGE = -1
_MERGE_PARAM, _MERGE_INPUT, _MERGE_SECTION = 1, 2, 3


class Command:
    """One edit. `text` names it in the Edit menu ("Undo Add Conv2d")."""

    text = "Edit"
    merge_id = NO_MERGE  # commands with the same non-negative id may merge (see `merge`)

    def redo(self, project: Project) -> None:
        raise NotImplementedError

    def undo(self, project: Project) -> None:
        raise NotImplementedError

    def merge(self, later: Command) -> bool:
        """Absorb `later` (already applied) into this one; True if merged."""
        return False

    def apply(self, project: Project, undo: bool = False) -> None:
        """Redo (or undo) as one change: views redraw once however many layers it touches."""
        with project.batch():
            (self.undo if undo else self.redo)(project)


def _check(layers: list[dict]) -> list[dict]:
    """The layers validated as a graph (ProjectError naming the layer when not), normalized."""
    return validate_layers([validate_layer(i, layer) for i, layer in enumerate(layers)])


def _find(project: Project, layer_id: str) -> int:
    try:
        return project.index_of(layer_id)
    except KeyError:
        raise ProjectError(f"no layer with id {layer_id!r}") from None


def _name(project: Project, index: int) -> str:
    return f"layer {index} ({project.layer(index)['type']})"


def _reorder(project: Project, ids: list[str]) -> None:
    """Move layers until their ids read `ids` (a permutation of the current ids)."""
    for target, layer_id in enumerate(ids):
        current = project.index_of(layer_id)
        if current != target:
            project.move_layer(current, target)


class InsertLayers(Command):
    """Insert layers at `index` (palette drop, duplicate). New ids are fixed on the first redo so
    a redo after an undo brings back the very same layers."""

    def __init__(self, project: Project, index: int, layers: list[dict], text: str | None = None):
        if not layers:
            raise ProjectError("nothing to insert")
        self.index = max(0, min(index, len(project)))
        self.layers = [validate_layer(self.index + i, copy.deepcopy(layer)) for i, layer in enumerate(layers)]
        current = project.layers
        taken = {layer["id"] for layer in current}
        if self.layers[0]["id"] in taken:
            # A duplicate follows its originals: where the first original took its input (a residual
            # block's shortcut too), the copies take the output of the layer they are inserted after.
            entry = graph.declared_inputs(current, project.index_of(self.layers[0]["id"]))[0]
            renamed = {entry: current[self.index - 1]["id"] if self.index else graph.INPUT}
        else:
            renamed = {}
        for layer in self.layers:  # a duplicate keeps no id of its original
            if layer["id"] in taken:
                renamed[layer["id"]] = layer["id"] = new_id()
            taken.add(layer["id"])
        for layer in self.layers:  # copies take the copies' outputs, not the originals'
            if "inputs" in layer:
                layer["inputs"] = [renamed.get(s, s) for s in layer["inputs"]]
        _check(current[:self.index] + self.layers + current[self.index:])
        self.text = text or f"Add {', '.join(layer['type'] for layer in self.layers)}"

    @property
    def ids(self) -> list[str]:
        return [layer["id"] for layer in self.layers]

    def redo(self, project: Project) -> None:
        for offset, layer in enumerate(self.layers):
            project.insert_layer(self.index + offset, layer)

    def undo(self, project: Project) -> None:
        for layer_id in reversed(self.ids):
            project.remove_layer(project.index_of(layer_id))


class Rewire(Command):
    """Replace the whole layer list (a change of connections): undo puts the old list back."""

    def __init__(self, project: Project, after: list[dict], text: str):
        self.before = project.layers
        self.after = _check(after)
        self.text = text

    def redo(self, project: Project) -> None:
        project.set_layers(self.after)

    def undo(self, project: Project) -> None:
        project.set_layers(self.before)


class RemoveLayers(Rewire):
    """Remove layers; a layer that took a removed layer's output takes what that one took instead,
    so deleting a layer on a branch keeps the branch connected around the gap."""

    def __init__(self, project: Project, indices: list[int]):
        indices = sorted(set(indices))
        if not indices or indices[0] < 0 or indices[-1] >= len(project):
            raise ProjectError(f"no layer {indices} to remove" if indices else "no layer selected")
        layers = project.layers
        removed = [layers[i] for i in indices]
        super().__init__(project, graph.without(layers, [layer["id"] for layer in removed]),
                         f"Remove {', '.join(layer['type'] for layer in removed)}")


class MoveLayers(Command):
    """Move the layers at `indices` (kept in order) into the gap before layer `gap` (0…n)."""

    def __init__(self, project: Project, indices: list[int], gap: int):
        ids = [layer["id"] for layer in project.layers]
        indices = sorted(set(indices))
        if not indices or indices[0] < 0 or indices[-1] >= len(ids):
            raise ProjectError("no layer selected to move")
        gap = max(0, min(gap, len(ids)))
        moving = [ids[i] for i in indices]
        rest = [x for x in ids if x not in moving]
        at = gap - sum(1 for i in indices if i < gap)
        self.before, self.after = ids, rest[:at] + moving + rest[at:]
        by_id = {layer["id"]: layer for layer in project.layers}
        _check([by_id[i] for i in self.after])
        self.text = "Move " + ", ".join(project.layer(i)["type"] for i in indices)

    @property
    def changes_anything(self) -> bool:
        return self.before != self.after

    def redo(self, project: Project) -> None:
        _reorder(project, self.after)

    def undo(self, project: Project) -> None:
        _reorder(project, self.before)


class SetParam(Command):
    """Set one parameter (None resets a non-optional one to torch's default). Consecutive changes
    of the same parameter of the same layer merge into one step when both are `mergeable`
    (spin-box steps), so one Undo goes back to the value before the user started stepping."""

    merge_id = _MERGE_PARAM

    def __init__(self, project: Project, index: int, key: str, value: Any, mergeable: bool = True):
        if not 0 <= index < len(project):
            raise ProjectError(f"no layer {index}")
        self.old_layer = project.layer(index)
        kind = CATALOGUE[self.old_layer["type"]]
        if key not in [p.name for p in kind.params]:
            raise ProjectError(f"layer {index} ({kind.name}): no parameter '{key}'")
        self.new_layer = with_param(index, self.old_layer, key, value)  # raises ProjectError naming layer and key
        self.layer_id, self.key, self.value, self.mergeable = self.old_layer["id"], key, value, mergeable
        self.text = f"Set {kind.name} {key}"

    def _put(self, project: Project, layer: dict) -> None:
        index = project.index_of(self.layer_id)
        value = layer.get(self.key)
        if self.key in layer or value is None and not CATALOGUE[layer["type"]].param(self.key).optional:
            project.set_param(index, self.key, value)
        else:  # the key was absent and None would be stored explicitly: put the layer back whole
            project.remove_layer(index)
            project.insert_layer(index, layer)

    def redo(self, project: Project) -> None:
        self._put(project, self.new_layer)

    def undo(self, project: Project) -> None:
        self._put(project, self.old_layer)

    def merge(self, later: Command) -> bool:
        if not (isinstance(later, SetParam) and self.mergeable and later.mergeable
                and (later.layer_id, later.key) == (self.layer_id, self.key)):
            return False
        self.new_layer, self.value = later.new_layer, later.value
        return True


class SetInput(Command):
    merge_id = _MERGE_INPUT
    text = "Set input"

    def __init__(self, project: Project, shape: list[int], mergeable: bool = True):
        self.new, self.old, self.mergeable = validate_input(list(shape)), project.input, mergeable

    def redo(self, project: Project) -> None:
        project.set_input(self.new)

    def undo(self, project: Project) -> None:
        project.set_input(self.old)

    def merge(self, later: Command) -> bool:
        if not (isinstance(later, SetInput) and self.mergeable and later.mergeable):
            return False
        self.new = later.new
        return True


class SetSection(Command):
    """Replace the "data" or "training" section (training settings are edits too). Consecutive
    changes of the same setting merge into one step, as spin-box steps on a layer do."""

    merge_id = _MERGE_SECTION

    def __init__(self, project: Project, name: str, value: dict):
        if name not in SECTIONS:
            raise ProjectError(f"unknown section {name!r}")
        if not isinstance(value, dict):
            raise ProjectError(f"'{name}' must be an object")
        self.name, self.new = name, copy.deepcopy(value)
        self.had = name in project.to_dict()
        self.old = project.section(name)
        self.text = f"Change {name} settings"

    @property
    def keys(self) -> set[str]:
        """The settings this edit changes."""
        return {k for k in self.old.keys() | self.new.keys() if self.old.get(k) != self.new.get(k)}

    def redo(self, project: Project) -> None:
        project.set_section(self.name, self.new)

    def merge(self, later: Command) -> bool:
        if not (isinstance(later, SetSection) and later.name == self.name and later.keys == self.keys):
            return False
        self.new = later.new
        return True

    def undo(self, project: Project) -> None:
        if self.had:
            project.set_section(self.name, self.old)
        else:  # the project had no such section: restore it exactly, without an empty one
            doc = project.to_dict()
            doc.pop(self.name, None)
            project.replace(doc)


class ReplaceProject(Command):
    """Swap in a whole project (template load)."""

    def __init__(self, project: Project, doc: dict, text: str = "Load project"):
        self.new, self.old, self.text = validate_project(doc), project.to_dict(), text

    def redo(self, project: Project) -> None:
        project.replace(self.new)

    def undo(self, project: Project) -> None:
        project.replace(self.old)


class Connect(Rewire):
    """Connect `source`'s output (a layer id, or "input") to the merge layer `target` (drag from a
    card's output onto an Add or Concat)."""

    def __init__(self, project: Project, source: str, target: str):
        t = _find(project, target)
        s = -1 if source == graph.INPUT else _find(project, source)
        layers = project.layers
        inputs = graph.declared_inputs(layers, t)
        kind = layers[t]["type"]
        if kind not in graph.MERGES:
            raise ProjectError(f"{_name(project, t)} takes one input: connect into an Add or a Concat "
                               f"(or add a skip connection, which inserts one)")
        if s >= t:
            raise ProjectError(f"{_name(project, t)} can only take an earlier layer's output, and layer {s} "
                               f"comes {'after it' if s > t else 'is this layer'}")
        if source in inputs:
            raise ProjectError(f"{_name(project, t)} already takes {'the input' if s < 0 else f'layer {s}'}'s output")
        super().__init__(project, graph.with_inputs(layers, t, [*inputs, source]), f"Connect to {kind}")


class Disconnect(Rewire):
    """Take `source`'s output away from the merge layer `target` (which keeps at least one input)."""

    def __init__(self, project: Project, source: str, target: str):
        t = _find(project, target)
        layers = project.layers
        inputs = graph.declared_inputs(layers, t)
        if source not in inputs:
            raise ProjectError(f"{_name(project, t)} does not take {source!r}")
        if len(inputs) == 1:
            raise ProjectError(f"{_name(project, t)}: its only input cannot be disconnected; delete the layer instead")
        rest = [i for i in inputs if i != source]
        super().__init__(project, graph.with_inputs(layers, t, rest), f"Disconnect from {layers[t]['type']}")


class AddSkip(Rewire):
    """A skip connection from `source` (a layer id or "input") to just after layer `after`: a new
    merge (Add or Concat) takes both outputs, and whatever took `after`'s output takes the merge's."""

    def __init__(self, project: Project, source: str, after: str, merge: str = "Add"):
        if merge not in graph.MERGES:
            raise ProjectError(f"a skip connection merges with {' or '.join(graph.MERGES)}, not {merge!r}")
        a = _find(project, after)
        s = -1 if source == graph.INPUT else _find(project, source)
        if s >= a:
            raise ProjectError(f"a skip connection runs forward: from an earlier layer to {_name(project, a)}, "
                               f"but layer {s} {'comes after it' if s > a else 'is that layer'}")
        layers = graph.pinned(project.layers)
        self.merge_layer = new_id()  # the new merge's id
        for layer in layers[a + 1:]:
            layer["inputs"] = [self.merge_layer if i == after else i for i in layer["inputs"]]
        layers.insert(a + 1, {"type": merge, "id": self.merge_layer, "inputs": [after, source]})
        super().__init__(project, layers, f"Add a skip connection ({merge})")


class InsertOnEdge(Rewire):
    """Insert a chain of new layers on the connection `source` → `target`: placed just above
    `target`, the first takes `source`'s output and `target` takes the last one's instead."""

    def __init__(self, project: Project, source: str, target: str, layers: list[dict], text: str | None = None):
        if not layers:
            raise ProjectError("nothing to insert")
        t = _find(project, target)
        current = graph.pinned(project.layers)
        if source not in current[t]["inputs"]:
            raise ProjectError(f"{_name(project, t)} does not take {source!r}: no such connection")
        taken = {layer["id"] for layer in current}
        chain: list[dict] = []
        for layer in layers:
            new = {k: v for k, v in layer.items() if k not in ("id", "inputs")}
            new["id"] = new_id()
            while new["id"] in taken:
                new["id"] = new_id()
            new["inputs"] = [chain[-1]["id"] if chain else source]
            chain.append(new)
        current[t]["inputs"] = [chain[-1]["id"] if i == source else i for i in current[t]["inputs"]]
        self.ids = [layer["id"] for layer in chain]
        super().__init__(project, current[:t] + chain + current[t:],
                         text or f"Insert {', '.join(layer['type'] for layer in chain)}")


class MoveOnEdge(Rewire):
    """Move layers (one, or a chain in which each takes the one before) onto the connection
    `source` → `target`: the gap they leave closes (as a delete closes it), they go just above
    `target`, the first taking `source`'s output and `target` the last one's. With `target` None
    they go just after `source`, taking its output, and nothing else changes (the end of a branch,
    or after the network's last layer). The builder's card drag on a network with branches. They
    keep their ids, so a run's probes still find them."""

    def __init__(self, project: Project, ids: list[str], source: str, target: str | None):
        if not ids:
            raise ProjectError("no layer selected to move")
        order = sorted(ids, key=lambda i: _find(project, i))
        layers = project.layers
        moving = [layers[project.index_of(i)] for i in order]
        for k, layer in enumerate(moving):
            if layer["type"] in graph.MERGES:
                raise ProjectError(f"{_name(project, project.index_of(layer['id']))} stays where its inputs meet: "
                                   f"delete it and add a skip connection where it should be")
            if k and graph.declared_inputs(layers, project.index_of(layer["id"])) != [order[k - 1]]:
                raise ProjectError("move one layer, or layers that follow one another on one branch")
        if source in order or target in order:
            raise ProjectError("the layers are already there")
        if source != graph.INPUT:
            _find(project, source)
        rest = graph.pinned(graph.without(layers, order))
        chain = [{**layer, "inputs": [order[k - 1] if k else source]} for k, layer in enumerate(moving)]
        if target is None:
            at = 0 if source == graph.INPUT else next(i for i, layer in enumerate(rest) if layer["id"] == source) + 1
        else:
            _find(project, target)
            at = next(i for i, layer in enumerate(rest) if layer["id"] == target)
            if source not in rest[at]["inputs"]:
                raise ProjectError(f"{_name(project, project.index_of(target))} does not take {source!r}: "
                                   f"no such connection")
            rest[at]["inputs"] = [order[-1] if i == source else i for i in rest[at]["inputs"]]
        super().__init__(project, rest[:at] + chain + rest[at:], "Move " + ", ".join(layer["type"] for layer in moving))


def projection_fix(project: Project, merge: str) -> tuple[str, dict] | None:
    """For an Add whose inputs differ in volume: the input to project and the layer that fixes it
    (a 1×1 Conv2d with the first input's depth and the stride that matches its size, as ResNet's
    projection shortcut; a Linear for vectors). None when the layer is no such Add."""
    m = _find(project, merge)
    rows = summarize(project)["layers"]
    row = rows[m]
    if row["type"] != "Add" or row["status"] != "error":
        return None
    shape_of = {r["id"]: r["output"] for r in rows}
    shape_of[graph.INPUT] = project.input
    shapes = [shape_of.get(i) for i in row["inputs"]]
    ref = shapes[0]
    if ref is None:
        return None
    for source, shape in zip(row["inputs"][1:], shapes[1:]):
        if shape is None:
            return None
        if shape != ref:
            layer = projection(tuple(shape), tuple(ref))
            return (source, layer) if layer is not None else None
    return None


class InsertProjection(InsertOnEdge):
    """The one-click fix for an Add whose inputs differ in volume (see `projection_fix`)."""

    def __init__(self, project: Project, merge: str):
        fix = projection_fix(project, merge)
        if fix is None:
            raise ProjectError(f"{_name(project, _find(project, merge))}: no 1×1 projection makes its inputs agree")
        source, layer = fix
        super().__init__(project, source, merge, [layer], "Insert 1×1 projection" if layer["type"] == "Conv2d"
                         else "Insert projection")


class History:
    """A minimal undo stack over one project (headless use and tests), merging like QUndoStack."""

    def __init__(self, project: Project):
        self.project = project
        self.done: list[Command] = []
        self.undone: list[Command] = []

    def push(self, command: Command) -> None:
        command.apply(self.project)
        self.undone.clear()
        last = self.done[-1] if self.done else None
        if last is not None and command.merge_id != NO_MERGE and last.merge_id == command.merge_id \
                and last.merge(command):
            return
        self.done.append(command)

    def undo(self) -> bool:
        return self._step(self.done, self.undone, undo=True)

    def redo(self) -> bool:
        return self._step(self.undone, self.done, undo=False)

    def _step(self, source: list[Command], target: list[Command], undo: bool) -> bool:
        if not source:
            return False
        command = source.pop()
        command.apply(self.project, undo)
        target.append(command)
        return True
