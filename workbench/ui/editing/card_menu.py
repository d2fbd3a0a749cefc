"""A card's context menu: skip connections, a merge's inputs, the 1×1 projection fix, and the
window's own card actions (Delete, Duplicate). Every entry is one undoable core command.

"Add a skip connection from…" on a card lists the layers before it (nearest first) whose output a
new merge after this card can take: to sum it (Add: the same volume, shown in bold) or to stack
it (Concat: the same H×W). A merge card can take more inputs ("Connect the output of…") and give
some up ("Disconnect").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QAction, QFont
from PySide6.QtWidgets import QMenu, QWidget

from workbench.core import graph
from workbench.core.commands import AddSkip, Command, Connect, Disconnect, InsertProjection, projection_fix
from workbench.core.project import Project
from workbench.core.summary import Summary, fmt_output
from workbench.ui.editing.undo import Editor

SOURCES_SHOWN = 12  # nearest candidates per list: a long network would make a menu taller than the screen


@dataclass(frozen=True)
class Source:
    """A layer (or the network's input) whose output a merge could take."""

    id: str
    text: str  # "#7 ReLU · 16×16×32"
    shape: tuple[int, ...] | None


def sources_before(summary: Summary, index: int) -> list[Source]:
    """The input and every layer before layer `index`, nearest first."""
    rows = summary["layers"]
    found = [Source(r["id"], f"#{r['index']} {r['label']} · {fmt_output(r['output'])}",
                    tuple(r["output"]) if r["output"] is not None else None) for r in reversed(rows[:index])]
    given = tuple(summary["input"])
    return [*found, Source(graph.INPUT, f"input · {fmt_output(list(given))}", given)]


def same_volume(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> bool:
    return a is not None and a == b


def same_size(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> bool:
    """Concat's rule: equal H×W (or both vectors)."""
    return a is not None and b is not None and len(a) == len(b) and (len(a) == 1 or a[1:] == b[1:])


def projection_text(layer: dict) -> str:
    if layer["type"] != "Conv2d":
        return f"Insert the projection ({layer['type']} to {layer.get('out_features')})"
    stride = layer.get("stride", 1)
    return f"Insert a 1×1 projection ({layer['out_channels']} filters{f', stride {stride}' if stride != 1 else ''})"


def card_menu(editor: Editor, summary: Summary, index: int, extra: list[QAction], parent: QWidget,
              done: Callable[[Command], None] = lambda command: None) -> QMenu:
    """The menu for layer `index`'s card (-1: the Input card); `extra`: the window's card actions;
    `done` gets each command the menu applied (the builder selects what it made)."""
    menu = QMenu(parent)

    def push(build: Callable[[Project], Command]) -> None:
        command = editor.push(build)
        if command is not None:
            done(command)

    if index >= 0:
        row = summary["layers"][index]
        here = tuple(row["output"]) if row["output"] is not None else None
        skip = menu.addMenu("Add a skip connection from…")
        skip.setToolTipsVisible(True)
        candidates = sources_before(summary, index)
        bold = QFont(menu.font())
        bold.setBold(True)
        skip.addSection("Sum with this card's output (Add)")
        for source in candidates[:SOURCES_SHOWN]:
            action = skip.addAction(source.text, lambda s=source.id: push(lambda p: AddSkip(p, s, row["id"], "Add")))
            if same_volume(source.shape, here):
                action.setFont(bold)
                action.setToolTip("The same volume: the sum needs nothing more")
            else:
                action.setToolTip("Another volume: the Add's badge then offers the 1×1 projection that fits it")
        stackable = [s for s in candidates if same_size(s.shape, here)][:SOURCES_SHOWN]
        if stackable:
            skip.addSection("Stack with this card's output (Concat)")
            for source in stackable:
                skip.addAction(source.text, lambda s=source.id: push(lambda p: AddSkip(p, s, row["id"], "Concat")))
        if row["type"] in graph.MERGES:
            taken = set(row["inputs"])
            more = [s for s in candidates if s.id not in taken][:SOURCES_SHOWN]
            if more:
                connect = menu.addMenu("Connect the output of…")
                for source in more:
                    connect.addAction(source.text, lambda s=source.id: push(lambda p: Connect(p, s, row["id"])))
            if len(row["inputs"]) > 1:
                disconnect = menu.addMenu("Disconnect")
                named = {s.id: s.text for s in candidates}
                for source_id in row["inputs"]:
                    disconnect.addAction(named.get(source_id, source_id),
                                         lambda s=source_id: push(lambda p: Disconnect(p, s, row["id"])))
            fix = projection_fix(editor.project, row["id"]) if row["status"] == "error" else None
            if fix is not None:
                menu.addAction(projection_text(fix[1]), lambda: push(lambda p: InsertProjection(p, row["id"])))
        menu.addSeparator()
    menu.addActions(extra)
    return menu
