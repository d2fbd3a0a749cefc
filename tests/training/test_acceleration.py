"""The engine's device settings: channels_last, fused optimizers and torch.compile change how fast a
run goes, never what it learns; compiling is announced, timed apart, and falls back when it fails."""
import time

import pytest
import torch

from workbench.core.build import build_model
from workbench.core.templates import template
from workbench.training import acceleration
from workbench.training.acceleration import Acceleration, Compiler, default_acceleration
from workbench.training.engine import Trainer

# "aot_eager" traces the network as torch.compile does (dynamo and autograd), without generating code:
# the engine's compile path in seconds on a CPU.
TRACED = Acceleration(compile="on", compile_backend="aot_eager")


def digits_project(**training):
    doc = template("digits-cnn")
    doc["data"] = {"dataset": "digits", "count": 240}
    doc["training"] = {**doc["training"], "epochs": 2, "batch_size": 32, "device": "cpu", **training}
    return doc


def epochs_of(events):
    return [e for e in events if e["event"] == "epoch"]


@pytest.fixture(scope="module")
def plain():
    """The epochs of the run every accelerated one is compared with: nothing switched on."""
    return epochs_of(Trainer(digits_project(), acceleration=Acceleration()).events())


def test_conv_networks_go_channels_last_with_a_fused_optimizer_and_a_gpu_compiles_long_runs():
    conv, mlp = build_model(digits_project()), torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert default_acceleration(torch.device("cpu"), conv) == Acceleration(channels_last=True, fused_optimizer=True)
    assert default_acceleration(torch.device("cpu"), mlp) == Acceleration(fused_optimizer=True)
    gpu = default_acceleration(torch.device("cuda"), conv)
    assert gpu.channels_last and gpu.cudnn_benchmark and gpu.fused_optimizer and gpu.compile == "auto"
    assert not default_acceleration(torch.device("cuda"), mlp).channels_last
    assert Trainer(digits_project()).model[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_and_a_fused_optimizer_learn_what_the_plain_run_learns(plain):
    fast = Trainer(digits_project(), acceleration=Acceleration(channels_last=True, fused_optimizer=True))
    assert fast.model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert fast.optimizer.defaults.get("fused") is True
    faster = epochs_of(fast.events())
    assert [e["train_loss"] for e in faster] == pytest.approx([e["train_loss"] for e in plain], rel=1e-3)
    assert faster[-1]["val_accuracy"] == pytest.approx(plain[-1]["val_accuracy"], abs=0.03)


def test_a_compiled_run_says_so_learns_the_same_and_keeps_the_compile_time_out_of_its_speed(plain, monkeypatch):
    real_compile = Compiler.compile

    def slow_compile(self, model, warm_up):
        time.sleep(1.0)  # a compile that takes a second more: not training time
        return real_compile(self, model, warm_up)

    monkeypatch.setattr(Compiler, "compile", slow_compile)
    trainer = Trainer(digits_project(), acceleration=TRACED)
    began = time.perf_counter()
    events = list(trainer.events())
    wall = time.perf_counter() - began
    kinds = [e["event"] for e in events]
    assert kinds.index("compiling") < kinds.index("compiled") < kinds.index("batch")  # before the first step
    compiled = events[kinds.index("compiled")]
    assert compiled["ok"] and compiled["seconds"] >= 1.0 and compiled["message"].startswith("compiled in")
    epochs = epochs_of(events)
    assert epochs[-1]["time_s"] <= wall - 1.0  # the run's clock stood still while it compiled
    assert [e["train_loss"] for e in epochs] == pytest.approx([e["train_loss"] for e in plain], rel=1e-4)
    assert events[-1]["status"] == "finished" and kinds.count("compiling") == 1


def test_compiling_changes_nothing_in_the_network_it_warms_up_on():
    trainer = Trainer(digits_project(epochs=1), acceleration=TRACED)
    trainer.model[0] = torch.nn.Sequential(trainer.model[0], torch.nn.BatchNorm2d(16))  # statistics to keep
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    rng = torch.get_rng_state()
    result = trainer.compiler.compile(trainer.model, lambda forward: trainer._warm_up(trainer.stages()[0], forward))
    assert result.ok, result.message
    after = trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert torch.equal(torch.get_rng_state(), rng) and all(p.grad is None for p in trainer.model.parameters())


def test_a_compile_that_fails_says_so_in_one_line_and_the_run_goes_on_uncompiled(monkeypatch):
    def broken(model, **kwargs):
        def forward(x):
            raise RuntimeError("backend 'inductor' failed: no C++ compiler found\nlong traceback…")
        return forward

    monkeypatch.setattr(torch, "compile", broken)
    events = list(Trainer(digits_project(epochs=1), acceleration=TRACED).events())
    compiled = next(e for e in events if e["event"] == "compiled")
    assert not compiled["ok"]
    assert compiled["message"] == ("compiling failed (RuntimeError: backend 'inductor' failed: no C++ compiler "
                                   "found): training uncompiled")
    assert events[-1]["status"] == "finished"


def test_auto_compiles_only_a_run_long_enough_to_pay_for_it_and_only_once():
    compiler, model = Compiler(Acceleration(compile="auto")), torch.nn.Linear(2, 2)
    long, short = (lambda: acceleration.COMPILE_PAYS_AFTER_S * 2), (lambda: acceleration.COMPILE_PAYS_AFTER_S / 2)
    assert not compiler.due(model, acceleration.COMPILE_AFTER_STEPS - 1, long)  # too early to tell
    assert not compiler.due(model, acceleration.COMPILE_AFTER_STEPS, short)
    assert compiler.due(model, acceleration.COMPILE_AFTER_STEPS, long)
    compiler._tried.add(model)
    assert not compiler.due(model, 10**6, long)
    assert not Compiler(Acceleration()).due(model, 10**6, long)
    with pytest.raises(ValueError, match="compile must be one of off, auto, on"):
        Acceleration(compile="yes")


def test_only_the_compiled_shapes_run_compiled():
    compiler, model = Compiler(TRACED), torch.nn.Linear(4, 2)
    assert compiler.compile(model, lambda forward: forward(torch.rand(8, 4))).ok
    assert compiler.model_for(model, torch.rand(8, 4)) is not model
    assert compiler.model_for(model, torch.rand(3, 4)) is model  # a last, smaller batch: uncompiled
    assert compiler.model_for(model.eval(), torch.rand(8, 4)) is model  # not compiled in eval mode
