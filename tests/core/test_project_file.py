"""Project files: round trips, and a clear message naming layer and key for every kind of bad input."""
import json

import pytest

from workbench.core.project import Project, ProjectError, parse_project, read_project, write_atomic
from workbench.core.templates import TEMPLATES, template


def error_for(doc: object) -> str:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    with pytest.raises(ProjectError) as info:
        parse_project(text, "net.json")
    assert isinstance(info.value, ValueError)
    return str(info.value)


@pytest.mark.parametrize("doc, expected", [
    ({"input": [1, 8, 8], "layers": [{"type": "Conv3d"}]}, "layer 0: unknown type \"Conv3d\" (did you mean 'Conv2d'?)"),
    ({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 4, "kernal_size": 3}]},
     "layer 0 (Conv2d): unknown key 'kernal_size' (did you mean 'kernel_size'?)"),
    ({"input": [1, 8, 8], "layers": [{"type": "ReLU"}, {"type": "Conv2d", "out_channels": "four", "kernel_size": 3}]},
     "layer 1 (Conv2d): 'out_channels' must be an integer in 1…65536, got \"four\""),
    ({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 4, "kernel_size": 0}]},
     "layer 0 (Conv2d): 'kernel_size' = 0 is out of range (1…1024)"),
    ({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 10 ** 12, "kernel_size": 3}]},
     "layer 0 (Conv2d): 'out_channels' = 1000000000000 is out of range"),
    ({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": True, "kernel_size": 3}]},
     "'out_channels' must be an integer"),
    ({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "kernel_size": 3}]}, "layer 0 (Conv2d): 'out_channels' is required"),
    ({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3}]},
     "'in_channels' follows from the previous layer"),
    ({"input": [1, 8, 8], "layers": [{"type": "Dropout", "p": 1.5}]}, "layer 0 (Dropout): 'p' = 1.5 is out of range"),
    ({"input": [1, 8, 8], "layers": [{"type": "Dropout", "p": float("nan")}]}, "'p' must be a number in 0…1, got nan"),
    ({"input": [1, 8, 8], "layers": [{"type": "Dropout", "p": 1e400}]}, "'p' must be a number in 0…1, got inf"),
    ({"input": [1, 8, 8], "layers": "conv"}, "'layers' must be a list"),
    ({"input": [1, 8, 8], "layers": [7]}, "layer 0: must be an object"),
    ({"input": [0, 8, 8]}, "input must be [C, H, W]"),
    ({"input": [1, 10 ** 9, 8]}, "is too large"),
    ({"layers": []}, "'input' is missing"),
    ({"format": "something-else", "input": [1, 8, 8]}, "is this a workbench project?"),
    ({"version": 7, "input": [1, 8, 8]}, "newer workbench (format version 7)"),
    ({"input": [1, 8, 8], "lay3rs": []}, "unknown top-level key 'lay3rs' (did you mean 'layers'?)"),
    ({"input": [1, 8, 8], "training": []}, "'training' must be an object"),
    ([1, 2, 3], "a project must be a JSON object"),
])
def test_bad_documents_name_what_and_where(doc: object, expected: str) -> None:
    message = error_for(doc)
    assert message.startswith("net.json: ")
    assert expected in message


@pytest.mark.parametrize("text, expected", [
    ('{"input": [1, 8, 8], "layers": [', "not valid JSON"),
    ("", "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
])
def test_truncated_garbage_and_deeply_nested_files(text: str, expected: str) -> None:
    with pytest.raises(ProjectError, match="net.json: .*" + expected.split()[0]):
        parse_project(text, "net.json")


def test_every_template_round_trips_through_a_file(tmp_path) -> None:
    for name in TEMPLATES:
        doc = template(name)
        path = tmp_path / f"{name}.json"
        write_atomic(path, json.dumps(doc))
        assert read_project(path) == doc


def test_ids_are_generated_and_kept() -> None:
    doc = parse_project(json.dumps({"input": [1, 8, 8], "layers": [{"type": "ReLU"}, {"type": "ReLU", "id": "mine"}]}))
    assert len(doc["layers"][0]["id"]) == 8 and doc["layers"][1]["id"] == "mine"
    assert "duplicate" not in json.dumps(doc)
    with pytest.raises(ProjectError, match="used twice"):
        parse_project(json.dumps({"input": [1, 8, 8], "layers": [{"type": "ReLU", "id": "a"}, {"type": "ReLU", "id": "a"}]}))


def test_missing_file_is_a_project_error(tmp_path) -> None:
    with pytest.raises(ProjectError, match="cannot read"):
        read_project(tmp_path / "nope.json")


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "net.json"
    path.write_text("old")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", broken_fsync)
    with pytest.raises(OSError):
        write_atomic(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]


def test_project_emits_changed_after_each_validated_edit() -> None:
    project = Project(template("digits-cnn"))
    seen: list[str] = []
    project.changed.connect(seen.append)
    project.set_param(0, "out_channels", 8)
    with pytest.raises(ProjectError, match="'kernel_size' = 0 is out of range"):
        project.set_param(0, "kernel_size", 0)
    assert project.layer(0)["kernel_size"] == 3  # the refused edit changed nothing
    project.set_input([1, 16, 16])
    assert seen == ["layers", "input"]
