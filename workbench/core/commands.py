"""Edits as undoable commands over the core `Project`.

A command is built against the current project and checks its input while being built (raising
`ProjectError` with the core's message), so a command that exists always applies: `redo` and `undo`
never fail. This matters in the window, where a QUndoStack calls `redo` from C++ and could not
recover from an exception half-way. `History` is a tiny undo stack for headless use and tests; the
window wraps the same commands in QUndoCommand (workbench/ui/editing/undo.py).

Commands find layers by id, not index, wherever a later edit could have shifted the indices.
"""
from __future__ import annotations

import copy
from typing import Any

from workbench.core.catalogue import CATALOGUE
from workbench.core.project import (SECTIONS, Project, ProjectError, validate_input, validate_layer, validate_project,
                                    with_param)

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
        taken = {layer["id"] for layer in project.layers}
        for layer in self.layers:  # a duplicate keeps no id of its original
            if layer["id"] in taken:
                layer.pop("id")
                layer["id"] = validate_layer(0, layer)["id"]
            taken.add(layer["id"])
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


class RemoveLayers(Command):
    def __init__(self, project: Project, indices: list[int]):
        indices = sorted(set(indices))
        if not indices or indices[0] < 0 or indices[-1] >= len(project):
            raise ProjectError(f"no layer {indices} to remove" if indices else "no layer selected")
        self.removed = [(i, project.layer(i)) for i in indices]
        self.text = f"Remove {', '.join(layer['type'] for _, layer in self.removed)}"

    def redo(self, project: Project) -> None:
        for _, layer in reversed(self.removed):
            project.remove_layer(project.index_of(layer["id"]))

    def undo(self, project: Project) -> None:
        for index, layer in self.removed:
            project.insert_layer(index, layer)


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
