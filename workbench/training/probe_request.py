"""What the window asks probes for, and the code layer it is asked about: plain data, no torch, so
the window builds requests without loading it (workbench.training.probes captures them)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

PANEL_KINDS = ("filters", "activations", "latent", "reconstructions", "confusion")
LIVE_RECONSTRUCTIONS = 16  # reconstructions a live probe sends: all the panel shows


@dataclass
class ProbeRequest:
    """What to capture. layer: the layer of interest (latent codes; None = the bottleneck);
    sample: index into the probe batch whose activations are shown; image: an outside (C, H, W)
    image (an opened file) used for the activations instead of that sample; explain (with
    activations): where the network looks for that sample or image (saliency, Grad-CAM at cam_layer
    or the last conv layer, occlusion: workbench.training.attribution)."""

    filters: bool = False
    activations: bool = False
    latent: bool = False
    reconstructions: bool = False
    confusion: bool = False
    layer: int | None = None
    sample: int = 0
    image: np.ndarray | None = None
    explain: bool = False
    cam_layer: int | None = None

    def any(self) -> bool:
        return any(getattr(self, kind) for kind in PANEL_KINDS)

    @classmethod
    def for_panels(cls, kinds: Iterable[str], layer: int | None = None, sample: int = 0,
                   image: np.ndarray | None = None, explain: bool = False,
                   cam_layer: int | None = None) -> "ProbeRequest":
        """The request for the panels now visible, e.g. {"filters", "latent"}; unknown kinds (curves)
        need no probe and are ignored."""
        shown = set(kinds)
        return cls(**{kind: kind in shown for kind in PANEL_KINDS}, layer=layer, sample=sample, image=image,
                   explain=explain, cam_layer=cam_layer)


def bottleneck(sizes: list[int]) -> int | None:
    """The code layer of an autoencoder from each layer's output size (values per sample): the
    narrowest layer but the last (the last is the reconstruction). Equal sizes in a row (Linear 16 ->
    ReLU 16) are one code, taken at the end of the run: after its activation."""
    candidates = sizes[:-1]
    if not candidates:
        return None
    index = candidates.index(min(candidates))
    while index + 1 < len(candidates) and candidates[index + 1] == candidates[index]:
        index += 1
    return index
