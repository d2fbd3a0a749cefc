"""Built-in projects: the lecture's AlexNet, classic CNNs, the autoencoders of the course, and networks
with branches (workbench.core.branched_templates)."""
from __future__ import annotations

import copy

from workbench.core.branched_templates import BRANCHED
from workbench.core.project import validate_project

DEFAULT_TEMPLATE = "digits-cnn"


def _conv(k: int, f: int, s: int = 1, p: int = 0) -> dict:
    layer = {"type": "Conv2d", "out_channels": k, "kernel_size": f}
    if s != 1:
        layer["stride"] = s
    if p:
        layer["padding"] = p
    return layer


def _pool(f: int, s: int | None = None, kind: str = "MaxPool2d") -> dict:
    layer = {"type": kind, "kernel_size": f}
    if s is not None and s != f:
        layer["stride"] = s
    return layer


def _fc(n: int) -> dict:
    return {"type": "Linear", "out_features": n}


RELU, FLAT, SIGMOID = {"type": "ReLU"}, {"type": "Flatten"}, {"type": "Sigmoid"}
LRN = {"type": "LocalResponseNorm", "size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
DROP = {"type": "Dropout", "p": 0.5}


def _classify(dataset: str, epochs: int, lr: float = 1e-3, batch_size: int = 64, **data: object) -> dict:
    return {"data": {"dataset": dataset, **data},
            "training": {"task": "classify", "optimizer": "adam", "lr": lr, "batch_size": batch_size,
                         "epochs": epochs}}


def _reconstruct(dataset: str, epochs: int = 30, **training: object) -> dict:
    # The denoising template corrupts with its Corruption layer (active only while training), so
    # every autoencoder here trains on the plain reconstruction task: the target is the clean input.
    return {"data": {"dataset": dataset},
            "training": {"task": "autoencoder", "optimizer": "adam", "lr": 2e-3, "batch_size": 64,
                         "epochs": epochs, "loss": "mse", **training}}


# name -> (one-line description, project)
_TEMPLATES: dict[str, tuple[str, dict]] = {
    "alexnet": ("The lecture's single-tower AlexNet: 227×227×3 → 55×55×96 → … → 1000 classes (62,378,344 parameters)", {
        "input": [3, 227, 227],
        "layers": [_conv(96, 11, s=4), RELU, LRN, _pool(3, 2),
                   _conv(256, 5, p=2), RELU, LRN, _pool(3, 2),
                   _conv(384, 3, p=1), RELU, _conv(384, 3, p=1), RELU, _conv(256, 3, p=1), RELU, _pool(3, 2),
                   FLAT, DROP, _fc(4096), RELU, DROP, _fc(4096), RELU, _fc(1000), {"type": "Softmax"}],
    }),
    "lenet5": ("LeCun's LeNet-5 for 32×32 digits: two conv/average-pool stages, then 120-84-10", {
        "input": [1, 32, 32],
        "layers": [_conv(6, 5), {"type": "Tanh"}, _pool(2, kind="AvgPool2d"), _conv(16, 5), {"type": "Tanh"},
                   _pool(2, kind="AvgPool2d"), FLAT, _fc(120), {"type": "Tanh"}, _fc(84), {"type": "Tanh"}, _fc(10)],
        **_classify("digits", 20, resize=32),
    }),
    "cifar10-cnn": ("A small CNN for 32×32×3 CIFAR-10-shaped images (trains offline on 'shapes')", {
        "input": [3, 32, 32],
        "layers": [_conv(32, 5, p=2), RELU, _pool(2), _conv(64, 5, p=2), RELU, _pool(2),
                   _conv(64, 3, p=1), RELU, _pool(2), FLAT, _fc(128), RELU, DROP, _fc(10)],
        **_classify("shapes", 15),
    }),
    "mlp-cifar10": ("A fully connected network on 32×32×3: 3,072 weights per first-layer neuron", {
        "input": [3, 32, 32],
        # BatchNorm1d standardizes each of the 3,072 inputs: on raw [0, 1] pixels, all positive and
        # dominated by each image's random colours, the network stayed at chance (~12 % after 15
        # epochs, training accuracy too). 12,000 images: on 6,000 it learns the training set, not shapes.
        "layers": [FLAT, {"type": "BatchNorm1d"}, _fc(256), RELU, _fc(128), RELU, _fc(10)],
        **_classify("shapes", 15, batch_size=128, count=12_000),
    }),
    "digits-cnn": ("A small CNN for the embedded 8×8 handwritten digits (the default project)", {
        "input": [1, 8, 8],
        "layers": [_conv(16, 3, p=1), RELU, _conv(32, 3, p=1), RELU, _pool(2), FLAT, _fc(64), RELU,
                   {"type": "Dropout", "p": 0.25}, _fc(10)],
        **_classify("digits", 30, lr=2e-3),
    }),
    "autoencoder": ("A shallow autoencoder: 64 → 16-unit code → 64 on the 8×8 digits", {
        "input": [1, 8, 8],
        # LeakyReLU on the code: with ReLU, 2 seeds in 6 lost code units for good (their error stuck
        # at 0.0152, PCA-16's is 0.0115); all 6 reach PCA-16's error +10 % by epoch ~55 (< 1 s).
        "layers": [FLAT, _fc(16), {"type": "LeakyReLU"}, _fc(64), SIGMOID,
                   {"type": "Unflatten", "unflattened_size": [1, 8, 8]}],
        **_reconstruct("digits", epochs=100),
    }),
    "deep-autoencoder": ("A deep autoencoder: 64 → 48 → 32 → 2-unit code → 32 → 48 → 64 (a plottable code)", {
        "input": [1, 8, 8],
        "layers": [FLAT, _fc(48), RELU, _fc(32), RELU, _fc(2), _fc(32), RELU, _fc(48), RELU, _fc(64), SIGMOID,
                   {"type": "Unflatten", "unflattened_size": [1, 8, 8]}],
        **_reconstruct("digits", epochs=60),
    }),
    "conv-autoencoder": ("A convolutional autoencoder on 32×32×3 shapes: 8×8×16 code, transposed-conv decoder", {
        "input": [3, 32, 32],
        "layers": [_conv(16, 3, p=1), RELU, _pool(2), _conv(16, 3, p=1), RELU, _pool(2),
                   {"type": "ConvTranspose2d", "out_channels": 16, "kernel_size": 2, "stride": 2}, RELU,
                   {"type": "ConvTranspose2d", "out_channels": 3, "kernel_size": 2, "stride": 2}, SIGMOID],
        # lr 5e-3: R² 0.9 by epoch ~19 (~10-25 s on 2 cores); at 2e-3 it took 31 epochs
        **_reconstruct("shapes", epochs=25, lr=5e-3),
    }),
    "denoising-autoencoder": ("A denoising autoencoder: corrupt the digits with noise, reconstruct them clean", {
        "input": [1, 8, 8],
        # Noise std 0.2, as the conv denoisers: at 0.3 (more noise than the digits' own variance) the
        # clean reconstruction levels off at R² 0.89-0.90 whatever the learning rate, activation or
        # epochs (800 tried); at 0.2 it reaches R² 0.9 by epoch ~70 (< 1 s), ~0.93 by 150.
        "layers": [{"type": "Corruption", "kind": "gaussian", "level": 0.2}, FLAT, _fc(32), RELU, _fc(64), SIGMOID,
                   {"type": "Unflatten", "unflattened_size": [1, 8, 8]}],
        **_reconstruct("digits", epochs=150),
    }),
    "stacked-autoencoder": ("A stacked autoencoder for greedy layer-wise pretraining: 64 → 48 → 24 → 8 → 24 → 48 → 64 "
                            "(trains layer-wise by default)", {
        "input": [1, 8, 8],
        "layers": [FLAT, _fc(48), RELU, _fc(24), RELU, _fc(8), RELU, _fc(24), RELU, _fc(48), RELU, _fc(64), SIGMOID,
                   {"type": "Unflatten", "unflattened_size": [1, 8, 8]}],
        **_reconstruct("digits", epochs=150, schedule="layerwise"),
    }),
    "linear-autoencoder": ("A linear autoencoder (no non-linearity): 64 → 8 → 64, to set against PCA with k = 8", {
        "input": [1, 8, 8],
        "layers": [FLAT, _fc(8), _fc(64), {"type": "Unflatten", "unflattened_size": [1, 8, 8]}],
        # Full-batch Adam: a linear code converges to PCA's subspace in a few hundred steps.
        "data": {"dataset": "digits"},
        "training": {"task": "autoencoder", "optimizer": "adam", "lr": 0.03, "batch_size": 2048, "epochs": 300,
                     "loss": "mse"},
    }),
    "denoising-conv-autoencoder": ("A denoising conv autoencoder on 32×32×3 shapes: noise in, 8×8×8 code, clean out", {
        "input": [3, 32, 32],
        "layers": [{"type": "Corruption", "kind": "gaussian", "level": 0.2},
                   _conv(16, 3, p=1), RELU, _pool(2), _conv(8, 3, p=1), RELU, _pool(2),
                   # 4×4 kernels at stride 2 overlap, so each output pixel mixes neighbouring codes: with
                   # 2×2 ones (and 16 channels) every 4×4 patch came from one 8-value code and the error
                   # levelled off at R² 0.885; with these, batch 32 and lr 5e-3 R² 0.9 comes by epoch
                   # 12-22 (seeds 0-2; with 16 channels here seed 2 missed it in 30).
                   {"type": "ConvTranspose2d", "out_channels": 32, "kernel_size": 4, "stride": 2, "padding": 1}, RELU,
                   {"type": "ConvTranspose2d", "out_channels": 3, "kernel_size": 4, "stride": 2, "padding": 1},
                   SIGMOID],
        **_reconstruct("shapes", epochs=30, lr=5e-3, batch_size=32),
    }),
}

_TEMPLATES.update(BRANCHED)

TEMPLATES: dict[str, str] = {name: description for name, (description, _) in _TEMPLATES.items()}


def short_description(name: str) -> str:
    """What a template is, in a few words: its description up to the first ": " or " (" (a menu's width)."""
    return TEMPLATES[name].split(": ")[0].split(" (")[0]


def blank() -> dict:
    """File > New: the default dataset's 8×8×1 input and the smallest network that trains on it
    (Flatten, Linear 10), so Start works at once; layers go in between."""
    return validate_project({"input": [1, 8, 8], "layers": [FLAT, _fc(10)],
                             **_classify("digits", 20)})


def template(name: str) -> dict:
    """A fresh, validated copy of a built-in project (new layer ids each call)."""
    description, doc = _TEMPLATES[name]
    return validate_project({"name": name, **copy.deepcopy(doc)})
