"""Where a classifier looks, for one sample: saliency (the input gradient), Grad-CAM at a layer with a
volume output (a conv layer), and occlusion sensitivity.

    explanation = explain(model, x)          # x: one sample (C, H, W); layer=None: the last conv layer
    explanation.saliency, explanation.grad_cam, explanation.occlusion   # (H, W) float32 maps in [0, 1]

- Saliency (Simonyan et al. 2014): |d score / d input|, the largest over the channels.
- Grad-CAM (Selvaraju et al. 2017): the layer's channels weighted by the mean gradient of the score
  over each channel, summed, clipped at 0, scaled up (bilinear) to the input's size.
- Occlusion (Zeiler & Fergus 2014): how much the class probability drops when a patch of the input
  is covered with zeros, for each patch position (the drops of the patches covering a pixel, averaged).

The score is the network's output for the class (a logit; a probability when the network ends in
Softmax). Gradients are taken with torch.autograd.grad, so the weights' gradients are never touched;
the model's train/eval modes are restored.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

OCCLUSION_BATCH = 256  # occluded copies per forward pass


@dataclass
class Explanation:
    target: int              # the class explained
    probability: float       # the network's probability for it
    saliency: np.ndarray     # (H, W) in [0, 1]
    grad_cam: np.ndarray | None  # (H, W) in [0, 1]; None: the network has no layer with a volume output
    cam_layer: int | None
    occlusion: np.ndarray    # (H, W) in [0, 1]: the probability drop, 1 = the largest
    patch: int               # occlusion patch side (pixels)


@contextlib.contextmanager
def _evaluating(model: nn.Module) -> Iterator[None]:
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


def _scores(model: nn.Module, x: Tensor) -> Tensor:
    out = model(x)
    if out.dim() != 2:
        raise ValueError(f"where the network looks needs a classifier (an output of class scores); this network "
                         f"outputs {'×'.join(map(str, out.shape[1:]))}")
    return out


def _probabilities(model: nn.Module, out: Tensor) -> Tensor:
    """Class probabilities: the output itself when the network ends in Softmax (its last layer, the
    output of a chain or of a graph alike)."""
    children = list(model.children())
    return out if children and isinstance(children[-1], nn.Softmax) else out.softmax(1)


def _unit(map_: Tensor) -> np.ndarray:
    """Scaled to [0, 1] by its largest value (all zeros stays zeros)."""
    top = map_.max()
    scaled = map_ / top if top > 0 else torch.zeros_like(map_)
    return scaled.detach().to("cpu", torch.float32).numpy()


def volume_layers(model: nn.Module, x: Tensor) -> list[int]:
    """The layers whose output is a volume (N, C, H, W) for input x: the layers Grad-CAM can use."""
    found: list[int] = []
    handles = [child.register_forward_hook(
        lambda _m, _i, out, index=i: found.append(index) if isinstance(out, Tensor) and out.dim() == 4 else None)
        for i, child in enumerate(model.children())]
    try:
        with torch.no_grad(), _evaluating(model):
            model(x[None])
    finally:
        for handle in handles:
            handle.remove()
    return found


def default_cam_layer(model: nn.Module, x: Tensor) -> int | None:
    """The last Conv2d whose output is a volume (the usual Grad-CAM layer), else the last volume layer."""
    volumes = volume_layers(model, x)
    children = list(model.children())
    convs = [i for i in volumes if isinstance(children[i], nn.Conv2d)]
    return convs[-1] if convs else volumes[-1] if volumes else None


def saliency(model: nn.Module, x: Tensor, target: int) -> np.ndarray:
    """|d score_target / d x|, the largest over the channels: (H, W) in [0, 1]."""
    with torch.enable_grad(), _evaluating(model):  # also when called under no_grad (a probe)
        sample = x[None].detach().clone().requires_grad_(True)
        score = _scores(model, sample)[0, target]
        (grad,) = torch.autograd.grad(score, sample)
    return _unit(grad[0].abs().amax(0))


def grad_cam(model: nn.Module, x: Tensor, target: int, layer: int) -> np.ndarray:
    """Grad-CAM of `target` at layer `layer` (its output must be a volume), at the input's size."""
    children = list(model.children())
    if not 0 <= layer < len(children):
        raise ValueError(f"Grad-CAM at layer {layer}: the network has layers 0…{len(children) - 1}")
    child = children[layer]
    kept: list[Tensor] = []
    handle = child.register_forward_hook(lambda _m, _i, out: kept.append(out))
    try:
        with torch.enable_grad(), _evaluating(model):
            sample = x[None].detach().clone().requires_grad_(True)  # so the layer's output has a gradient
            score = _scores(model, sample)[0, target]
            if not kept or kept[0].dim() != 4:
                raise ValueError(f"Grad-CAM needs a layer whose output is a volume; layer {layer} outputs "
                                 f"{'a vector' if kept else 'nothing'}")
            activation = kept[0]
            (grad,) = torch.autograd.grad(score, activation)
    finally:
        handle.remove()
    weights = grad[0].mean(dim=(1, 2))                       # (K,): each channel's mean gradient
    cam = F.relu((weights[:, None, None] * activation[0].detach()).sum(0))  # (h, w)
    cam = F.interpolate(cam[None, None], size=tuple(x.shape[1:]), mode="bilinear", align_corners=False)[0, 0]
    return _unit(cam)


def occlusion_patch(height: int, width: int) -> tuple[int, int]:
    """(patch side, stride): a quarter of the image's shorter side, moved by half a patch."""
    side = max(1, min(height, width) // 4)
    return side, max(1, side // 2)


def occlusion(model: nn.Module, x: Tensor, target: int, patch: int | None = None,
              stride: int | None = None) -> np.ndarray:
    """The drop in the target's probability when a patch is covered with zeros, averaged over the
    patches covering each pixel: (H, W) in [0, 1] (a drop of 0 or less is 0)."""
    _, height, width = x.shape
    default_patch, default_stride = occlusion_patch(height, width)
    patch, stride = patch or default_patch, stride or default_stride
    tops = list(range(0, max(height - patch, 0) + 1, stride))
    lefts = list(range(0, max(width - patch, 0) + 1, stride))
    if tops[-1] + patch < height:
        tops.append(height - patch)
    if lefts[-1] + patch < width:
        lefts.append(width - patch)
    positions = [(top, left) for top in tops for left in lefts]
    drop = torch.zeros(height, width, device=x.device)
    count = torch.zeros(height, width, device=x.device)
    with torch.no_grad(), _evaluating(model):
        base = float(_probabilities(model, _scores(model, x[None]))[0, target])
        for start in range(0, len(positions), OCCLUSION_BATCH):
            chunk = positions[start:start + OCCLUSION_BATCH]
            copies = x[None].repeat(len(chunk), 1, 1, 1)
            for k, (top, left) in enumerate(chunk):
                copies[k, :, top:top + patch, left:left + patch] = 0
            probabilities = _probabilities(model, _scores(model, copies))[:, target]
            for k, (top, left) in enumerate(chunk):
                drop[top:top + patch, left:left + patch] += base - probabilities[k]
                count[top:top + patch, left:left + patch] += 1
    return _unit((drop / count.clamp_min(1)).clamp_min(0))


def explain(model: nn.Module, x: Tensor, target: int | None = None, layer: int | None = None) -> Explanation:
    """All three maps for one sample x (C, H, W), for `target` (None: the predicted class) and Grad-CAM
    at `layer` (None: the last conv layer)."""
    if x.dim() != 3:
        raise ValueError(f"where the network looks is shown for images; this input is {'×'.join(map(str, x.shape))}")
    with torch.no_grad(), _evaluating(model):
        probabilities = _probabilities(model, _scores(model, x[None]))[0]
    if target is None:
        target = int(probabilities.argmax())
    if not 0 <= target < len(probabilities):
        raise ValueError(f"class {target}: the network has classes 0…{len(probabilities) - 1}")
    cam_layer = layer if layer is not None else default_cam_layer(model, x)
    patch, _ = occlusion_patch(*x.shape[1:])
    return Explanation(target=target, probability=float(probabilities[target]), saliency=saliency(model, x, target),
                       grad_cam=None if cam_layer is None else grad_cam(model, x, target, cam_layer),
                       cam_layer=cam_layer, occlusion=occlusion(model, x, target), patch=patch)
