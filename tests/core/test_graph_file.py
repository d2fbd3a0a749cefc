"""Project file version 2 (the contract): ids, "inputs", Add and Concat; version 1 unchanged; errors that
name the layer and the fix."""
import json

import pytest

from workbench.core.inference import format_table, summarize
from workbench.core.project import Project, ProjectError, parse_project, read_project, write_atomic
from workbench.core.summary import input_index, input_shape
from workbench.core.templates import TEMPLATES, template

BRANCHED = ("resnet-20", "resnet18", "unet-denoiser", "inception-block")


def residual(shortcut_channels: int = 8) -> dict:
    """input 8×8×C → conv a (8×8×8) → relu b → conv c (8×8×8) → Add [c, input] → Flatten → Linear 10."""
    return {"input": [shortcut_channels, 8, 8], "layers": [
        {"type": "Conv2d", "id": "a", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "ReLU", "id": "b"},
        {"type": "Conv2d", "id": "c", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "Add", "id": "sum", "inputs": ["c", "input"]},
        {"type": "Flatten", "id": "f"}, {"type": "Linear", "id": "fc", "out_features": 10}]}


def error_for(doc: dict) -> str:
    with pytest.raises(ProjectError) as info:
        parse_project(json.dumps(doc), "net.json")
    return str(info.value)


def test_version_1_files_open_unchanged_and_save_as_version_1(tmp_path) -> None:
    for name in TEMPLATES:
        if name in BRANCHED:
            continue
        doc = template(name)
        assert doc["version"] == 1 and not any("inputs" in layer for layer in doc["layers"])
        path = tmp_path / "v1.json"
        write_atomic(path, json.dumps(doc))
        assert read_project(path) == doc == Project(doc).to_dict()


def test_a_file_that_names_only_previous_layers_is_still_version_1() -> None:
    doc = parse_project(json.dumps({"version": 2, "input": [1, 8, 8], "layers": [
        {"type": "ReLU", "id": "a", "inputs": ["input"]}, {"type": "ReLU", "id": "b", "inputs": ["a"]}]}))
    assert doc["version"] == 1
    assert [layer.get("inputs") for layer in doc["layers"]] == [None, None]  # an older app reads this file


def test_branches_save_as_version_2_and_round_trip(tmp_path) -> None:
    for name in BRANCHED:
        doc = template(name)
        assert doc["version"] == 2
        path = tmp_path / f"{name}.json"
        write_atomic(path, json.dumps(doc))
        assert read_project(path) == doc
    doc = parse_project(json.dumps(residual()))
    assert doc["version"] == 2
    assert doc["layers"][3] == {"type": "Add", "id": "sum", "inputs": ["c", "input"]}
    assert "inputs" not in doc["layers"][4]  # its input is the previous layer's output


def test_a_merge_alone_makes_version_2_as_an_older_app_does_not_know_it() -> None:
    assert Project({"input": [4], "layers": [{"type": "Concat"}]}).to_dict()["version"] == 2


def test_a_newer_file_gets_a_clear_message() -> None:
    message = error_for({"version": 3, "input": [1, 8, 8], "layers": []})
    assert "written by a newer workbench (format version 3)" in message and "update workbench" in message


@pytest.mark.parametrize("layers, expected", [
    ([{"type": "ReLU", "id": "a", "inputs": ["nope"]}],
     "layer 0 (ReLU): input 'nope' is no layer of this network; use 'input' or the id of an earlier layer"),
    ([{"type": "ReLU", "id": "a"}, {"type": "ReLU", "id": "b", "inputs": ["aa"]}],
     "layer 1 (ReLU): input 'aa' is no layer of this network (did you mean 'a'?)"),
    ([{"type": "ReLU", "id": "a", "inputs": ["b"]}, {"type": "ReLU", "id": "b", "inputs": ["input"]}],
     "layer 0 (ReLU): its input 'b' is layer 1, which comes after it; a layer takes only earlier layers' outputs: "
     "move layer 1 above layer 0"),
    ([{"type": "ReLU", "id": "a", "inputs": ["c"]}, {"type": "ReLU", "id": "b"}, {"type": "ReLU", "id": "c"}],
     "layer 0 (ReLU): its input 'c' is layer 2, which depends on layer 0: a cycle (#0 → #1 → #2 → #0); "
     "remove one of these connections"),
    ([{"type": "Add", "id": "a", "inputs": ["a", "input"]}], "layer 0 (Add): takes its own output (a cycle)"),
    ([{"type": "ReLU", "id": "a"}, {"type": "Conv2d", "out_channels": 4, "kernel_size": 3, "inputs": ["a", "input"]}],
     "layer 1 (Conv2d): takes one input but 'inputs' lists 2: merge them with an Add or a Concat first"),
    ([{"type": "Add", "id": "a", "inputs": ["input", "input"]}], "layer 0 (Add): input 'input' is listed twice"),
    ([{"type": "ReLU", "id": "input"}], "layer 0 (ReLU): id 'input' names the network's input"),
    ([{"type": "ReLU", "inputs": []}], "layer 0 (ReLU): 'inputs' must be a list of 1 to 64 layer ids"),
    ([{"type": "ReLU", "inputs": "a"}], "layer 0 (ReLU): 'inputs' must be a list"),
])
def test_structure_errors_name_the_layer_and_the_fix(layers: list, expected: str) -> None:
    message = error_for({"input": [1, 8, 8], "layers": layers})
    assert message.startswith("net.json: ") and expected in message


def test_add_of_two_volumes_says_which_and_offers_the_1x1_projection() -> None:
    row = summarize(residual(shortcut_channels=4))["layers"][3]
    assert row["status"] == "error"
    assert row["message"] == ("Add needs one volume: 8×8×8 from #2 and 8×8×4 from the input — insert a 1×1 Conv2d "
                              "with 8 filters after the input")
    doc = residual()
    doc["input"] = [8, 16, 16]
    doc["layers"][0]["stride"] = 2  # the main path halves the size: the projection needs stride 2
    row = summarize(doc)["layers"][3]
    assert row["message"].endswith("8×8×8 from #2 and 16×16×8 from the input — insert a 1×1 Conv2d with 8 filters "
                                   "and stride 2 after the input")


def test_the_issues_add_message_on_its_numbers() -> None:
    layers = [{"type": "Conv2d", "id": f"c{i}", "out_channels": 32, "kernel_size": 3, "padding": 1} for i in range(8)]
    layers += [{"type": "Conv2d", "id": f"d{i}", "out_channels": 64, "kernel_size": 3, "padding": 1} for i in range(4)]
    layers += [{"type": "Add", "id": "sum", "inputs": ["d3", "c7"]}]
    row = summarize({"input": [3, 16, 16], "layers": layers})["layers"][12]
    assert row["message"] == ("Add needs one volume: 16×16×64 from #11 and 16×16×32 from #7 — insert a 1×1 Conv2d "
                              "with 64 filters after #7")


def test_concat_needs_equal_height_and_width_and_says_how_to_get_there() -> None:
    doc = {"input": [3, 16, 16], "layers": [
        {"type": "Conv2d", "id": "a", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"type": "MaxPool2d", "id": "p", "kernel_size": 2},
        {"type": "Concat", "id": "cat", "inputs": ["p", "a"]}]}
    row = summarize(doc)["layers"][2]
    assert row["message"] == ("Concat needs equal H×W: 8×8 from #1 and 16×16 from #0 — insert a MaxPool2d with "
                              "kernel 2 after #0, or an Upsample ×2 after #1")
    doc["layers"][2]["inputs"] = ["p", "p2"]  # the fix: pool the 16×16 one too
    doc["layers"].insert(2, {"type": "MaxPool2d", "id": "p2", "kernel_size": 2, "inputs": ["a"]})
    row = summarize(doc)["layers"][3]
    assert (row["status"], row["output"], row["formula"]) == ("ok", [8, 8, 8], "depth 4 + 4 = 8")


def test_concat_stacks_depths_and_writes_the_sum() -> None:
    row = summarize(template("inception-block"))["layers"][16]
    assert row["type"] == "Concat" and row["output"] == [56, 16, 16]
    assert row["formula"] == "depth 16 + 24 + 8 + 8 = 56"


def test_a_merge_with_one_input_and_an_output_used_by_nothing_are_errors() -> None:
    rows = summarize({"input": [2, 4, 4], "layers": [{"type": "Add"}]})["layers"]
    assert rows[0]["status"] == "error" and "Add merges two or more inputs but has one" in rows[0]["message"]
    doc = residual()
    doc["layers"][4]["inputs"] = ["b"]  # Flatten now reads the ReLU: the Add's output goes nowhere
    summary = summarize(doc)
    row = summary["layers"][3]
    assert row["status"] == "error" and row["output"] == [8, 8, 8]
    assert row["message"] == "its output goes nowhere: connect it to a later layer (an Add or a Concat), or delete it"
    assert summary["first_error"] == 3


def test_only_layers_downstream_of_an_error_are_unknown() -> None:
    doc = {"input": [3, 8, 8], "layers": [
        {"type": "Conv2d", "id": "a", "out_channels": 4, "kernel_size": 9},  # too large: an error
        {"type": "Conv2d", "id": "b", "out_channels": 4, "kernel_size": 3, "padding": 1, "inputs": ["input"]},
        {"type": "Concat", "id": "c", "inputs": ["b", "a"]}]}
    rows = summarize(doc)["layers"]
    assert [r["status"] for r in rows] == ["error", "ok", "unknown"]
    assert rows[2]["message"] == "shape unknown: layer 0 above has an error"


def test_receptive_field_is_the_largest_over_the_paths() -> None:
    doc = {"input": [1, 32, 32], "layers": [
        {"type": "Conv2d", "id": "big", "out_channels": 1, "kernel_size": 7, "padding": 3},
        {"type": "Conv2d", "id": "small", "out_channels": 1, "kernel_size": 3, "padding": 1, "inputs": ["input"]},
        {"type": "Add", "id": "sum", "inputs": ["small", "big"]},
        {"type": "Conv2d", "id": "after", "out_channels": 1, "kernel_size": 3, "padding": 1}]}
    rows = summarize(doc)["layers"]
    assert [r["receptive_field"] for r in rows] == [7, 3, 7, 9]


def test_summary_lists_each_layers_inputs() -> None:
    summary = summarize(residual())
    assert [r["inputs"] for r in summary["layers"]] == [["input"], ["a"], ["b"], ["c", "input"], ["sum"], ["f"]]
    table = format_table(summary).splitlines()
    assert table[0].split()[:3] == ["#", "layer", "inputs"]
    assert table[6].split()[:3] == ["3", "Add", "2,"] and " input " in table[6]


def test_what_flows_into_a_layer_comes_from_its_input_not_the_card_above() -> None:
    summary = summarize(template("inception-block"))
    index = {r["id"]: r["index"] for r in summary["layers"]}
    pool = index["bpool"]  # listed after the 5×5 branch, it pools the stem's output
    assert input_index(summary, pool) == index["stem"] != pool - 1
    assert input_shape(summary, pool) == [32, 16, 16] and input_shape(summary, 0) == [3, 32, 32]
