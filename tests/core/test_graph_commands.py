"""Editing connections: connect, disconnect, skip connections, insertion on a connection, the 1×1 projection
fix and deleting a layer on a branch, each undone exactly; where the builder draws each card."""
from __future__ import annotations

import random
import re

import pytest

from workbench.core import graph
from workbench.core.commands import (AddSkip, Connect, Disconnect, History, InsertLayers, InsertOnEdge,
                                     InsertProjection, MoveLayers, RemoveLayers, SetParam, projection_fix)
from workbench.core.graph import Edge, Place
from workbench.core.inference import summarize
from workbench.core.project import Project, ProjectError
from workbench.core.templates import template


def chain() -> Project:
    """input 8×8×4 → a conv 8 (8×8×8) → b relu → c conv 8 (8×8×8) → d relu."""
    return Project({"input": [4, 8, 8], "layers": [
        {"type": "Conv2d", "id": "a", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU", "id": "b"},
        {"type": "Conv2d", "id": "c", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "ReLU", "id": "d"}]})


def inputs(project: Project) -> dict[str, list[str]]:
    return {r["id"]: r["inputs"] for r in summarize(project)["layers"]}


def push_and_check_undo(project: Project, command) -> dict:
    """Apply, undo (exactly the file before), redo (exactly the file after); return the file after."""
    history = History(project)
    before = project.to_dict()
    history.push(command)
    after = project.to_dict()
    assert after != before
    history.undo()
    assert project.to_dict() == before
    history.redo()
    assert project.to_dict() == after
    return after


def test_a_skip_connection_inserts_an_add_that_the_next_layer_reads() -> None:
    project = chain()
    command = AddSkip(project, "b", after="c")
    after = push_and_check_undo(project, command)
    assert after["version"] == 2
    merge = command.merge_layer
    assert inputs(project)[merge] == ["c", "b"] and inputs(project)["d"] == [merge]
    assert summarize(project)["first_error"] is None


def test_a_skip_connection_whose_volumes_differ_gets_its_1x1_projection_in_one_click() -> None:
    project = chain()
    AddSkip(project, "input", after="c").apply(project)  # 8×8×8 + 8×8×4: Add needs one volume
    merge = project.layers[3]["id"]
    row = summarize(project)["layers"][3]
    assert row["status"] == "error" and "insert a 1×1 Conv2d with 8 filters after the input" in row["message"]
    assert projection_fix(project, merge) == ("input", {"type": "Conv2d", "out_channels": 8, "kernel_size": 1})
    command = InsertProjection(project, merge)
    push_and_check_undo(project, command)
    summary = summarize(project)
    assert summary["first_error"] is None
    projection = summary["layers"][project.index_of(command.ids[0])]
    assert projection["inputs"] == ["input"] and projection["output"] == [8, 8, 8]
    assert projection["params"] == 1 * 1 * 4 * 8 + 8
    assert summary["layers"][project.index_of(merge)]["inputs"] == ["c", command.ids[0]]
    with pytest.raises(ProjectError, match="no 1×1 projection"):
        InsertProjection(project, merge)  # nothing left to fix


def test_connect_and_disconnect_a_merges_inputs() -> None:
    project = Project(template("inception-block"))
    mixed = "mixed"
    after = push_and_check_undo(project, Disconnect(project, "b5x5_relu", mixed))
    assert inputs(project)[mixed] == ["b1x1_relu", "b3x3_relu", "bpool_relu"]
    row = summarize(project)["layers"][project.index_of("b5x5_relu")]
    assert row["status"] == "error" and "goes nowhere" in row["message"]  # the branch is now a dead end
    push_and_check_undo(project, Connect(project, "b5x5_relu", mixed))
    assert inputs(project)[mixed] == ["b1x1_relu", "b3x3_relu", "bpool_relu", "b5x5_relu"]
    assert after != project.to_dict()


@pytest.mark.parametrize("build, message", [
    (lambda p: Connect(p, "a", "c"), "layer 2 (Conv2d) takes one input: connect into an Add or a Concat"),
    (lambda p: Connect(p, "d", "sum"), "can only take an earlier layer's output"),
    (lambda p: Connect(p, "c", "sum"), "already takes layer 2's output"),
    (lambda p: Disconnect(p, "a", "sum"), "does not take 'a'"),
    (lambda p: Disconnect(p, "b", "c"), "its only input cannot be disconnected"),
    (lambda p: AddSkip(p, "d", after="b"), "a skip connection runs forward"),
    (lambda p: InsertOnEdge(p, "a", "d", [{"type": "ReLU"}]), "no such connection"),
    (lambda p: Connect(p, "zz", "sum"), "no layer with id 'zz'"),
    (lambda p: MoveLayers(p, [3], 0), "which depends on layer 0: a cycle (#0 → #1 → #2 → #3 → #0)"),
])
def test_refused_edits_say_why_and_change_nothing(build, message: str) -> None:
    project = chain()
    AddSkip(project, "b", after="c").apply(project)
    project.set_layers([{**layer, "id": "sum"} if layer["type"] == "Add" else layer for layer in project.layers])
    before = project.to_dict()
    with pytest.raises(ProjectError, match=re.escape(message)):
        build(project)
    assert project.to_dict() == before


def test_deleting_a_layer_on_a_branch_reconnects_around_it() -> None:
    project = Project(template("resnet-20"))
    push_and_check_undo(project, RemoveLayers(project, [project.index_of("l2b1_downbn")]))
    assert inputs(project)["l2b1_add"] == ["l2b1_bn2", "l2b1_down"]
    push_and_check_undo(project, RemoveLayers(project, [project.index_of("l2b1_down")]))
    assert inputs(project)["l2b1_add"] == ["l2b1_bn2", "l1b3_out"]  # the shortcut is an identity again …
    row = summarize(project)["layers"][project.index_of("l2b1_add")]
    assert "insert a 1×1 Conv2d with 32 filters and stride 2 after #" in row["message"]  # … which does not fit


def test_deleting_a_main_path_layer_keeps_the_chain_and_a_sequential_delete_is_unchanged() -> None:
    project = Project(template("inception-block"))
    RemoveLayers(project, [project.index_of("b3x3_reduce_relu")]).apply(project)
    assert inputs(project)["b3x3"] == ["b3x3_reduce"]
    project = chain()
    after = push_and_check_undo(project, RemoveLayers(project, [1, 2]))
    assert after["version"] == 1 and [layer["id"] for layer in after["layers"]] == ["a", "d"]
    assert "inputs" not in after["layers"][1]


def test_inserting_on_a_connection_keeps_the_other_branches() -> None:
    project = Project(template("unet-denoiser"))
    command = InsertOnEdge(project, "enc1", "skip1", [{"type": "Conv2d", "out_channels": 16, "kernel_size": 1}])
    push_and_check_undo(project, command)
    new = command.ids[0]
    assert inputs(project)[new] == ["enc1"] and inputs(project)["skip1"] == ["up1", new]
    assert inputs(project)["pool1"] == ["enc1"]  # the encoder's own path is untouched
    assert summarize(project)["first_error"] is None


def test_duplicating_a_block_connects_the_copies_to_each_other() -> None:
    project = chain()
    AddSkip(project, "b", after="c").apply(project)
    block = project.layers[1:4]  # relu b, conv c, add [c, b]
    command = InsertLayers(project, 4, block, "Duplicate")
    command.apply(project)
    copies = command.ids
    assert inputs(project)[copies[2]] == [copies[1], copies[0]]  # the copied Add adds the copied layers
    project = Project(template("resnet-20"))
    first, last = project.index_of("l1b2_conv1"), project.index_of("l1b2_out")
    command = InsertLayers(project, last + 1, project.layers[first:last + 1], "Duplicate")
    push_and_check_undo(project, command)
    copy_add = command.ids[-2]
    assert inputs(project)[copy_add] == [command.ids[-3], "l1b2_out"]  # the copy's shortcut: the original's output
    assert inputs(project)["l1b3_conv1"] == [command.ids[-1]] and summarize(project)["first_error"] is None


def test_every_change_of_connections_is_one_change_for_the_views() -> None:
    project = chain()
    seen: list[str] = []
    project.changed.connect(seen.append)
    AddSkip(project, "a", after="c").apply(project)
    assert seen == ["layers"]


def test_random_graph_edits_never_raise_anything_but_project_errors_and_all_undo() -> None:
    rng = random.Random(7)
    project = Project(template("resnet-20"))
    original = project.to_dict()
    history = History(project)
    for _ in range(150):
        layers = project.layers
        ids = [layer["id"] for layer in layers]
        pick = lambda: rng.choice(ids)  # noqa: E731
        builders = [
            lambda p: AddSkip(p, rng.choice(["input", *ids]), after=pick(), merge=rng.choice(graph.MERGES)),
            lambda p: Connect(p, rng.choice(["input", *ids]), pick()),
            lambda p: Disconnect(p, rng.choice(["input", *ids]), pick()),
            lambda p: RemoveLayers(p, [rng.randrange(len(p))]),
            lambda p: InsertOnEdge(p, rng.choice(["input", *ids]), pick(), [{"type": "ReLU"}]),
            lambda p: InsertProjection(p, pick()),
            lambda p: MoveLayers(p, [rng.randrange(len(p))], rng.randrange(len(p) + 1)),
            lambda p: SetParam(p, rng.randrange(len(p)), "out_channels", rng.randint(1, 64)),
        ]
        try:
            history.push(rng.choice(builders)(project))
        except ProjectError:
            pass
        summarize(project)  # never raises, whatever the edits made
    while history.undo():
        pass
    assert project.to_dict() == original


def test_lanes_put_a_chain_in_one_lane_and_branches_side_by_side() -> None:
    layers = chain().layers
    assert graph.lanes(layers) == [Place(1, 0), Place(2, 0), Place(3, 0), Place(4, 0)]
    assert not any(e.skip for e in graph.edges(layers))
    layers = template("inception-block")["layers"]
    places = dict(zip((layer["id"] for layer in layers), graph.lanes(layers)))
    heads = [places[i] for i in ("b1x1", "b3x3_reduce", "b5x5_reduce", "bpool")]
    assert {p.row for p in heads} == {4} and sorted(p.lane for p in heads) == [0, 1, 2, 3]
    assert places["mixed"] == Place(8, 0) and places["fc"].lane == 0
    assert len(set(places.values())) == len(places)  # no two cards in one cell


def test_lanes_keep_the_main_path_in_lane_0_and_shortcuts_beside_it() -> None:
    layers = template("resnet-20")["layers"]
    places = dict(zip((layer["id"] for layer in layers), graph.lanes(layers)))
    assert {places[i].lane for i in ("conv1", "l1b1_conv1", "l2b1_bn2", "l2b1_add", "fc")} == {0}
    assert places["l2b1_down"].lane == 1 and places["l2b1_down"].row == places["l2b1_conv1"].row
    assert len(set(places.values())) == len(places)
    skips = [e for e in graph.edges(layers) if e.skip]
    index = {layer["id"]: i for i, layer in enumerate(layers)}
    assert Edge(index["l1b1_out"], index["l1b2_add"], 1, True) in skips  # the identity shortcut around the block
    assert Edge(index["l2b1_downbn"], index["l2b1_add"], 1, True) in skips
