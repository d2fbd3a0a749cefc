"""The step-through's numbers against torch's own conv2d / max_pool2d / avg_pool2d / lp_pool2d."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workbench.core.arithmetic import (activation_crop, conv_parameters, fmt_number, format_grid, parse_grid,
                                       step_through)

POOL_4X4 = [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
SHARPEN = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]


def _t(grid) -> torch.Tensor:
    return torch.tensor(np.asarray(grid, dtype=np.float64))[None, None]


def torch_output(grid, kernel=None, pooling=None, size=None, stride=1, padding=0, bias=0.0) -> np.ndarray:
    x = _t(grid)
    if kernel is not None:
        out = F.conv2d(x, _t(kernel), torch.tensor([bias], dtype=torch.float64), stride=stride, padding=padding)
    elif pooling == "max":
        out = F.max_pool2d(x, size, stride, padding)
    elif pooling == "average":
        out = F.avg_pool2d(x, size, stride, padding)
    else:  # lp_pool2d has no padding argument: zero-pad first, as the step-through does
        out = F.lp_pool2d(F.pad(x, (padding,) * 4), 2.0, size, stride)
    return out[0, 0].numpy()


def test_the_course_max_pooling_example():
    st_ = step_through(POOL_4X4, pooling="max", size=2, stride=2)
    assert st_.output.tolist() == [[6, 8], [3, 4]]
    assert [w.equation() for w in st_.windows] == [
        "max(1, 1, 5, 6) = 6", "max(2, 4, 7, 8) = 8", "max(3, 2, 1, 2) = 3", "max(1, 0, 3, 4) = 4"]
    assert st_.size_formula() == "1 + (4 − 2)/2 = 2"


def test_average_and_l2_pooling_on_the_same_windows_are_written_out():
    average = step_through(POOL_4X4, pooling="average", size=2, stride=2)
    assert average.output.tolist() == [[3.25, 5.25], [2, 2]]
    assert average.windows[0].equation() == "(1 + 1 + 5 + 6)/4 = 3.25"
    l2 = step_through(POOL_4X4, pooling="l2", size=2, stride=2)
    assert l2.windows[0].equation() == "√(1² + 1² + 5² + 6²) = 7.94"
    np.testing.assert_allclose(l2.output, torch_output(POOL_4X4, pooling="l2", size=2, stride=2))


def test_zero_padding_with_the_sharpening_kernel_matches_torch_and_writes_the_products():
    patch = [[60, 113, 56, 139, 85], [73, 121, 54, 84, 128], [131, 99, 70, 129, 127], [80, 57, 115, 69, 134],
             [104, 126, 123, 95, 130]]
    st_ = step_through(patch, kernel=SHARPEN, padding=1)
    assert st_.padded.shape == (7, 7) and st_.padded[0].tolist() == [0] * 7 and st_.padded[:, 0].tolist() == [0] * 7
    np.testing.assert_array_equal(st_.output, torch_output(patch, kernel=SHARPEN, padding=1))
    first = st_.windows[0]
    assert first.equation() == "0·0 + 0·(−1) + 0·0 + 0·(−1) + 60·5 + 113·(−1) + 0·0 + 73·(−1) + 121·0 = 114"
    assert first.equation(4) == "0·0 + 0·(−1) + 0·0 + … + 121·0 = 114"
    assert first.products.sum() == 114


def test_windows_slide_row_by_row_with_the_stride_and_the_output_fills_in():
    grid = np.arange(49).reshape(7, 7)
    st_ = step_through(grid, kernel=np.ones((3, 3)), stride=2)
    assert [(w.top, w.left) for w in st_.windows[:4]] == [(0, 0), (0, 2), (0, 4), (2, 0)]
    assert st_.output.shape == (3, 3) and st_.size_formula() == "1 + (7 − 3 + 2·0)/2 = 3"
    partial = st_.partial_output(4)
    assert np.isnan(partial).sum() == 5 and partial[1, 0] == st_.output[1, 0]
    assert step_through(grid, kernel=np.ones((3, 3))).output.shape == (5, 5)


def test_max_pooling_pads_with_minus_infinity_like_torch():
    grid = -np.ones((3, 3))
    st_ = step_through(grid, pooling="max", size=2, stride=2, padding=1)
    assert st_.windows[0].equation() == "max(−∞, −∞, −∞, −1) = −1"
    np.testing.assert_array_equal(st_.output, torch_output(grid, pooling="max", size=2, stride=2, padding=1))


@settings(max_examples=80, deadline=None)
@given(h=st.integers(1, 8), w=st.integers(1, 8), size=st.integers(1, 4), stride=st.integers(1, 3),
       padding=st.integers(0, 2), op=st.sampled_from(["conv", "max", "average", "l2"]), seed=st.integers(0, 2**16),
       bias=st.sampled_from([0.0, 1.5]))
def test_every_output_equals_torch(h, w, size, stride, padding, op, seed, bias):
    if op != "conv":
        padding = min(padding, size // 2)
        bias = 0.0
    assume(size <= min(h, w) + 2 * padding)
    rng = np.random.default_rng(seed)
    grid = rng.integers(-9, 10, (h, w)).astype(float)
    kernel = rng.integers(-3, 4, (size, size)).astype(float) if op == "conv" else None
    pooling = None if op == "conv" else op
    st_ = step_through(grid, kernel=kernel, pooling=pooling, size=None if kernel is not None else size,
                       stride=stride, padding=padding, bias=bias)
    expected = torch_output(grid, kernel, pooling, size, stride, padding, bias)
    np.testing.assert_allclose(st_.output, expected, rtol=1e-9, atol=1e-9)
    assert len(st_.windows) == expected.size
    for window in st_.windows:  # each written-out equation ends with the value torch computed
        assert window.equation().endswith("= " + fmt_number(expected[window.row, window.col]))


def test_parameter_sharing_counts_are_the_course_numbers():
    alexnet = conv_parameters((3, 227, 227), 11, 4, 0, 96)
    assert alexnet.output == (96, 55, 55)
    assert (alexnet.per_neuron, alexnet.shared, alexnet.unshared) == (364, 34_944, 105_705_600)
    assert alexnet.per_slice_unshared == 55 * 55 * (11 * 11 * 3 + 1) == 1_101_100
    assert alexnet.lines() == ["each neuron: 11·11·3 + 1 = 364 parameters", "with sharing: 96 filters × 364 = 34,944",
                               "without sharing: 55·55·96 neurons × 364 = 105,705,600"]
    assert conv_parameters((3, 32, 32), 5, 1, 0, 1).per_neuron == 76
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv_parameters((3, 4, 4), 5, 1, 0, 1)


def test_bad_input_gets_a_message_naming_it():
    with pytest.raises(ValueError, match="larger than the padded input"):
        step_through(np.ones((3, 3)), kernel=np.ones((5, 5)))
    with pytest.raises(ValueError, match="at most half the window"):
        step_through(np.ones((4, 4)), pooling="max", size=2, padding=2)
    with pytest.raises(ValueError, match="either a kernel"):
        step_through(np.ones((4, 4)))
    with pytest.raises(ValueError, match="pooling must be one of"):
        step_through(np.ones((4, 4)), pooling="median", size=2)
    with pytest.raises(ValueError, match="square"):
        step_through(np.ones((4, 4)), kernel=np.ones((2, 3)))
    with pytest.raises(ValueError, match="at most 64×64"):
        step_through(np.ones((227, 227)), kernel=np.ones((3, 3)))
    with pytest.raises(ValueError, match="S \\(stride\\) must be an integer"):
        step_through(np.ones((4, 4)), kernel=np.ones((3, 3)), stride=0)


def test_typed_numbers_parse_and_print_back():
    grid = parse_grid("139 85 1\n84 −128 2.5; 0,0,0")
    assert grid.tolist() == [[139, 85, 1], [84, -128, 2.5], [0, 0, 0]]
    assert parse_grid(format_grid(grid)).tolist() == grid.tolist()
    with pytest.raises(ValueError, match="kernel, row 2 has 2 numbers but row 1 has 3"):
        parse_grid("1 2 3\n4 5", "kernel")
    with pytest.raises(ValueError, match="input, row 1: 'x' is not a number"):
        parse_grid("1 x")
    with pytest.raises(ValueError, match="empty"):
        parse_grid("  \n ")


def test_an_activation_crop_is_the_centre_of_one_depth_slice():
    volume = np.arange(2 * 9 * 9, dtype=float).reshape(2, 9, 9)
    crop = activation_crop(volume, channel=1, size=5)
    np.testing.assert_array_equal(crop, volume[1, 2:7, 2:7])
    with pytest.raises(ValueError, match="channel 2 is out of range"):
        activation_crop(volume, channel=2)


def test_numbers_are_written_as_the_lecture_writes_them():
    assert [fmt_number(v) for v in (139.0, -1.0, 3.25, math.sqrt(63), -math.inf, 1234.56)] == [
        "139", "−1", "3.25", "7.94", "−∞", "1235"]
