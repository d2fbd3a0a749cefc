"""Undoable edits over the core project, headless."""
import random

import pytest

from workbench.core.catalogue import CATALOGUE
from workbench.core.commands import (History, InsertLayers, MoveLayers, RemoveLayers, ReplaceProject, SetInput,
                                     SetParam, SetSection)
from workbench.core.inference import summarize
from workbench.core.project import Project, ProjectError
from workbench.core.templates import TEMPLATES, template


def _types(project: Project) -> list[str]:
    return [layer["type"] for layer in project.layers]


def test_set_param_reinfers_and_undo_restores_alexnet_conv1():
    project = Project(template("alexnet"))
    history = History(project)
    history.push(SetParam(project, 0, "padding", 2))
    row = summarize(project)["layers"][0]
    assert row["output"] == [96, 56, 56] and row["formula"] == "1 + (227 − 11 + 2·2)/4 = 56"
    history.undo()
    assert summarize(project)["layers"][0]["formula"] == "1 + (227 − 11 + 2·0)/4 = 55"
    assert "padding" not in project.layer(0)  # not even an explicit 0: the file is as it was


def test_consecutive_steps_on_one_parameter_merge_into_one_undo():
    project = Project(template("digits-cnn"))
    history = History(project)
    for channels in (17, 18, 19, 20):
        history.push(SetParam(project, 0, "out_channels", channels))
    history.push(SetParam(project, 0, "kernel_size", 5))
    assert len(history.done) == 2
    history.undo()
    assert project.layer(0)["out_channels"] == 20
    history.undo()
    assert project.layer(0)["out_channels"] == 16
    history.push(SetParam(project, 0, "out_channels", 8, mergeable=False))
    history.push(SetParam(project, 0, "out_channels", 9, mergeable=False))
    assert len(history.done) == 2


def test_out_of_range_value_is_refused_before_anything_changes():
    project = Project(template("digits-cnn"))
    before = project.to_dict()
    with pytest.raises(ProjectError, match=r"layer 0 \(Conv2d\): 'kernel_size'.*out of range"):
        SetParam(project, 0, "kernel_size", 5000)
    with pytest.raises(ProjectError, match="input"):
        SetInput(project, [0, 8, 8])
    assert project.to_dict() == before


def test_insert_remove_move_and_their_undo():
    project = Project(template("digits-cnn"))
    history = History(project)
    original = _types(project)
    insert = InsertLayers(project, 2, [CATALOGUE["BatchNorm2d"].new_layer()])
    history.push(insert)
    assert _types(project)[2] == "BatchNorm2d"
    history.push(MoveLayers(project, [0, 1], 4))  # conv+relu after the batchnorm and the second conv
    assert _types(project)[:5] == ["BatchNorm2d", "Conv2d", "Conv2d", "ReLU", "ReLU"]
    history.push(RemoveLayers(project, [0, 3]))
    assert _types(project)[:3] == ["Conv2d", "Conv2d", "ReLU"]
    for _ in range(3):
        history.undo()
    assert _types(project) == original
    history.redo()
    assert project.layer(2)["id"] == insert.ids[0]  # redo brings back the same layer


def test_duplicate_gets_fresh_ids():
    project = Project(template("digits-cnn"))
    history = History(project)
    history.push(InsertLayers(project, 2, [project.layer(0), project.layer(1)]))
    ids = [layer["id"] for layer in project.layers]
    assert len(set(ids)) == len(ids) and _types(project)[:4] == ["Conv2d", "ReLU", "Conv2d", "ReLU"]


def test_template_load_and_sections_undo_exactly():
    project = Project({"input": [1, 8, 8], "layers": []})
    before = project.to_dict()
    history = History(project)
    history.push(ReplaceProject(project, template("alexnet")))
    history.push(SetSection(project, "training", {"epochs": 3}))
    assert summarize(project)["total_params"] == 62_378_344
    history.undo()
    history.undo()
    assert project.to_dict() == before


def _random_command(project: Project, rng: random.Random):
    n = len(project)
    op = rng.choice(["insert", "insert", "remove", "move", "param", "param", "param", "input", "template"])
    if op == "insert":
        return InsertLayers(project, rng.randint(0, n), [CATALOGUE[rng.choice(list(CATALOGUE))].new_layer()])
    if op == "remove":
        return RemoveLayers(project, rng.sample(range(n), rng.randint(1, min(3, n))) if n else [])
    if op == "move":
        return MoveLayers(project, rng.sample(range(n), rng.randint(1, min(3, n))) if n else [], rng.randint(0, n))
    if op == "input":
        return SetInput(project, rng.choice([[1, 8, 8], [3, 32, 32], [3, 227, 227], [64], [0, 1, 1]]))
    if op == "template":
        return ReplaceProject(project, template(rng.choice(list(TEMPLATES))))
    if not n:
        raise ProjectError("no layer")
    index = rng.randrange(n)
    params = CATALOGUE[project.layer(index)["type"]].params
    if not params:
        raise ProjectError("no parameter")
    param = rng.choice(params)
    value = {"int": rng.randint(-2, 300), "float": rng.uniform(-0.5, 3), "bool": rng.random() < 0.5,
             "choice": rng.choice(param.choices or ("x",)), "pair": rng.choice([rng.randint(0, 12), [2, 3], None]),
             "ints": [rng.randint(1, 8) for _ in range(rng.randint(1, 3))]}[param.kind]
    return SetParam(project, index, param.name, value, mergeable=rng.random() < 0.5)


def test_200_random_edits_never_raise_and_undo_all_restores_the_original():
    rng = random.Random(1234)
    project = Project(template("alexnet"))
    original = project.to_dict()
    history = History(project)
    applied = 0
    for _ in range(200):
        try:
            command = _random_command(project, rng)
        except ProjectError:
            continue  # refused with a message, like the window does
        history.push(command)
        applied += 1
        summarize(project)  # every state can be inferred
    assert applied > 120
    final = project.to_dict()
    while history.undo():
        pass
    assert project.to_dict() == original
    while history.redo():
        pass
    assert project.to_dict() == final


def test_a_multi_layer_edit_is_one_change_for_the_views() -> None:
    from workbench.core.commands import History, MoveLayers, RemoveLayers
    from workbench.core.project import Project
    from workbench.core.templates import template

    project = Project(template("alexnet"))
    original = project.to_dict()
    history = History(project)
    seen: list[str] = []
    project.changed.connect(seen.append)
    history.push(RemoveLayers(project, [0, 1, 2, 3]))
    history.push(MoveLayers(project, [0, 1, 2], 10))
    history.undo()
    history.undo()
    assert seen == ["layers"] * 4
    assert project.to_dict() == original


def test_steps_of_one_training_setting_undo_in_one_go() -> None:
    from workbench.core.commands import History, SetSection
    from workbench.core.project import Project
    from workbench.core.templates import template

    project = Project(template("digits-cnn"))
    history = History(project)
    training = project.section("training")
    for lr in (0.003, 0.004, 0.005):
        history.push(SetSection(project, "training", {**project.section("training"), "lr": lr}))
    history.push(SetSection(project, "training", {**project.section("training"), "epochs": 5}))
    history.undo()
    assert project.section("training") == {**training, "lr": 0.005}
    history.undo()
    assert project.section("training") == training
