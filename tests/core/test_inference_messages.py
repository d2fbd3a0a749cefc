"""Warnings and errors a user sees on a layer, and what happens to the layers after an error."""
import pytest

from workbench.core import summarize


def test_stride_that_does_not_tile_warns_and_suggests_a_fix() -> None:
    s = summarize({"input": [1, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3, "stride": 2}]})
    row = s["layers"][0]
    assert row["output"] == [2, 3, 3]  # torch floors (8 − 3)/2 = 2.5
    assert row["status"] == "warning"
    assert "not an integer" in row["message"] and "never seen" in row["message"]
    assert "row and column" in row["message"]  # a square case is said once
    assert "S = 1 would tile exactly" in row["message"]  # 5 + 2P is odd: no padding tiles at stride 2
    assert "2.5 → 3 (floor)" in row["formula"] or "3.5 → 3 (floor)" in row["formula"]


def test_linear_after_a_volume_is_an_error_that_suggests_flatten_and_later_layers_are_unknown() -> None:
    s = summarize({"input": [3, 8, 8], "layers": [{"type": "Linear", "out_features": 10}, {"type": "ReLU"},
                                                  {"type": "Linear", "out_features": 2}]})
    first, second, third = s["layers"]
    assert first["status"] == "error" and "Flatten" in first["message"]
    assert second["output"] is None and second["status"] == "unknown"
    assert third["params"] is None
    assert s["first_error"] == 0 and s["output"] is None


def test_output_below_one_is_an_error_not_an_exception() -> None:
    s = summarize({"input": [1, 4, 4], "layers": [{"type": "Conv2d", "out_channels": 1, "kernel_size": 7}]})
    assert s["layers"][0]["status"] == "error"
    assert "larger than the padded input" in s["layers"][0]["message"]


def test_unflatten_sizes_must_multiply_out() -> None:
    s = summarize({"input": [64], "layers": [{"type": "Unflatten", "unflattened_size": [1, 8, 7]}]})
    assert s["layers"][0]["status"] == "error"
    assert "56" in s["layers"][0]["message"] and "64" in s["layers"][0]["message"]


def test_receptive_field_grows_through_conv_and_pool() -> None:
    s = summarize({"input": [1, 32, 32], "layers": [
        {"type": "Conv2d", "out_channels": 1, "kernel_size": 3},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "out_channels": 1, "kernel_size": 3},
    ]})
    assert [r["receptive_field"] for r in s["layers"]] == [3, 4, 8]


def autograd_receptive_field(layers: list[dict], size: int = 40) -> int:
    """The widest input extent (rows) any single output value depends on, found by backprop."""
    import torch

    from workbench.core.build import build_model

    model = build_model({"input": [1, size, size], "layers": layers}).eval()
    for p in model.parameters():  # positive weights: no cancellation hides a dependency
        torch.nn.init.constant_(p, 0.1)
    x = torch.ones(1, 1, size, size, requires_grad=True)
    out = model(x)
    widest = 0
    for i in range(out.shape[2]):
        (grad,) = torch.autograd.grad(out[0, :, i, out.shape[3] // 2].sum(), x, retain_graph=True)
        rows = grad[0, 0].abs().sum(dim=1).nonzero()
        if len(rows):
            widest = max(widest, int(rows.max() - rows.min() + 1))
    return widest


@pytest.mark.parametrize("layers", [
    [{"type": "Conv2d", "out_channels": 2, "kernel_size": 5, "stride": 2}, {"type": "AvgPool2d", "kernel_size": 3},
     {"type": "Conv2d", "out_channels": 1, "kernel_size": 3, "dilation": 2}],
    [{"type": "Conv2d", "out_channels": 2, "kernel_size": 3, "stride": 2},
     {"type": "ConvTranspose2d", "out_channels": 2, "kernel_size": 3, "stride": 2},
     {"type": "ConvTranspose2d", "out_channels": 1, "kernel_size": 2, "stride": 2}],
    [{"type": "AvgPool2d", "kernel_size": 2}, {"type": "Upsample", "scale_factor": 2.0},
     {"type": "Conv2d", "out_channels": 1, "kernel_size": 3}],
    [{"type": "Conv2d", "out_channels": 1, "kernel_size": 3}, {"type": "AdaptiveAvgPool2d", "output_size": 5}],
])
def test_receptive_field_matches_autograd(layers: list[dict]) -> None:
    summary = summarize({"input": [1, 40, 40], "layers": layers})
    assert summary["layers"][-1]["receptive_field"] == autograd_receptive_field(layers)
