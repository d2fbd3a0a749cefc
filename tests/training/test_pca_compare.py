"""PCA against autoencoders on the digits: a linear autoencoder trained by the engine lands within
10% of PCA at the same k; quantized codes and denoising sweeps report honest errors."""
import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from workbench.core.templates import template
from workbench.data import load_dataset
from workbench.training.compression import code_info, compression_table, quantize
from workbench.training.denoise_sweep import corrupt, denoise_sweep
from workbench.training.engine import Trainer
from workbench.training.pca_compare import compare, curve_ks, pca_errors


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _trained(name, **overrides):
    trainer = Trainer(name, device="cpu", **overrides)
    events = list(trainer.events())
    assert events[-1]["status"] == "finished"
    return trainer.project, trainer.model.cpu().eval(), load_dataset(trainer.project["data"], trainer.project["input"])


@pytest.fixture(scope="module")
def linear_ae():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _trained("linear-autoencoder")  # the template: full-batch Adam, 300 steps, k = 8
    finally:
        torch.set_num_threads(threads)


def test_pca_errors_are_sklearns_reconstruction_error():
    data = load_dataset({"dataset": "digits"}, [1, 8, 8])
    errors, _ = pca_errors(data.train_x, data.val_x, np.array([2, 8, 16]))
    train, val = data.train_x.flatten(1).numpy(), data.val_x.flatten(1).numpy()
    for k, error in zip((2, 8, 16), errors):
        pca = PCA(n_components=k).fit(train)
        expected = ((pca.inverse_transform(pca.transform(val)) - val) ** 2).mean()
        assert error == pytest.approx(expected, rel=1e-4)
    assert errors[0] > errors[1] > errors[2]
    assert list(curve_ks(8, 64)[:16]) == list(range(1, 17)) and curve_ks(8, 64)[-1] == 64


def test_a_linear_autoencoder_lands_within_ten_percent_of_pca(linear_ae):
    project, model, data = linear_ae
    result = compare(project, model, data)
    assert result.k == 8 and result.code_layer == 1 and result.input_size == 64
    assert result.pca_val_mse == pytest.approx(0.0240, abs=0.001)  # digits, k = 8, this split
    # PCA is the best linear code: a trained linear AE cannot beat it, and gets within 10%
    assert result.pca_val_mse * 0.999 <= result.ae_val_mse <= 1.10 * result.pca_val_mse
    with torch.no_grad():
        direct = float(((model(data.val_x) - data.val_x) ** 2).mean())
    assert result.ae_val_mse == pytest.approx(direct, rel=1e-5)
    assert result.codes.shape == (len(data.val_x), 8) and result.inputs.shape == (8, 1, 8, 8)
    assert result.to_json()["k"] == 8


def test_quantized_codes_cost_error_as_bits_drop(linear_ae):
    project, model, data = linear_ae
    info = code_info(project)
    rows = compression_table(model, info, data.train_x, data.val_x)
    assert [r["bits"] for r in rows] == [32, 8, 4, 2]
    assert [r["code_bytes"] for r in rows] == [32, 8, 4, 2] and rows[1]["byte_ratio"] == 8.0
    assert info.ratio == 8.0
    full, eight, four, two = (r["val_mse"] for r in rows)
    assert eight == pytest.approx(full, rel=0.02)  # 8 bits per unit: nearly free
    assert full < four < two and two > 1.2 * full
    codes = torch.tensor([[0.0], [0.6], [1.0], [2.0]])
    assert quantize(codes, torch.tensor([0.0]), torch.tensor([1.0]), 1).flatten().tolist() == [0.0, 1.0, 1.0, 1.0]


def test_a_denoising_autoencoder_beats_doing_nothing():
    project, model, data = _trained("denoising-autoencoder", epochs=15)
    rows = denoise_sweep(model, data.val_x, "gaussian", (0.0, 0.2, 0.4))
    assert rows[0]["noisy_mse"] == 0.0
    assert rows[1]["noisy_mse"] == pytest.approx(0.04, rel=0.1)  # gaussian std 0.2: variance 0.04
    assert rows[1]["denoised_mse"] < 0.7 * rows[1]["noisy_mse"]
    assert rows[2]["denoised_mse"] < 0.5 * rows[2]["noisy_mse"]
    masked = corrupt(data.val_x, "masking", 0.5)
    assert 0.4 < float((masked == 0).float().mean() - (data.val_x == 0).float().mean()) / float((data.val_x != 0).float().mean()) < 0.6
    assert torch.equal(corrupt(data.val_x, "masking", 0.5), masked)  # the same draw every time
