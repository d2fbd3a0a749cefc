"""Per-edit inference time: `summarize` on a 50-layer chain and on a 100-layer ResNet (a graph: residual
blocks, 1×1 projections), against a torchinfo-style forward pass.

Goals: under 1 ms per edit for each (analytic rules, no forward pass). The baseline, measured in the
same process, is what a summary by forward pass costs: building the module and running one sample
through it (what torchinfo does).

    python benchmarks/inference_speed.py
"""
from __future__ import annotations

import time

import torch

from workbench.core import Project, summarize
from workbench.core.branched_templates import resnet
from workbench.core.build import build_model


def fifty_layers() -> dict:
    layers: list[dict] = []
    for i in range(16):
        layers += [{"type": "Conv2d", "out_channels": 32, "kernel_size": 3, "padding": 1}, {"type": "BatchNorm2d"},
                   {"type": "ReLU"}]
        if i % 4 == 3:
            layers.append({"type": "MaxPool2d", "kernel_size": 2})
    layers = layers[:46] + [{"type": "Flatten"}, {"type": "Linear", "out_features": 64}, {"type": "ReLU"},
                            {"type": "Linear", "out_features": 10}]
    return {"input": [3, 128, 128], "layers": layers}


def resnet_100() -> dict:
    """A CIFAR-style ResNet: 14 basic blocks (7 layers each, two with a projection), stem and head."""
    stem = [{"type": "Conv2d", "id": "conv1", "out_channels": 16, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm2d", "id": "bn1"}, {"type": "ReLU", "id": "relu"}]
    return {"input": [3, 32, 32], "layers": resnet(stem, [(16, 5, 1), (32, 5, 2), (64, 4, 2)], 10)}


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, project: Project, shape: tuple[int, ...], layer: int = 0) -> None:
    step = [0]

    def edit_and_infer() -> None:  # what the builder does per keystroke
        step[0] += 1
        project.set_param(layer, "out_channels", 16 + step[0] % 16)
        summarize(project)

    def forward_pass_summary() -> None:
        with torch.no_grad():
            build_model(project).eval()(torch.zeros(1, *shape))

    edit = best_of(edit_and_infer, 200)
    forward = best_of(forward_pass_summary, 10)
    print(f"summarize after an edit, {name}: {edit * 1e3:.3f} ms (goal < 1 ms)")
    print(f"  forward-pass summary (baseline): {forward * 1e3:.1f} ms; ratio baseline / analytic {forward / edit:.0f}x")


def main() -> None:
    chain = Project(fifty_layers())
    assert len(chain) == 50
    measure("50-layer chain", chain, (3, 128, 128))
    graph = Project(resnet_100())
    assert len(graph) >= 100
    # the first block's first conv: its width changes, the block's output (and so every shortcut) does not
    measure(f"{len(graph)}-layer ResNet", graph, (3, 32, 32), graph.index_of("l1b1_conv1"))


if __name__ == "__main__":
    main()
