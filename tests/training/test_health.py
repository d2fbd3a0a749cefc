"""Training health: the statistics against hand-computed values, the findings on a deliberately sick
network and on a healthy one, and what the run folder and `workbench health` get."""
import json
import math

import pytest
import torch
from torch import nn

from workbench.core.templates import template
from workbench.training.engine import Trainer
from workbench.training.findings import LossTrend, find
from workbench.training.health import HealthMonitor, collects
from workbench.training.run_folder import open_run


def sick_project(epochs: int = 1) -> dict:
    """Ten Sigmoid layers at learning rate 10: the textbook way not to train."""
    layers = [{"type": "Flatten"}]
    for _ in range(10):
        layers += [{"type": "Linear", "out_features": 32}, {"type": "Sigmoid"}]
    layers.append({"type": "Linear", "out_features": 10})
    return {"input": [1, 8, 8], "layers": layers, "data": {"dataset": "digits"},
            "training": {"task": "classify", "optimizer": "sgd", "lr": 10.0, "epochs": epochs, "seed": 0,
                         "device": "cpu"}}


def test_statistics_are_collected_on_the_first_steps_then_every_n():
    assert [s for s in range(80) if collects(s, 25)] == [0, 1, 2, 4, 8, 16, 25, 50, 75]
    assert [s for s in range(950, 1250) if collects(s, 25)] == [950, 975, 1000, 1100, 1200]
    assert [s for s in range(120) if collects(s, 50)] == [0, 1, 2, 4, 8, 16, 32, 50, 100]
    assert not any(collects(s, 0) for s in range(10))


def test_the_statistics_match_hand_computed_values():
    torch.manual_seed(0)
    linear = nn.Linear(4, 3)
    with torch.no_grad():
        linear.bias.copy_(torch.tensor([0.0, -100.0, 0.0]))  # unit 1 can never fire
    model = nn.Sequential(linear, nn.ReLU(), nn.Linear(3, 2), nn.Sigmoid())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = HealthMonitor(model, every=1)
    x = torch.randn(16, 4)
    w_before = [p.detach().clone() for p in model[2].parameters()]
    with torch.no_grad():  # what the collected step sees, before its update
        relu_out, sigmoid_out = torch.relu(linear(x)), model(x)
    with monitor.watch(0):
        out = model(x)
        loss = out.sum()
        optimizer.zero_grad()
        loss.backward()
        grads = [p.grad.clone() for p in model[2].parameters()]
        optimizer.step()
    [(step, layers)] = monitor.flush()
    assert step == 0 and [h["layer"] for h in layers] == [0, 1, 2, 3]
    assert layers[1]["dead"] == pytest.approx(1 / 3, rel=1e-3)  # one of three units silent on the whole batch
    assert layers[1]["act_mean"] == pytest.approx(float(relu_out.mean()), rel=1e-3)
    assert layers[1]["act_std"] == pytest.approx(float(relu_out.std(correction=0)), rel=1e-3)
    saturated = float(((sigmoid_out < 0.01) | (sigmoid_out > 0.99)).float().mean())
    assert layers[3]["saturated"] == pytest.approx(saturated, rel=1e-3)
    # SGD: the step is lr * gradient, so the update ratio is lr * |g| / |w|
    g = math.sqrt(sum(float(t.pow(2).sum()) for t in grads))
    w = math.sqrt(sum(float(t.pow(2).sum()) for t in w_before))
    assert layers[2]["weight_grad"] == pytest.approx(g, rel=1e-3)
    assert layers[2]["update_ratio"] == pytest.approx(0.1 * g / w, rel=1e-3)
    assert layers[3]["grad_ratio"] == pytest.approx(1.0)  # the output layer is the reference
    # d(sum sigmoid)/d(its input) = s(1-s): the gradient at layer 2's output relative to layer 3's (all ones)
    s = sigmoid_out
    expected = float((s * (1 - s)).pow(2).sum().sqrt() / torch.ones_like(s).pow(2).sum().sqrt())
    assert layers[2]["grad_ratio"] == pytest.approx(expected, rel=1e-3)
    assert layers[0]["grad_ratio"] is not None and layers[0]["update_ratio"] is not None
    assert layers[1]["update_ratio"] is None and layers[1]["weight_grad"] is None  # no weights
    assert model[0]._forward_hooks == {}  # hooks only while collecting


def test_steps_that_are_not_collected_leave_no_hooks_and_no_numbers():
    model = nn.Sequential(nn.Linear(2, 2))
    monitor = HealthMonitor(model, every=25)
    with monitor.watch(3):
        assert model[0]._forward_hooks == {}
        model(torch.ones(1, 2)).sum().backward()
    assert monitor.flush() == []


def test_a_deliberately_sick_network_is_found_vanishing_and_saturated_in_its_first_epoch(tmp_path, one_torch_thread):
    events = list(Trainer(sick_project(), run_dir=tmp_path / "sick").events())
    assert events[-1]["status"] == "finished"
    health = [e for e in events if e["event"] == "health"]
    assert health and all(e["epoch"] == 1 for e in health)
    found = {(f["layer"], f["finding"], f["level"]) for e in health for f in e["findings"]}
    assert (1, "vanishing-gradient", "red") in found  # the first Linear, farthest from the output
    assert any(name == "saturated" for _, name, _ in found)
    first = next(f for e in health for f in e["findings"] if f["finding"] == "vanishing-gradient")
    assert "smaller than at the output — vanishing: try ReLU" in first["message"]
    # the same numbers in the run folder, and `workbench health --json` says what the last steps found
    recorded = [e for e in open_run(tmp_path / "sick").health() if e["event"] == "health"]
    assert [e["global_step"] for e in recorded] == [e["global_step"] for e in health]
    from workbench.cli.health import main

    assert main([str(tmp_path / "sick"), "--json"]) == 0


def test_digits_cnn_with_its_defaults_sets_off_no_finding(tmp_path, one_torch_thread):
    doc = template("digits-cnn")
    doc["training"]["device"] = "cpu"
    events = list(Trainer(doc, run_dir=tmp_path / "digits").events())
    assert events[-1]["status"] == "finished" and events[-1]["epoch"] == doc["training"]["epochs"]
    health = [e for e in events if e["event"] == "health"]
    assert len(health) >= 20  # steps 0, 1, 2, 4, … 32, then every 50 of 690
    assert [f for e in health for f in e["findings"]] == []
    timing = [e for e in events if e["event"] == "timing"]
    assert len(timing) == 1 and [t["layer"] for t in timing[0]["layers"]] == list(range(len(doc["layers"])))


def test_workbench_health_prints_the_findings_as_json(tmp_path, one_torch_thread, capsys):
    from workbench.cli.health import main

    list(Trainer(sick_project(), run_dir=tmp_path / "sick").events())
    assert main([str(tmp_path / "sick"), "--json"]) == 0
    findings = json.loads(capsys.readouterr().out)
    assert findings and {"layer", "finding", "level", "message"} <= set(findings[0])
    assert "vanishing-gradient" in {f["finding"] for f in findings}
    assert main([str(tmp_path / "sick")]) == 0
    text = capsys.readouterr().out
    assert "layer 1 (Linear): gradients here are" in text and "time per layer on cpu" in text
    assert main([str(tmp_path / "nowhere"), "--json"]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_a_healthy_run_prints_an_empty_list(tmp_path, one_torch_thread, capsys):
    from workbench.cli.health import main

    doc = template("digits-cnn")
    doc["data"]["count"] = 200
    list(Trainer(doc, run_dir=tmp_path / "run", epochs=1, device="cpu").events())
    assert main([str(tmp_path / "run"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_health_off_writes_no_health_file_and_the_cli_says_so(tmp_path, capsys):
    from workbench.cli.health import main

    doc = template("digits-cnn")
    doc["data"]["count"] = 120
    events = list(Trainer(doc, run_dir=tmp_path / "run", epochs=1, device="cpu", health_every=0).events())
    assert not [e for e in events if e["event"] in ("health", "timing")]
    assert not (tmp_path / "run" / "health.jsonl").exists()
    assert main([str(tmp_path / "run")]) == 2
    assert "no health statistics" in capsys.readouterr().err


def test_a_resumed_run_drops_the_health_of_the_interrupted_epoch(tmp_path, one_torch_thread):
    doc = template("digits-cnn")
    doc["data"]["count"] = 240
    trainer = Trainer(doc, run_dir=tmp_path / "run", epochs=2, device="cpu", health_every=2, log_interval_s=0)
    for event in trainer.events():
        if event["event"] == "health" and event["epoch"] == 2:
            trainer.stop()
    checkpoint_step = open_run(tmp_path / "run").state["global_step"]
    assert any(e["global_step"] > checkpoint_step for e in open_run(tmp_path / "run").health())
    resumed = Trainer.resume_run(tmp_path / "run")
    assert all(e["global_step"] <= checkpoint_step for e in open_run(tmp_path / "run").health())
    assert list(resumed.events())[-1]["status"] == "finished"


def test_a_flat_loss_names_the_likely_cause():
    trend = LossTrend(fresh=True)
    for step in range(0, 400, 40):
        trend.add(step, 2.30)
    layers = [{"layer": 0, "act_mean": 0.0, "act_std": 1.0, "dead": None, "saturated": None, "grad_ratio": 1.0,
               "weight_grad": 1e-3, "update_ratio": 1e-6}]
    [slow] = find([layers], ["Linear"], trend, lr=1e-6)
    assert slow["layer"] is None and slow["finding"] == "flat-loss"
    assert "the learning rate may be too low (now 1e-06" in slow["message"]
    layers[0]["update_ratio"] = 0.05
    [fast] = find([layers], ["Linear"], trend, lr=10)
    assert "the learning rate may be too high (now 10" in fast["message"]
    assert find([layers], ["Linear"], LossTrend(fresh=False), lr=10) == []  # a resumed run's loss is not judged
    falling = LossTrend(fresh=True)
    for step in range(0, 400, 40):
        falling.add(step, 2.3 - step / 400)
    assert find([layers], ["Linear"], falling, lr=1e-3) == []


def test_findings_are_judged_over_a_window_not_one_odd_batch():
    def step(dead):
        return [{"layer": 0, "act_mean": 0.1, "act_std": 0.1, "dead": dead, "saturated": None, "grad_ratio": None,
                 "weight_grad": None, "update_ratio": None}]

    assert find([step(0.1), step(0.95), step(0.1)], ["ReLU"]) == []
    [red] = find([step(0.95), step(0.95), step(0.1)], ["ReLU"])
    assert red["level"] == "red" and red["message"].startswith("95 % of these units never activate")


def test_each_stage_of_a_staged_run_has_its_own_loss_trend():
    from workbench.training.health import HealthRecorder

    recorder = HealthRecorder(nn.Sequential(nn.Linear(2, 2)), ["Linear"], every=0)
    for step in range(0, 400, 20):
        recorder.events({"event": "batch", "epoch": 1, "step": step, "global_step": step, "train_loss": 0.1,
                         "samples_per_s": 1.0, "eta_s": 1.0, "stage": "block 1"}, lr=1e-3)
    assert recorder.trend.flat() is not None
    recorder.events({"event": "batch", "epoch": 2, "step": 1, "global_step": 401, "train_loss": 0.5,
                     "samples_per_s": 1.0, "eta_s": 1.0, "stage": "block 2"}, lr=1e-3)
    assert recorder.trend.first == [(401, 0.5)] and recorder.trend.fresh
    resumed = HealthRecorder(nn.Sequential(nn.Linear(2, 2)), ["Linear"], every=0, fresh=False)
    resumed.events({"event": "batch", "epoch": 5, "step": 1, "global_step": 901, "train_loss": 0.5,
                    "samples_per_s": 1.0, "eta_s": 1.0, "stage": "block 2"}, lr=1e-3)
    assert not resumed.trend.fresh  # resumed mid-stage: its loss at the start is not known


def test_a_network_with_branches_gets_every_layers_health_and_time(tmp_path, one_torch_thread):
    doc = template("inception-block")
    doc["data"]["count"] = 100
    events = list(Trainer(doc, run_dir=tmp_path / "run", epochs=1, device="cpu").events())
    assert events[-1]["status"] == "finished"
    [health, *_] = [e for e in events if e["event"] == "health"]
    add_or_concat = [i for i, layer in enumerate(doc["layers"]) if layer["type"] in ("Add", "Concat")]
    assert add_or_concat and all(health["layers"][i]["grad_ratio"] is not None for i in add_or_concat)
    assert health["layers"][-1]["grad_ratio"] == pytest.approx(1.0)
    [timing] = [e for e in events if e["event"] == "timing"]
    assert len(timing["layers"]) == len(doc["layers"]) and sum(t["time_share"] for t in timing["layers"]) == \
        pytest.approx(1.0)


def test_a_window_update_carries_the_newest_health_and_timing():
    from workbench.training.updates import Coalescer

    coalescer = Coalescer()
    for step in (1, 2):
        coalescer.add({"event": "health", "epoch": 1, "global_step": step, "layers": [], "findings": []})
    coalescer.add({"event": "timing", "epoch": 1, "global_step": 3, "device": "cpu", "batch_size": 8, "layers": []})
    update = coalescer.take()
    assert update.health is not None and update.health["global_step"] == 2
    assert update.timing is not None and update.events == []  # the curves' events stay start/batch/epoch
    assert coalescer.take().health is None


def test_health_statistics_leave_training_as_it_would_be_without_them(tmp_path, one_torch_thread):
    doc = template("digits-cnn")
    doc["data"]["count"] = 200
    weights = []
    for every, name in ((0, "off"), (1, "every step")):
        trainer = Trainer(doc, run_dir=tmp_path / name, epochs=2, device="cpu", health_every=every)
        events = list(trainer.events())
        assert events[-1]["status"] == "finished"
        weights.append([p.detach().clone() for p in trainer.model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights))  # timing after epoch 1 included
