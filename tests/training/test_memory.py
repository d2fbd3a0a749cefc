"""A run that cannot fit in memory is refused before anything is allocated, saying what does not fit,
by how much, and a batch size that fits (issue 12, items 5 and 10)."""
import json

import pytest
import torch

from workbench.__main__ import main
from workbench.core.inference import summarize
from workbench.training import memory
from workbench.training.config import validate_training
from workbench.training.engine import Trainer
from workbench.training.memory import MemoryShortage, check_memory, fitting_batch_size, memory_need

GB = 10**9


def project(input_shape, layers, **training):
    return {"input": input_shape, "layers": layers, "data": {"dataset": "shapes", "count": 100},
            "training": {"device": "cpu", **training}}


def run_cli(tmp_path, doc, capsys, *flags):
    spec = tmp_path / "net.json"
    spec.write_text(json.dumps(doc))
    rc = main(["train", str(spec), "--out", str(tmp_path / "run"), *flags])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()  # refused before the run folder was made
    return err


def test_weights_that_cannot_be_allocated_are_one_line(tmp_path, capsys):
    doc = project([3, 227, 227], [{"type": "Flatten"}, {"type": "Linear", "out_features": 10_000_000}])
    err = run_cli(tmp_path, doc, capsys)
    assert err.startswith("workbench train: the network does not fit in memory: its 1,545,880,000,000 parameters "
                          "take 6.2 TB, 24.7 TB to train with adam")
    assert "The weights alone do not fit: make the network smaller (layer 1, FC 10000000, holds " in err


def test_a_maximal_input_is_one_line_naming_the_input(tmp_path, capsys):
    doc = project([65536, 100000, 100000], [{"type": "Conv2d", "out_channels": 1, "kernel_size": 1}])
    err = run_cli(tmp_path, doc, capsys)
    assert "Not even one sample fits: make the network or its input smaller (the input, 65536×100000×100000, is " \
           "2.6 PB a sample)" in err


@pytest.fixture
def eight_gb_free(monkeypatch):
    monkeypatch.setattr(memory, "free_memory", lambda device: (8 * GB, "memory"))


def test_activations_that_do_not_fit_suggest_a_batch_size_that_does(eight_gb_free):
    # 96×227×227 float32 outputs twice (conv, ReLU) and the input: 40.2 MB a sample, 10.3 GB for 256
    doc = project([3, 227, 227], [{"type": "Conv2d", "out_channels": 96, "kernel_size": 3, "padding": 1},
                                  {"type": "ReLU"}], batch_size=256)
    config = validate_training(doc["training"])
    with pytest.raises(MemoryShortage) as caught:
        check_memory(summarize(doc), config, torch.device("cpu"))
    message = str(caught.value)
    assert "a batch of 256 keeps 10.3 GB of activations (40.2 MB a sample)" in message
    assert "2.3 GB more than the 8.0 GB of memory free" in message
    assert message.endswith("A batch size of 64 fits (training.batch_size)")
    need = memory_need(summarize(doc), config)
    assert need.total(64) * 2 - need.fixed < 8 * GB  # room for twice the activations of the suggestion


def test_a_network_of_68_gb_a_sample_is_not_told_to_try_batch_size_32(eight_gb_free):
    doc = project([3, 227, 227], [{"type": "Conv2d", "out_channels": 65536, "kernel_size": 3, "padding": 1},
                                  {"type": "ReLU"}], batch_size=64)
    with pytest.raises(MemoryShortage) as caught:
        Trainer(doc)
    assert "Not even one sample fits" in str(caught.value) and "batch size 32" not in str(caught.value)
    assert "(layer 0, Conv 65536 @ 3×3" in str(caught.value)


def test_a_run_that_fits_is_not_refused(eight_gb_free):
    doc = project([3, 32, 32], [{"type": "Flatten"}, {"type": "Linear", "out_features": 10}])
    check_memory(summarize(doc), validate_training(doc["training"]), torch.device("cpu"))


def test_the_optimizer_counts_in_what_training_needs():
    doc = project([100], [{"type": "Linear", "out_features": 100}])
    summary = summarize(doc)
    assert memory_need(summary, validate_training({"optimizer": "adam"})).fixed == 10_100 * 4 * 4
    assert memory_need(summary, validate_training({"optimizer": "sgd"})).fixed == 10_100 * 4 * 3
    assert memory_need(summary, validate_training({"optimizer": "sgd", "momentum": 0.0})).fixed == 10_100 * 4 * 2


def test_the_batch_size_suggested_is_the_largest_power_of_two_with_room():
    need = memory.MemoryNeed(parameters=0, states_per_parameter=4, per_sample=GB)
    assert fitting_batch_size(need, 8 * GB, 512) == 4
    assert fitting_batch_size(need, 8 * GB, 2) == 2
    assert fitting_batch_size(need, GB, 512) is None


def test_the_free_memory_of_this_machine_is_known():
    free, what = memory.free_memory(torch.device("cpu"))
    assert what == "memory" and 0 < free


def test_an_allocation_that_fails_past_the_estimate_is_a_message(monkeypatch):
    from workbench.training import engine

    def refused(project):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:118] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 6183480000000 bytes.")

    monkeypatch.setattr(engine, "build_model", refused)
    with pytest.raises(MemoryShortage, match="the network's 650 parameters cannot be allocated on CPU .*can't "
                                             "allocate memory.*: make the network smaller"):
        Trainer(project([64], [{"type": "Linear", "out_features": 10}]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_memory_is_what_a_cuda_run_is_checked_against():
    doc = project([3, 227, 227], [{"type": "Flatten"}, {"type": "Linear", "out_features": 1_000_000}])
    with pytest.raises(MemoryShortage, match="does not fit in GPU memory"):
        check_memory(summarize(doc), validate_training({"device": "cuda"}), torch.device("cuda"))


def test_under_torchrun_each_process_needs_its_share_of_the_batch(eight_gb_free):
    doc = project([3, 227, 227], [{"type": "Conv2d", "out_channels": 96, "kernel_size": 3, "padding": 1},
                                  {"type": "ReLU"}], batch_size=512)
    config = validate_training(doc["training"])
    check_memory(summarize(doc), config, torch.device("cpu"), processes=4)  # 128 a process: 5.1 GB
    with pytest.raises(MemoryShortage) as caught:
        check_memory(summarize(doc), config, torch.device("cpu"), processes=2)  # 256 a process: 10.3 GB
    assert "a batch of 512 (256 in each process) keeps 10.3 GB" in str(caught.value)
    assert str(caught.value).endswith("A batch size of 128 fits (training.batch_size)")
