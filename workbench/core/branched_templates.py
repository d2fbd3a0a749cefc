"""Built-in networks with branches (project version 2): ResNets, a U-Net and an Inception block.

Layers carry readable ids ("l2b1_conv1"), which the connections name and the exported source and
the built module take as their attribute names. `workbench.core.templates` lists these beside the
course's sequential templates.
"""
from __future__ import annotations


def conv(name: str, k: int, f: int, s: int = 1, p: int = 0, bias: bool = True, **extra: object) -> dict:
    layer: dict = {"type": "Conv2d", "id": name, "out_channels": k, "kernel_size": f}
    if s != 1:
        layer["stride"] = s
    if p:
        layer["padding"] = p
    if not bias:
        layer["bias"] = False
    return {**layer, **extra}


def layer(type_: str, name: str, /, **params: object) -> dict:
    return {"type": type_, "id": name, **params}


def basic_block(name: str, source: str, channels: int, stride: int = 1, projection: bool = False) -> list[dict]:
    """ResNet's basic block (as torchvision's BasicBlock): 3×3 conv, BatchNorm, ReLU, 3×3 conv,
    BatchNorm, added to the block's input (through a 1×1 conv and BatchNorm when the volume
    changes: the projection shortcut), then ReLU. Ends in the layer `{name}_out`."""
    layers = [conv(f"{name}_conv1", channels, 3, stride, 1, bias=False, inputs=[source]),
              layer("BatchNorm2d", f"{name}_bn1"), layer("ReLU", f"{name}_relu1"),
              conv(f"{name}_conv2", channels, 3, 1, 1, bias=False), layer("BatchNorm2d", f"{name}_bn2")]
    shortcut = source
    if projection:
        layers += [conv(f"{name}_down", channels, 1, stride, bias=False, inputs=[source]),
                   layer("BatchNorm2d", f"{name}_downbn")]
        shortcut = f"{name}_downbn"
    return layers + [layer("Add", f"{name}_add", inputs=[f"{name}_bn2", shortcut]), layer("ReLU", f"{name}_out")]


def resnet(stem: list[dict], stages: list[tuple[int, int, int]], classes: int) -> list[dict]:
    """stages: (channels, blocks, stride of the first block). The stem's last layer feeds stage 1."""
    layers, source, depth = list(stem), stem[-1]["id"], None
    for s, (channels, blocks, stride) in enumerate(stages, 1):
        for b in range(1, blocks + 1):
            first = b == 1
            projection = first and (stride != 1 or (depth is not None and depth != channels))
            name = f"l{s}b{b}"
            layers += basic_block(name, source, channels, stride if first else 1, projection)
            source, depth = f"{name}_out", channels
    return layers + [layer("AdaptiveAvgPool2d", "avgpool", output_size=1), layer("Flatten", "flatten"),
                     layer("Linear", "fc", out_features=classes)]


def _resnet18() -> list[dict]:
    stem = [conv("conv1", 64, 7, 2, 3, bias=False), layer("BatchNorm2d", "bn1"), layer("ReLU", "relu"),
            layer("MaxPool2d", "maxpool", kernel_size=3, stride=2, padding=1)]
    return resnet(stem, [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2)], 1000)


def _resnet20() -> list[dict]:
    stem = [conv("conv1", 16, 3, 1, 1, bias=False), layer("BatchNorm2d", "bn1"), layer("ReLU", "relu")]
    return resnet(stem, [(16, 3, 1), (32, 3, 2), (64, 3, 2)], 10)


def _unet() -> list[dict]:
    """Encoder 32×32×16 → 16×16×32 → 8×8×32; decoder upsamples and concatenates the encoder's
    volume of the same size (the skip connections) before each conv."""
    return [
        layer("Corruption", "noise", kind="gaussian", level=0.2),
        conv("enc1_conv", 16, 3, p=1), layer("ReLU", "enc1"), layer("MaxPool2d", "pool1", kernel_size=2),
        conv("enc2_conv", 32, 3, p=1), layer("ReLU", "enc2"), layer("MaxPool2d", "pool2", kernel_size=2),
        conv("mid_conv", 32, 3, p=1), layer("ReLU", "mid"),
        layer("ConvTranspose2d", "up2", out_channels=32, kernel_size=2, stride=2),
        layer("Concat", "skip2", inputs=["up2", "enc2"]),
        conv("dec2_conv", 32, 3, p=1), layer("ReLU", "dec2"),
        layer("ConvTranspose2d", "up1", out_channels=16, kernel_size=2, stride=2),
        layer("Concat", "skip1", inputs=["up1", "enc1"]),
        conv("dec1_conv", 16, 3, p=1), layer("ReLU", "dec1"),
        conv("out_conv", 3, 1), layer("Sigmoid", "out"),
    ]


def _inception() -> list[dict]:
    """A stem, then one Inception block: 1×1, 1×1→3×3, 1×1→5×5 and 3×3 max-pool→1×1 branches side by
    side on the same 16×16×32 volume (padding keeps every branch 16×16), concatenated in depth."""
    return [
        conv("stem_conv", 32, 3, p=1), layer("ReLU", "stem_relu"), layer("MaxPool2d", "stem", kernel_size=2),
        conv("b1x1", 16, 1, inputs=["stem"]), layer("ReLU", "b1x1_relu"),
        conv("b3x3_reduce", 16, 1, inputs=["stem"]), layer("ReLU", "b3x3_reduce_relu"),
        conv("b3x3", 24, 3, p=1), layer("ReLU", "b3x3_relu"),
        conv("b5x5_reduce", 4, 1, inputs=["stem"]), layer("ReLU", "b5x5_reduce_relu"),
        conv("b5x5", 8, 5, p=2), layer("ReLU", "b5x5_relu"),
        layer("MaxPool2d", "bpool", kernel_size=3, stride=1, padding=1, inputs=["stem"]),
        conv("bpool_proj", 8, 1), layer("ReLU", "bpool_relu"),
        layer("Concat", "mixed", inputs=["b1x1_relu", "b3x3_relu", "b5x5_relu", "bpool_relu"]),
        layer("MaxPool2d", "pool", kernel_size=2), layer("Flatten", "flatten"), layer("Dropout", "drop", p=0.5),
        layer("Linear", "fc", out_features=10),
    ]


def _classify(dataset: str, epochs: int, lr: float = 1e-3) -> dict:
    return {"data": {"dataset": dataset},
            "training": {"task": "classify", "optimizer": "adam", "lr": lr, "batch_size": 64, "epochs": epochs}}


# name -> (one-line description, project)
BRANCHED: dict[str, tuple[str, dict]] = {
    "resnet-20": ("ResNet-20 for 32×32×3 (CIFAR-10-shaped): 3 stages of residual blocks, 1×1 projections where "
                  "the volume changes (trains offline on 'shapes')", {
        "input": [3, 32, 32], "layers": _resnet20(), **_classify("shapes", 10)}),
    "resnet18": ("ResNet-18 at 224×224×3, torchvision's layout: 11,689,512 parameters", {
        "input": [3, 224, 224], "layers": _resnet18()}),
    "unet-denoiser": ("A U-Net-style denoising conv autoencoder on 32×32×3 shapes: the decoder concatenates the "
                      "encoder's volumes (skip connections)", {
        "input": [3, 32, 32], "layers": _unet(),
        "data": {"dataset": "shapes"},
        "training": {"task": "autoencoder", "optimizer": "adam", "lr": 2e-3, "batch_size": 64, "epochs": 15,
                     "loss": "mse"}}),
    "inception-block": ("An Inception-style block on 32×32×3 shapes: 1×1, 3×3, 5×5 and pooling branches "
                        "concatenated in depth", {
        "input": [3, 32, 32], "layers": _inception(), **_classify("shapes", 10)}),
}
