"""Moving layers onto a connection (the builder's card drag on a network with branches): the gap closes,
the layers keep their ids, undo gives back exactly the file before; what cannot move says why."""
from __future__ import annotations

import re

import pytest

from workbench.core.commands import History, MoveOnEdge
from workbench.core.inference import summarize
from workbench.core.project import Project, ProjectError
from workbench.core.templates import template


def inputs(project: Project) -> dict[str, list[str]]:
    return {r["id"]: r["inputs"] for r in summarize(project)["layers"]}


def test_a_layer_moves_from_one_branch_onto_another_and_back_by_undo() -> None:
    project = Project(template("inception-block"))
    history = History(project)
    before = project.to_dict()
    history.push(MoveOnEdge(project, ["b5x5_reduce_relu"], "b1x1", "b1x1_relu"))
    got = inputs(project)
    assert got["b5x5"] == ["b5x5_reduce"]  # its old branch closed over the gap
    assert got["b5x5_reduce_relu"] == ["b1x1"] and got["b1x1_relu"] == ["b5x5_reduce_relu"]
    assert project.index_of("b5x5_reduce_relu") == project.index_of("b1x1_relu") - 1
    assert summarize(project)["first_error"] is None
    history.undo()
    assert project.to_dict() == before


def test_a_chain_moves_together_onto_the_main_line() -> None:
    project = Project(template("resnet-20"))
    command = MoveOnEdge(project, ["l2b1_downbn", "l2b1_down"], "flatten", "fc")
    command.apply(project)
    got = inputs(project)
    assert got["l2b1_down"] == ["flatten"] and got["l2b1_downbn"] == ["l2b1_down"] and got["fc"] == ["l2b1_downbn"]
    assert got["l2b1_add"] == ["l2b1_bn2", "l1b3_out"]  # the shortcut is an identity again


@pytest.mark.parametrize("ids, source, target, message", [
    (["l1b1_add"], "fc", "fc", "stays where its inputs meet"),
    (["l1b1_conv1", "l1b1_relu1"], "flatten", "fc", "follow one another on one branch"),
    (["avgpool"], "avgpool", "flatten", "already there"),
    (["avgpool"], "conv1", "flatten", "does not take 'conv1'"),
    ([], "conv1", "bn1", "no layer selected"),
])
def test_what_cannot_move_says_why_and_changes_nothing(ids, source, target, message) -> None:
    project = Project(template("resnet-20"))
    before = project.to_dict()
    with pytest.raises(ProjectError, match=re.escape(message)):
        MoveOnEdge(project, ids, source, target)
    assert project.to_dict() == before


def test_without_a_target_layers_move_to_the_end_of_the_network() -> None:
    project = Project(template("unet-denoiser"))
    before = project.to_dict()
    history = History(project)
    history.push(MoveOnEdge(project, ["noise"], "out", None))
    assert [layer["id"] for layer in project.layers][-2:] == ["out", "noise"]
    assert inputs(project)["enc1_conv"] == ["input"] and inputs(project)["noise"] == ["out"]
    assert summarize(project)["output"] == [3, 32, 32]
    history.undo()
    assert project.to_dict() == before
