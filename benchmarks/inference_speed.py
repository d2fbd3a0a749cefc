"""Per-edit inference time: `summarize` on a 50-layer network, against a torchinfo-style forward pass.

Goal: under 1 ms per edit for 50 layers (analytic rules, no forward pass). The baseline, measured in
the same process, is what a summary by forward pass costs: building the module and running one
sample through it (what torchinfo does).

    python benchmarks/inference_speed.py
"""
from __future__ import annotations

import time

import torch

from workbench.core import Project, summarize
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


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    project = Project(fifty_layers())
    assert len(project) == 50
    step = [0]

    def edit_and_infer() -> None:  # what the builder does per keystroke
        step[0] += 1
        project.set_param(0, "out_channels", 16 + step[0] % 16)
        summarize(project)

    def forward_pass_summary() -> None:
        with torch.no_grad():
            build_model(project).eval()(torch.zeros(1, 3, 128, 128))

    edit = best_of(edit_and_infer, 200)
    forward = best_of(forward_pass_summary, 10)
    print(f"summarize after an edit, 50 layers: {edit * 1e3:.3f} ms (goal < 1 ms)")
    print(f"forward-pass summary (baseline):    {forward * 1e3:.1f} ms")
    print(f"ratio baseline / analytic:          {forward / edit:.0f}x")


if __name__ == "__main__":
    main()
