"""The lecture's worked numbers, as `summarize` reports them."""
from workbench.core import summarize
from workbench.core.templates import template


def one_layer(input_shape: list[int], layer: dict) -> dict:
    return summarize({"input": input_shape, "layers": [layer]})["layers"][0]


def test_seven_by_seven_input_three_by_three_filter() -> None:
    stride1 = one_layer([1, 7, 7], {"type": "Conv2d", "out_channels": 1, "kernel_size": 3})
    stride2 = one_layer([1, 7, 7], {"type": "Conv2d", "out_channels": 1, "kernel_size": 3, "stride": 2})
    assert stride1["output"] == [1, 5, 5] and stride1["formula"] == "1 + (7 − 3 + 2·0)/1 = 5"
    assert stride2["output"] == [1, 3, 3] and stride2["formula"] == "1 + (7 − 3 + 2·0)/2 = 3"


def test_receptive_field_of_five_on_a_cifar_image_has_76_parameters() -> None:
    row = one_layer([3, 32, 32], {"type": "Conv2d", "out_channels": 1, "kernel_size": 5})
    assert row["params"] == 76 == 5 * 5 * 3 + 1
    assert row["receptive_field"] == 5


def test_fully_connected_neuron_weights() -> None:
    cifar = summarize({"input": [3, 32, 32], "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 1}]})
    big = summarize({"input": [3, 400, 400], "layers": [{"type": "Flatten"}, {"type": "Linear", "out_features": 1}]})
    assert cifar["layers"][1]["params"] == 3_072 + 1
    assert big["layers"][1]["params"] == 480_000 + 1


def test_alexnet_first_layer_with_and_without_sharing() -> None:
    row = one_layer([3, 227, 227], {"type": "Conv2d", "out_channels": 96, "kernel_size": 11, "stride": 4})
    assert row["output"] == [96, 55, 55]
    assert row["formula"] == "1 + (227 − 11 + 2·0)/4 = 55"
    assert row["params"] == 96 * (11 * 11 * 3 + 1) == 34_944
    assert row["params_unshared"] == 55 * 55 * 96 * (11 * 11 * 3 + 1) == 105_705_600


def test_alexnet_template_volumes_and_total() -> None:
    summary = summarize(template("alexnet"))
    volumes = [tuple(r["output"]) for r in summary["layers"] if r["type"] in ("Conv2d", "MaxPool2d")]
    assert volumes == [(96, 55, 55), (96, 27, 27), (256, 27, 27), (256, 13, 13), (384, 13, 13), (384, 13, 13),
                       (256, 13, 13), (256, 6, 6)]
    assert summary["total_params"] == 62_378_344
    assert summary["output"] == [1000]
    assert all(r["status"] == "ok" for r in summary["layers"])


def test_max_pooling_two_by_two_stride_two_halves_each_slice() -> None:
    row = one_layer([1, 4, 4], {"type": "MaxPool2d", "kernel_size": 2, "stride": 2})
    assert row["output"] == [1, 2, 2] and row["params"] == 0
    assert row["formula"] == "1 + (4 − 2)/2 = 2"
