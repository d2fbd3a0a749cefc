"""Every catalogue rule (output shape, parameter count) checked against the real torch module."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.catalogue import CATALOGUE, Param
from workbench.core.export import to_pytorch_source
from workbench.core.inference import summarize

# Small ranges keep each torch forward pass cheap; names pick sensible ranges per argument.
SMALL_INTS = {"out_channels": (1, 8), "kernel_size": (1, 5), "stride": (1, 3), "padding": (0, 3),
              "dilation": (1, 2), "groups": (1, 2), "output_padding": (0, 2), "out_features": (1, 16),
              "output_size": (1, 4), "size": (1, 5)}


def value_strategy(param: Param) -> st.SearchStrategy:
    if param.kind == "bool":
        return st.booleans()
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "float":
        if param.name == "scale_factor":
            return st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0])
        low, high = param.low, min(param.high, 4.0)
        # rounded for readable failures, then kept in range: round(1e-7, 3) would be BatchNorm's eps = 0
        return st.floats(low, high, allow_nan=False).map(lambda v: min(max(round(v, 3), low), high))
    if param.kind == "ints":
        return st.lists(st.integers(1, 4), min_size=3, max_size=3)
    low, high = SMALL_INTS.get(param.name, (int(param.low), int(param.low) + 3))
    one = st.integers(low, high)
    if param.kind == "pair":
        return st.one_of(one, st.tuples(one, one).map(list))
    return one


@st.composite
def layer_and_input(draw: st.DrawFn, kind_name: str) -> tuple[dict, list[int]]:
    kind = CATALOGUE[kind_name]
    layer: dict = {"type": kind_name}
    for param in kind.params:
        if param.required or draw(st.booleans()):
            value = draw(st.one_of(st.none(), value_strategy(param)) if param.optional else value_strategy(param))
            layer[param.name] = value
    vector = kind_name in ("Linear", "BatchNorm1d", "Unflatten") or (kind_name in ("ReLU", "Softmax", "Dropout",
                                                                                    "Flatten") and draw(st.booleans()))
    if vector:
        shape = [draw(st.integers(1, 48))]
        if kind_name == "Unflatten" and draw(st.booleans()):  # half the time a size that multiplies out
            n = shape[0]
            c = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
            layer["unflattened_size"] = [c, n // c, 1]
    else:
        shape = [draw(st.integers(1, 4)), draw(st.integers(1, 12)), draw(st.integers(1, 12))]
    return layer, shape


# Where there is a GPU, layers run there too: CUDA kernels have checks of their own.
DEVICES = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]


def run_torch(kind_name: str, layer: dict, shape: list[int]) -> tuple[list[int], int]:
    """The output shape and parameter count torch gives, after a training step's forward and backward
    and an evaluation forward, on each device: some arguments are refused only when the layer runs,
    and only in one mode (BatchNorm's eps = 0 while training, on torch 2.14)."""
    kind = CATALOGUE[kind_name]
    for device in DEVICES:
        module = kind.build(tuple(shape), kind.resolve(layer)).to(device).train()
        out = module(torch.rand(2, *shape, device=device, requires_grad=True))
        out.float().sum().backward()
        with torch.no_grad():
            out = module.eval()(torch.rand(2, *shape, device=device))
    return list(out.shape[1:]), sum(p.numel() for p in module.parameters())


def assert_export_computes_the_same(layer: dict, shape: list[int]) -> None:
    """The exported source, given the built layer's weights, gives the same output."""
    kind = CATALOGUE[layer["type"]]
    built = kind.build(tuple(shape), kind.resolve(layer)).eval()
    namespace: dict = {}
    exec(to_pytorch_source({"input": shape, "layers": [layer]}), namespace)
    exported = namespace["Net"]().eval()
    exported.layers[0].load_state_dict(built.state_dict())
    x = torch.rand(2, *shape)
    with torch.no_grad():
        torch.testing.assert_close(exported(x), built(x))


# Merge kinds (Add, Concat) take several inputs: tests/core/test_graph_vs_torch.py checks them. An
# opaque imported part builds nothing: tests/core/test_import_torch.py checks it against torch.
ONE_INPUT = sorted(name for name, kind in CATALOGUE.items() if kind.combine is None and not kind.opaque)


@pytest.mark.parametrize("kind_name", ONE_INPUT)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_rule_matches_torch(kind_name: str, data: st.DataObject) -> None:
    layer, shape = data.draw(layer_and_input(kind_name))
    row = summarize({"input": shape, "layers": [layer]})["layers"][0]
    if row["status"] == "error":
        if "needs a" in row["message"]:  # wrong rank: torch might even run, on the wrong axes
            return
        try:
            out, _ = run_torch(kind_name, layer, shape)
        except Exception:  # torch refuses it too
            return
        assert 0 in out, f"torch accepts what inference calls an error: {row['message']}"
        return
    out, params = run_torch(kind_name, layer, shape)
    assert row["output"] == out, row["formula"]
    assert row["params"] == params
    assert row["memory"] == 4 * math.prod(out)
    assert_export_computes_the_same(layer, shape)


def test_every_kind_is_exercised_with_a_valid_case() -> None:
    """Guard against a strategy that only ever produces errors: each kind builds once by default."""
    for name in ONE_INPUT:
        kind = CATALOGUE[name]
        shape = [6] if name in ("Linear", "BatchNorm1d", "Unflatten") else [2, 8, 8]
        layer = kind.new_layer()
        if name == "Unflatten":
            layer["unflattened_size"] = [1, 2, 3]
        row = summarize({"input": shape, "layers": [layer]})["layers"][0]
        assert row["status"] in ("ok", "warning"), (name, row["message"])
        assert run_torch(name, layer, shape) == (row["output"], row["params"])


@pytest.mark.parametrize("kind_name,shape", [("BatchNorm1d", [6]), ("BatchNorm2d", [2, 4, 4])])
def test_batch_norm_eps_of_zero_is_refused_up_front_as_torch_refuses_it_when_training(kind_name, shape) -> None:
    from workbench.core.project import ProjectError

    with pytest.raises(ValueError, match="eps must be positive"):
        getattr(torch.nn, kind_name)(shape[0], eps=0.0).train()(torch.rand(2, *shape))
    with pytest.raises(ProjectError, match=rf"layer 0 \({kind_name}\): 'eps' = 0.0 is out of range"):
        summarize({"input": shape, "layers": [{"type": kind_name, "eps": 0.0}]})
