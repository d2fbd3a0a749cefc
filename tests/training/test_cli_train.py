"""`workbench train`: JSON lines on stdout, one-line errors, resumable run folders."""
import json

from workbench.__main__ import main
from workbench.core.project import dumps_project
from workbench.core.templates import template


def tiny_spec(tmp_path):
    doc = template("digits-cnn")
    doc["data"] = {"dataset": "digits", "count": 200}
    path = tmp_path / "tiny.json"
    path.write_text(dumps_project(doc))
    return str(path)


def test_train_prints_well_formed_json_lines(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", tiny_spec(tmp_path), "--epochs", "2", "--batch-size", "32", "--lr", "0.003",
               "--optimizer", "sgd", "--seed", "1", "--device", "cpu", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0 and captured.err == ""  # no progress bar when stderr is not a terminal
    events = [json.loads(line) for line in captured.out.splitlines()]
    assert [e["event"] for e in events] == ["start", "epoch", "epoch", "done"]
    assert events[1]["epoch"] == 1 and 0 <= events[1]["val_accuracy"] <= 1 and events[1]["samples_per_s"] > 0
    assert events[-1] == {**events[-1], "status": "finished", "run_dir": str(out)}
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["optimizer"] == "sgd" and config["training"]["lr"] == 0.003

    rc = main(["train", "--resume", str(out), "--epochs", "3"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and [e["epoch"] for e in events if e["event"] == "epoch"] == [3]


def test_denoise_task_from_flags(tmp_path, capsys):
    doc = template("autoencoder")
    doc["data"] = {"dataset": "digits", "count": 100}
    spec = tmp_path / "ae.json"
    spec.write_text(dumps_project(doc))
    rc = main(["train", str(spec), "--task", "denoise", "--noise", "masking:0.4", "--epochs", "1",
               "--out", str(tmp_path / "run")])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0 and events[-1]["status"] == "finished" and "val_accuracy" not in events[1]


def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path, capsys):
    cases = [
        (["train", "no-such-template"], "no such file, and not a template"),
        (["train", "digits-cnn", "--data", "mnist", "--data-root", str(tmp_path)], "mnist not found"),
        (["train", "cifar10-cnn", "--data", "digits"], "digits images are 8×8×1 but the project's input is 32×32×3"),
        (["train", "digits-cnn", "--noise", "fog:2", "--task", "denoise"], "training.noise"),
        (["train", "--resume", str(tmp_path)], "not a run folder"),
    ]
    for argv, words in cases:
        rc = main(argv + ["--out", str(tmp_path / "never")])
        err = capsys.readouterr().err
        assert rc == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err, (argv, err)


def test_resuming_a_run_folder_with_wrongly_typed_keys_names_the_file_and_key(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", tiny_spec(tmp_path), "--epochs", "1", "--device", "cpu", "--out", str(out)]) == 0
    capsys.readouterr()
    config, state = out / "config.json", out / "checkpoints" / "state.json"
    good_config, good_state = config.read_text(), state.read_text()
    for path, change, words in [
        (config, {"training": [1]}, "config.json: 'training' must be an object, got [1]"),
        (config, {"data": "digits"}, "config.json: 'data' must be an object, got \"digits\""),
        (state, {"epoch": "2"}, "state.json: 'epoch' must be a whole number from 0 to 100000, got \"2\""),
        (state, {"best_val": [0.5]}, "state.json: 'best_val' must be a number or null, got [0.5]"),
    ]:
        config.write_text(good_config)
        state.write_text(good_state)
        path.write_text(json.dumps({**json.loads(path.read_text()), **change}))
        rc = main(["train", "--resume", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err, err
