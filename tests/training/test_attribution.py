"""Where the network looks, against a hand-computed case: a classifier whose answer depends only on one
known square of the input."""
import numpy as np
import pytest
import torch
from torch import nn

from workbench.training.attribution import explain, grad_cam, occlusion, saliency

SQUARE = (slice(2, 4), slice(4, 6))  # rows 2-3, columns 4-5 of an 8×8 image


def square_detector() -> nn.Sequential:
    """Channel 0 passes only values above 0.75 (the bright square), channel 1 everything above 0.25
    (the bright and the dim square); class 0's score is the sum of channel 0, class 1's is 0."""
    conv = nn.Conv2d(1, 2, 1)
    linear = nn.Linear(2 * 64, 2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.bias.copy_(torch.tensor([-0.75, -0.25]))
        linear.weight.zero_()
        linear.weight[0, :64] = 1.0
        linear.bias.zero_()
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), linear)


def image() -> torch.Tensor:
    x = torch.zeros(1, 8, 8)
    x[0][SQUARE] = 1.0         # what class 0 is about
    x[0, 5:7, 0:2] = 0.5       # a dim square the answer does not depend on
    return x


def square_mask() -> np.ndarray:
    mask = np.zeros((8, 8), np.float32)
    mask[SQUARE] = 1.0
    return mask


def test_saliency_is_the_square():
    # d score0 / d x = 1 where channel 0 is active (the square), 0 elsewhere
    assert np.array_equal(saliency(square_detector(), image(), 0), square_mask())


def test_grad_cam_at_the_relu_is_the_square():
    # d score0 / d channel0 = 1 everywhere, / d channel1 = 0: the weights are (1, 0), so the map is
    # channel 0 itself: 0.25 on the square, 0 elsewhere, scaled to 1
    assert np.allclose(grad_cam(square_detector(), image(), 0, layer=1), square_mask())


def test_grad_cam_at_the_conv_clips_what_does_not_count():
    # at the conv (before the ReLU) channel 0 is x - 0.75: 0.25 on the square, negative elsewhere
    # (the ReLU kills those, so their gradient is 0 but the channel weight is the mean over the square: 4/64)
    cam = grad_cam(square_detector(), image(), 0, layer=0)
    assert np.allclose(cam, square_mask())


def test_occlusion_drops_only_where_a_patch_covers_the_square():
    model = square_detector()
    x = image()
    got = occlusion(model, x, 0, patch=2, stride=1)

    def probability(img: torch.Tensor) -> float:
        score = float(torch.relu(img[0] - 0.75).sum())
        return float(torch.softmax(torch.tensor([score, 0.0]), 0)[0])

    base = probability(x)
    drop, count = np.zeros((8, 8)), np.zeros((8, 8))
    for top in range(7):
        for left in range(7):
            covered = x.clone()
            covered[0, top:top + 2, left:left + 2] = 0
            drop[top:top + 2, left:left + 2] += base - probability(covered)
            count[top:top + 2, left:left + 2] += 1
    expected = np.clip(drop / count, 0, None)
    assert np.allclose(got, expected / expected.max(), atol=1e-5)
    assert got[SQUARE].min() > 0.5 and got[5:7, 0:2].max() == 0  # the dim square does not count


def test_explain_picks_the_predicted_class_and_the_last_conv_layer():
    model = square_detector()
    result = explain(model, image())
    assert result.target == 0 and result.probability == pytest.approx(float(torch.softmax(torch.tensor([1.0, 0]), 0)[0]))
    assert result.cam_layer == 0 and result.grad_cam is not None
    assert np.array_equal(result.saliency, square_mask())
    assert result.patch == 2
    assert all(p.grad is None for p in model.parameters())  # the weights' gradients are untouched
    with pytest.raises(ValueError, match="classes 0…1"):
        explain(model, image(), target=5)


def test_a_network_without_class_scores_is_refused_in_words():
    with pytest.raises(ValueError, match="needs a classifier"):
        explain(nn.Sequential(nn.Conv2d(1, 1, 1)), image())


def test_a_probe_explains_the_chosen_sample_or_says_why_not():
    from workbench.training.probes import ProbeRequest, capture

    x = torch.stack([image(), torch.zeros(1, 8, 8)])
    result = capture(square_detector(), x, None, ProbeRequest(activations=True, explain=True, sample=0))
    assert np.array_equal(result["explanation"].saliency, square_mask())
    result = capture(square_detector(), x, None, ProbeRequest(activations=True, explain=True, cam_layer=3))
    assert "explanation" not in result and "layer 3 outputs a vector" in result["explanation_error"]
    result = capture(nn.Sequential(nn.Conv2d(1, 1, 1)), x, None, ProbeRequest(activations=True, explain=True))
    assert "needs a classifier" in result["explanation_error"]
    assert "explanation" not in capture(square_detector(), x, None, ProbeRequest(activations=True))
