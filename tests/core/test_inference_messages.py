"""Warnings and errors a user sees on a layer, and what happens to the layers after an error."""
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
