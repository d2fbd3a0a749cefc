"""Every lesson loads, and its numbers are the course's: checked through inference and torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from workbench.core.catalogue import CATALOGUE, pair
from workbench.core.inference import summarize
from workbench.core.lessons import LESSONS, VIEWS, get_lesson

# The course's numbers, written here from the slides (not from lessons.py):
# lesson -> (selected layer's output [C, H, W] or [N], its parameters, without sharing)
COURSE = {
    "stride-1": ([1, 5, 5], None, None),  # 7×7 input, 3×3 filter, stride 1 -> 5×5
    "stride-2": ([1, 3, 3], None, None),  # ... stride 2 -> 3×3
    "zero-padding": ([1, 5, 5], None, None),  # P = 1 keeps 5×5
    "max-pooling": ([1, 2, 2], 0, None),  # pooling has no parameters
    "receptive-field": ([1, 28, 28], 76, None),  # 5×5×3 weights + 1 bias
    "fc-cifar10": ([1], 3_072, None),  # 32×32×3 = 3,072 weights
    "fc-400x400": ([1], 480_000, None),  # 400×400×3 = 480,000 weights
    "alexnet-conv1": ([96, 55, 55], 34_944, 105_705_600),  # 96·364 with sharing, 55·55·96·364 without
    "alexnet": ([96, 55, 55], 34_944, 105_705_600),
    "residual-block": ([128, 28, 28], 8_192, None),  # ResNet-18's 1×1 projection: 1·1·64·128 weights, no bias
    "autoencoder": ([16], None, None),
    "deep-autoencoder": ([2], None, None),
    "denoising-autoencoder": ([1, 8, 8], None, None),
    "layerwise-pretraining": ([48], None, None),
    "pca-vs-autoencoder": ([2], None, None),
}


def test_every_lesson_is_checked_here():
    assert set(COURSE) == set(LESSONS)


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_loads_and_its_selected_layer_has_the_course_numbers(name):
    lesson = LESSONS[name]
    doc = lesson.project
    assert doc["name"] == lesson.title and doc["layers"]
    assert lesson.view in VIEWS and lesson.steps and lesson.caption
    summary = summarize(doc)
    assert summary["first_error"] is None
    row = summary["layers"][lesson.layer]
    output, params, unshared = COURSE[name]
    assert row["output"] == output == lesson.expected["output"]
    if params is not None:
        assert row["params"] == params
    if unshared is not None:
        assert row["params_unshared"] == unshared == lesson.expected["params_unshared"]
    for key in ("params", "formula"):
        if key in lesson.expected:
            assert row[key] == lesson.expected[key]
    for step in lesson.steps:
        assert step.layer is None or 0 <= step.layer < len(doc["layers"])
    assert lesson.project["layers"][0]["id"] != doc["layers"][0]["id"]  # a fresh copy each time


def test_parameter_sharing_numbers_of_alexnets_first_layer():
    lesson = LESSONS["alexnet-conv1"]
    row = summarize(lesson.project)["layers"][0]
    assert row["formula"] == "1 + (227 − 11 + 2·0)/4 = 55"
    assert row["params"] // 96 == 11 * 11 * 3 + 1 == lesson.expected["per_neuron"] == 364
    assert row["params_unshared"] // 96 == 55 * 55 * (11 * 11 * 3 + 1) == lesson.expected["per_slice_unshared"]


def test_full_alexnet_volumes_are_the_lectures():
    lesson = LESSONS["alexnet"]
    summary = summarize(lesson.project)
    volumes = [r["output"] for r in summary["layers"] if r["type"] in ("Conv2d", "MaxPool2d")]
    # 55×55×96, 27×27×96, 27×27×256, 13×13×256, 13×13×384, 13×13×384, 13×13×256, 6×6×256 (slides, C×H×W here)
    assert volumes == [[96, 55, 55], [96, 27, 27], [256, 27, 27], [256, 13, 13], [384, 13, 13], [384, 13, 13],
                       [256, 13, 13], [256, 6, 6]] == lesson.expected["volumes"]
    assert summary["output"] == [1000] and summary["total_params"] == 62_378_344


def test_autoencoder_lessons_reproduce_their_input_through_a_smaller_code():
    for name in ("autoencoder", "deep-autoencoder", "denoising-autoencoder", "layerwise-pretraining",
                 "pca-vs-autoencoder"):
        lesson = LESSONS[name]
        summary = summarize(lesson.project)
        assert summary["output"] == summary["input"], name
        codes = [r["output"][0] for r in summary["layers"] if r["type"] == "Linear"]
        assert min(codes) == lesson.expected["code"] < np.prod(summary["input"]), name
        assert lesson.project["training"]["task"] == "autoencoder"
    assert LESSONS["layerwise-pretraining"].project["training"]["schedule"] == "layerwise"
    assert LESSONS["denoising-autoencoder"].project["layers"][0]["type"] == "Corruption"


ARITHMETIC = [name for name, lesson in LESSONS.items() if lesson.arithmetic is not None]


def test_the_course_arithmetic_lessons_are_there():
    assert ARITHMETIC == ["stride-1", "stride-2", "zero-padding", "max-pooling"]


@pytest.mark.parametrize("name", ARITHMETIC)
def test_arithmetic_matches_the_lessons_layer_and_torch(name):
    lesson = LESSONS[name]
    setup = lesson.arithmetic
    layer = lesson.project["layers"][lesson.layer]
    params = CATALOGUE[layer["type"]].resolve(layer)
    st_ = setup.run()
    # the grid the view slides over is the layer's own geometry: F, S, P and the output size
    stride = params["stride"] if params["stride"] is not None else params["kernel_size"]
    assert (st_.size, st_.stride, st_.padding) == (pair(params["kernel_size"])[0], pair(stride)[0],
                                                   pair(params.get("padding", 0))[0])
    assert list(st_.output.shape) == lesson.expected["output"][1:]
    assert list(st_.grid.shape) == lesson.project["input"][1:]
    x = torch.tensor(st_.grid)[None, None]
    if st_.kernel is not None:
        expected = F.conv2d(x, torch.tensor(st_.kernel)[None, None], stride=st_.stride, padding=st_.padding)
    else:
        expected = F.max_pool2d(x, st_.size, st_.stride)
    np.testing.assert_array_equal(st_.output, expected[0, 0].numpy())
    if "grid" in lesson.expected:
        assert st_.output.tolist() == lesson.expected["grid"]
    for step in lesson.steps:
        assert step.windows is None or 0 <= step.windows <= len(st_.windows)


def test_the_course_pooling_and_padding_numbers():
    assert LESSONS["max-pooling"].arithmetic.run().output.tolist() == [[6, 8], [3, 4]]
    assert LESSONS["max-pooling"].arithmetic.run("average").output.tolist() == [[3.25, 5.25], [2, 2]]
    padded = LESSONS["zero-padding"].arithmetic.run()
    assert padded.padded.shape == (7, 7) and padded.output[0, 0] == 114
    # the values the slide's text keeps: 139 85 / 84 128 ending rows 1-2, rows 3-5 in full
    assert padded.grid[0, -2:].tolist() == [139, 85] and padded.grid[1, -2:].tolist() == [84, 128]
    assert padded.grid[2:].tolist() == [[131, 99, 70, 129, 127], [80, 57, 115, 69, 134], [104, 126, 123, 95, 130]]
    assert padded.kernel.tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]


def test_an_unknown_lesson_names_the_lessons():
    with pytest.raises(ValueError, match="no lesson 'nope'; lessons: stride-1, stride-2"):
        get_lesson("nope")
    assert get_lesson("alexnet") is LESSONS["alexnet"]


def test_the_residual_lesson_says_what_the_app_says_without_the_projection():
    from workbench.core.commands import RemoveLayers
    from workbench.core.project import Project

    lesson = LESSONS["residual-block"]
    project = Project(lesson.project)
    RemoveLayers(project, [12, 13]).apply(project)  # the 1×1 projection and its BatchNorm
    row = summarize(project)["layers"][12]
    assert row["type"] == "Add" and row["message"] in lesson.steps[-1].caption
    assert row["message"].endswith("insert a 1×1 Conv2d with 128 filters and stride 2 after #6")
