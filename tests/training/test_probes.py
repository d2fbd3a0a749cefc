"""Probes give the same numbers torch gives, leave the model as it was, and skip what no panel needs."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import confusion_matrix

from workbench.core.build import build_model
from workbench.training.probes import LIVE_RECONSTRUCTIONS, LiveProbe, ProbeRequest, capture

ALL = ProbeRequest.for_panels(["filters", "activations", "latent", "reconstructions", "confusion"])


def _model(name: str) -> torch.nn.Sequential:
    torch.manual_seed(0)
    return build_model(name)


def _batch(shape: tuple[int, ...], n: int = 20, classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand((n, *shape), generator=g), torch.randint(0, classes, (n,), generator=g)


def test_filters_are_the_conv_weights():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8))
    out = capture(model, x, y, ProbeRequest(filters=True))
    assert sorted(out["filters"]) == [0, 2]
    np.testing.assert_array_equal(out["filters"][2], model[2].weight.detach().numpy())
    assert out["filters"][2].shape == (32, 16, 3, 3)
    assert set(out) == {"filters"}  # no forward pass was needed


def test_activations_match_a_forward_pass_of_the_chosen_sample():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8))
    out = capture(model, x, y, ProbeRequest(activations=True, sample=3))
    model.eval()
    h = x[3:4]
    for i, layer in enumerate(model):
        h = layer(h)
        np.testing.assert_allclose(out["activations"][i], h[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert out["activations"][0].shape == (16, 8, 8)
    np.testing.assert_array_equal(out["input"], x[3].numpy())


def test_same_activations_whether_or_not_the_batch_is_forwarded():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8))
    alone = capture(model, x, y, ProbeRequest(activations=True, sample=5))
    with_batch = capture(model, x, y, ProbeRequest(activations=True, confusion=True, sample=5))
    for i in alone["activations"]:
        np.testing.assert_allclose(alone["activations"][i], with_batch["activations"][i], rtol=1e-5, atol=1e-6)


def test_outside_image_replaces_the_sample():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8))
    image = np.ones((1, 8, 8), np.float32)
    out = capture(model, x, y, ProbeRequest(activations=True, latent=True, image=image))
    np.testing.assert_array_equal(out["input"], image)
    model.eval()
    expected = model[0](torch.ones(1, 1, 8, 8))[0].detach().numpy()
    np.testing.assert_allclose(out["activations"][0], expected, rtol=1e-5)
    assert out["latent"].shape[0] == 20


@pytest.mark.parametrize("name, layer, width", [("deep-autoencoder", 5, 2), ("autoencoder", 2, 16),
                                                ("conv-autoencoder", 5, 16 * 8 * 8)])
def test_latent_defaults_to_the_bottleneck(name, layer, width):
    model = _model(name)
    shape = tuple(int(s) for s in {"conv-autoencoder": (3, 32, 32)}.get(name, (1, 8, 8)))
    x, y = _batch(shape)
    out = capture(model, x, y, ProbeRequest(latent=True))
    assert out["latent_layer"] == layer
    assert out["latent"].shape == (20, width)
    model.eval()
    np.testing.assert_allclose(out["latent"], model[: layer + 1](x).flatten(1).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out["labels"], y.numpy())


def test_latent_at_a_chosen_layer():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8))
    out = capture(model, x, y, ProbeRequest(latent=True, layer=7))
    assert out["latent_layer"] == 7 and out["latent"].shape == (20, 64)


def test_confusion_matches_sklearn_and_wrong_samples_are_known():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8), n=64)
    out = capture(model, x, y, ProbeRequest(confusion=True))
    model.eval()
    predicted = model(x).argmax(1).numpy()
    np.testing.assert_array_equal(out["confusion"], confusion_matrix(y.numpy(), predicted, labels=range(10)))
    np.testing.assert_array_equal(out["predicted"], predicted)
    assert out["confidence"].min() > 0 and out["confidence"].max() <= 1
    assert "reconstructions" not in out


def test_reconstructions_and_the_corrupted_input_of_a_denoising_autoencoder():
    model = _model("denoising-autoencoder")
    x, y = _batch((1, 8, 8))
    before = torch.get_rng_state()
    out = capture(model, x, y, ProbeRequest(reconstructions=True))
    assert torch.equal(torch.get_rng_state(), before)  # the training random stream is untouched
    assert out["reconstructions"].shape == out["corrupted"].shape == (20, 1, 8, 8)
    noise = out["corrupted"] - out["inputs"]
    assert 0.2 < noise.std() < 0.4  # the template's gaussian level 0.3
    model.eval()
    np.testing.assert_allclose(out["reconstructions"], model(torch.from_numpy(out["corrupted"])).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    again = capture(model, x, y, ProbeRequest(reconstructions=True))
    np.testing.assert_array_equal(again["corrupted"], out["corrupted"])  # same noise: no flicker


def test_model_modes_and_hooks_are_restored_even_on_failure():
    model = _model("digits-cnn")
    model.train()
    model[8].eval()  # a mixed state must survive as it was
    x, y = _batch((1, 8, 8))
    capture(model, x, y, ALL)
    assert [m.training for m in model] == [i != 8 for i in range(len(model))]
    assert all(not m._forward_hooks for m in model)
    with pytest.raises(RuntimeError):
        capture(model, torch.rand(4, 3, 8, 8), None, ALL)  # wrong depth: torch refuses
    assert [m.training for m in model] == [i != 8 for i in range(len(model))]
    assert all(not m._forward_hooks for m in model)


def test_requests_follow_the_visible_panels():
    assert not ProbeRequest().any()
    assert capture(_model("digits-cnn"), *_batch((1, 8, 8)), ProbeRequest()) == {}
    req = ProbeRequest.for_panels({"filters", "curves"}, layer=3, sample=2)
    assert req.filters and not (req.activations or req.latent or req.reconstructions or req.confusion)
    assert (req.layer, req.sample) == (3, 2) and req.any()


def test_an_empty_batch_gives_what_needs_no_samples_and_does_not_crash():
    model = _model("digits-cnn")
    x, y = torch.zeros((0, 1, 8, 8)), torch.zeros((0,), dtype=torch.long)
    assert set(capture(model, x, y, ALL)) == {"filters"}
    image = np.random.default_rng(0).random((1, 8, 8), dtype=np.float32)
    out = capture(model, x, y, ProbeRequest(activations=True, latent=True, image=image))
    np.testing.assert_array_equal(out["input"], image)
    assert sorted(out["activations"]) == list(range(10)) and "latent" not in out


def test_confusion_is_sized_by_the_classes_not_the_outputs():
    import torch
    from torch import nn

    from workbench.training.probes import ProbeRequest, capture

    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 100))  # 100 outputs, 3 classes
    x, y = torch.rand(30, 1, 2, 2), torch.arange(30) % 3
    result = capture(model, x, y, ProbeRequest(confusion=True), classes=3)
    assert result["confusion"].shape == (3, 3)
    in_range = (result["predicted"] < 3).sum()
    assert result["confusion"].sum() == in_range  # a prediction of class 57 is wrong, and not drawn


def _nudge(model: torch.nn.Module) -> None:
    """A training step's worth of change, made by hand so the expected numbers are known."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))


def test_live_probes_refresh_the_batch_a_chunk_at_a_time_and_send_the_inputs_once():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8), n=40)
    live = LiveProbe(x, y, classes=10, chunk=16)
    first = live.capture(model, ALL)
    whole = capture(model, x, y, ALL, classes=10)
    for key in ("latent", "predicted", "confusion", "inputs", "labels"):
        np.testing.assert_array_equal(first[key], whole[key])
    old = whole
    _nudge(model)
    new = capture(model, x, y, ALL, classes=10)
    second = live.capture(model, ALL)
    assert "inputs" not in second and "labels" not in second  # the panels keep them from the first
    points, how, _ = first["inputs_2d"]  # the raw inputs' PCA beside the codes, made once here
    assert points.shape == (40, 2) and how.startswith("PCA of 64 input values") and "inputs_2d" not in second
    pca = PCA(2).fit(x.flatten(1).numpy())
    assert np.isclose(float(how.split("(")[1].split("%")[0]) / 100, pca.explained_variance_ratio_.sum(), atol=0.006)
    np.testing.assert_allclose(np.abs(points), np.abs(pca.transform(x.flatten(1).numpy())), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(second["latent"][:16], new["latent"][:16], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(second["latent"][16:], old["latent"][16:])  # not probed yet
    expected = np.concatenate([new["predicted"][:16], old["predicted"][16:]])
    np.testing.assert_array_equal(second["predicted"], expected)
    np.testing.assert_array_equal(second["confusion"], confusion_matrix(y.numpy(), expected, labels=range(10)))
    np.testing.assert_allclose(second["filters"][0], model[0].weight.detach().numpy())  # always fresh
    second["latent"][:] = 0  # what was sent is a copy: the next probe does not see this
    live.capture(model, ALL)  # rows 16-31
    third = live.capture(model, ALL)  # rows 32-39: the whole batch is now from the nudged model
    np.testing.assert_allclose(third["latent"], new["latent"], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(third["predicted"], new["predicted"])


def test_live_probes_start_over_for_another_layer_and_send_the_inputs_again():
    model = _model("digits-cnn")
    x, y = _batch((1, 8, 8), n=40)
    live = LiveProbe(x, y, classes=10, chunk=16)
    live.capture(model, ALL)
    other = ProbeRequest.for_panels(["latent"], layer=2)
    probe = live.capture(model, other)
    assert probe["latent_layer"] == 2 and probe["latent"].shape == (40, 32 * 8 * 8)
    np.testing.assert_array_equal(probe["inputs"], x.numpy())


def test_live_reconstructions_are_the_first_ones_with_the_same_noise_every_time():
    model = _model("denoising-autoencoder")
    x, y = _batch((1, 8, 8), n=40)
    live = LiveProbe(x, y)
    request = ProbeRequest(reconstructions=True)
    first, second = live.capture(model, request), live.capture(model, request)
    assert first["reconstructions"].shape == (LIVE_RECONSTRUCTIONS, 1, 8, 8)
    np.testing.assert_array_equal(first["corrupted"], second["corrupted"])  # no flicker
    assert not np.array_equal(first["corrupted"], x[:LIVE_RECONSTRUCTIONS].numpy())
