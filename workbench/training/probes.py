"""Probes: what the network's insides look like right now, as plain numpy arrays.

`capture` runs on the training worker between steps (and on a loaded model for saved runs). It
hooks each top-level child of the model (child i = project layer i), runs one no-grad forward pass
in eval mode, and returns CPU numpy copies, so the GUI never holds a live tensor. Hooks are removed
and every module's train/eval mode is restored in `finally`, so a probe can never change training.

Only what a visible panel needs is computed (see `ProbeRequest.for_panels`): a pass with only the
activation panel open forwards one sample, not the whole probe batch.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn

from workbench.core.layers import Corruption
from workbench.core.projection import project_inputs
from workbench.training.events import Probe
from workbench.training.probe_request import LIVE_RECONSTRUCTIONS, ProbeRequest, bottleneck

PROBE_COUNT = 256  # the engine's probe batch: the first validation samples
# A live probe re-probes as many of the batch's samples as fit in this time (see LiveProbe), at least
# LIVE_CHUNK_MIN: digits-cnn re-probes all 256 each time, cifar10-cnn 16 on 2 CPU cores.
LIVE_CHUNK_BUDGET_S = 0.003
LIVE_CHUNK_MIN = 16
CORRUPTION_SEED = 0  # the same noise every probe, so the denoising grid does not flicker


def _numpy(t: Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy().copy()


def conv_filters(model: nn.Module) -> dict[int, np.ndarray]:
    """Every Conv2d layer's kernels, {layer index: (K, C, F, F) float32}."""
    return {i: _numpy(m.weight) for i, m in enumerate(model.children()) if isinstance(m, nn.Conv2d)}


def confusion_counts(truth: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """(k, k) counts, rows the true class. Only the dataset's k classes count, not the network's
    outputs (AlexNet's 1,000 outputs on 10 classes would be a 1,000×1,000 matrix): a prediction
    beyond them is wrong and not drawn."""
    known = (truth >= 0) & (truth < k) & (predicted < k)
    return np.bincount(truth[known] * k + predicted[known], minlength=k * k).reshape(k, k)


def _as_probabilities(out: Tensor) -> Tensor:
    """Class probabilities from the output: used as is when the network ends in a Softmax."""
    if out.min() >= 0 and torch.allclose(out.sum(1), torch.ones(len(out), device=out.device), atol=1e-4):
        return out
    return out.softmax(1)


class _Recorder:
    """Forward hooks on the model's children: keeps the chosen sample's output of every layer and
    the whole batch's output at the latent layer (or the narrowest layer but the last)."""

    def __init__(self, model: nn.Module, sample: int | None, latent: bool, layer: int | None):
        self.children = list(model.children())
        self.sample, self.latent, self.layer = sample, latent, layer
        self.activations: dict[int, np.ndarray] = {}
        self.codes: Tensor | None = None
        self.code_layer: int | None = None
        self.corrupted: Tensor | None = None
        self.sizes: list[int] = []  # values per sample of each layer's output, in order
        self.kept: dict[int, Tensor] = {}
        self.handles = [m.register_forward_hook(self._hook(i)) for i, m in enumerate(self.children)]

    def _hook(self, index: int):
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            if not isinstance(output, Tensor):
                return
            if self.sample is not None:
                self.activations[index] = _numpy(output[self.sample])
            if isinstance(module, Corruption) and self.corrupted is None:
                self.corrupted = output
            if self.latent:
                self._consider_code(index, output)
        return hook

    def _consider_code(self, index: int, output: Tensor) -> None:
        if self.layer is not None:
            if index == self.layer:
                self.codes, self.code_layer = output, index
            return
        size = math.prod(output.shape[1:])
        if index == len(self.children) - 1:  # the output is never the code: keep what we have
            self.sizes.append(size)
            return
        if self.kept and size < min(self.sizes):
            self.kept.clear()  # only the narrowest layers so far can end up being the code
        if not self.sizes or size <= min(self.sizes):
            self.kept[index] = output
        self.sizes.append(size)

    def finish(self) -> None:
        """Settle the bottleneck once every layer has run."""
        if self.layer is None and self.latent:
            self.code_layer = bottleneck(self.sizes)
            self.codes = self.kept.get(self.code_layer) if self.code_layer is not None else None

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _has_active_corruption(model: nn.Module) -> bool:
    return any(isinstance(m, Corruption) and m.level > 0 for m in model.modules())


def _corrupted_pass(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(corrupted input, reconstruction of it): the Corruption layers act as in training, with a
    fixed seed that leaves the training random stream untouched."""
    corruptions = [m for m in model.modules() if isinstance(m, Corruption)]
    recorder = _Recorder(model, None, False, None)
    devices = [x.device] if x.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(CORRUPTION_SEED)
            for m in corruptions:
                m.train()
            out = model(x)
    finally:
        recorder.remove()
        for m in corruptions:
            m.eval()
    return recorder.corrupted if recorder.corrupted is not None else x, out


def capture(model: nn.Module, x: Tensor, y: Tensor | None, request: ProbeRequest,
            corrupted: Tensor | None = None, classes: int | None = None) -> Probe:
    """Probe `model` on the batch x (N, C, H, W) with labels y (or None). Returns numpy arrays:
    "filters" {layer: (K, C, F, F)}; "activations" {layer: (C, H, W) or (N,)} and "input" (C, H, W)
    for the chosen sample; "latent" (n, d) codes at "latent_layer"; "labels" (n,); "inputs"
    (n, C, H, W); "reconstructions" (n, C, H, W) and, with a Corruption layer or `corrupted` (the
    denoise task's noisy copy of x, what the network is given), "corrupted"; "confusion" (K, K)
    counts (rows: true class) with "predicted" and "confidence" (n,). Keys a request did not ask for,
    or that the network or an empty batch cannot give (no reconstructions from a classifier), are
    absent."""
    result: Probe = {}
    if not request.any():
        return result
    modes = [(m, m.training) for m in model.modules()]
    recorder: _Recorder | None = None
    try:
        model.eval()
        with torch.no_grad():
            if request.filters:
                result["filters"] = conv_filters(model)
            batch_wide = (request.latent or request.reconstructions or request.confusion) and len(x) > 0
            if not (batch_wide or request.activations) or (len(x) == 0 and request.image is None):
                return result
            sample = min(max(request.sample, 0), len(x) - 1)
            if request.image is not None:
                single = torch.as_tensor(request.image, dtype=x.dtype, device=x.device)[None]
            else:
                single = x[sample:sample + 1]
            own_pass = request.activations and (request.image is not None or not batch_wide)
            if own_pass:  # one sample is enough (or the outside image is not in the batch)
                recorder = _Recorder(model, 0, False, None)
                model(single)
                recorder.remove()
                result["activations"], result["input"] = recorder.activations, _numpy(single[0])
            if request.explain and request.activations:
                _explain_into(result, model, single[0], request.cam_layer)
            if not batch_wide:
                return result
            recorder = _Recorder(model, None if own_pass else sample, request.latent, request.layer)
            out = model(x)
            recorder.remove()
            recorder.finish()
            if not own_pass:
                result["activations"], result["input"] = recorder.activations, _numpy(x[sample])
            result["inputs"] = _numpy(x)
            if y is not None:
                result["labels"] = y.detach().cpu().numpy().astype(np.int64)
            if request.latent and recorder.codes is not None:
                result["latent"] = _numpy(recorder.codes.flatten(1))
                result["latent_layer"] = recorder.code_layer
            if request.reconstructions and out.shape == x.shape:
                if corrupted is not None:
                    result["corrupted"] = _numpy(corrupted)
                    out = model(corrupted)
                elif _has_active_corruption(model):
                    corrupted, out = _corrupted_pass(model, x)
                    result["corrupted"] = _numpy(corrupted)
                result["reconstructions"] = _numpy(out)
            if request.confusion and y is not None and out.dim() == 2:
                probs = _as_probabilities(out.float())
                confidence, predicted = probs.max(1)
                result["predicted"] = predicted.cpu().numpy()
                result["confidence"] = _numpy(confidence)
                k = min(classes or out.shape[1], out.shape[1])
                result["confusion"] = confusion_counts(result["labels"], result["predicted"], k)
        return result
    finally:
        if recorder is not None:
            recorder.remove()
        for module, training in modes:
            module.training = training


def _explain_into(result: Probe, model: nn.Module, x: Tensor, cam_layer: int | None) -> None:
    """Where the network looks for x, or why it cannot say (not a classifier, no such layer)."""
    from workbench.training.attribution import explain

    try:
        result["explanation"] = explain(model, x, layer=cam_layer)
    except (ValueError, IndexError) as exc:
        result["explanation_error"] = str(exc)


class RunProbe:
    """A saved run (workbench.training.run_folder.Run) ready to probe: its trained model and the
    batch the engine probes during training (the first validation samples), loaded once."""

    def __init__(self, run: Any, count: int = PROBE_COUNT):
        data = run.dataset()
        self.classes = list(data.classes)
        self.model = run.load_model()
        self.x, self.y = data.val_x[:count], data.val_y[:count]

    def capture(self, request: ProbeRequest) -> Probe:
        return capture(self.model, self.x, self.y, request, classes=len(self.classes))


WIDE_KEYS = ("latent", "latent_layer", "predicted", "confidence", "confusion")


class LiveProbe:
    """The engine's probes during training, at a small and steady cost whatever the network.

    Filters, the chosen sample's activations and the first LIVE_RECONSTRUCTIONS reconstructions are
    fresh in every probe. The batch-wide views (latent codes, predictions, confusion counts) come
    from the whole batch on the first probe of a model and request; each later probe re-probes only
    the next `chunk` samples and updates their rows, so no point is more than len(x) / chunk probes
    old. `chunk` (None: as many as the first pass says fit in LIVE_CHUNK_BUDGET_S) keeps probes cheap
    beside training: on 2 CPU cores cifar10-cnn's forward pass of 256 images took 76 ms, of 16 3 ms,
    and a probe slowed by the window painting took twice as long, which the engine's PROBE_SHARE
    then turned into fewer refreshes.
    The fixed inputs and labels are sent with the first probe of each request only (the panels keep
    what a probe lacks); the caller must keep them (see ui.training.runner, which merges coalesced probes).
    """

    def __init__(self, x: Tensor, y: Tensor | None, *, corrupted: Tensor | None = None,
                 classes: int | None = None, chunk: int | None = None):
        self.x, self.y, self.corrupted, self.classes = x, y, corrupted, classes
        self.labels = None if y is None else y.detach().cpu().numpy().astype(np.int64)  # fixed: converted once
        self.fixed_chunk = chunk
        self.chunk = chunk or LIVE_CHUNK_MIN
        self._request: ProbeRequest | None = None
        self._model: nn.Module | None = None
        self._wide_request: ProbeRequest | None = None
        self._wide: Probe = {}
        self._offset = 0
        self._no_reconstructions: nn.Module | None = None  # a model whose output is not the input's shape
        self._inputs_2d: tuple[np.ndarray, str, str] | None = None

    def capture(self, model: nn.Module, request: ProbeRequest) -> Probe:
        result = capture(model, self.x, self.y, replace(request, latent=False, reconstructions=False,
                                                        confusion=False))
        if request is not self._request:
            self._request = request
            result["inputs"] = _numpy(self.x)
            if request.latent:  # the scatter beside the codes: made once here, not in the window
                if self._inputs_2d is None:
                    self._inputs_2d = project_inputs(result["inputs"])
                result["inputs_2d"] = self._inputs_2d
            if self.labels is not None:
                result["labels"] = self.labels
        if request.reconstructions and model is not self._no_reconstructions:
            shown = slice(0, LIVE_RECONSTRUCTIONS)
            noisy = self.corrupted[shown] if self.corrupted is not None else None
            part = capture(model, self.x[shown], None, ProbeRequest(reconstructions=True), corrupted=noisy)
            if "reconstructions" in part:
                result["reconstructions"] = part["reconstructions"]
            if "corrupted" in part:
                result["corrupted"] = part["corrupted"]
            if "reconstructions" not in part and len(self.x):  # a classifier: its output is no image
                self._no_reconstructions = model
        if (request.latent or request.confusion) and len(self.x) > 0:
            result.update(self._batch_wide(model, ProbeRequest(latent=request.latent, confusion=request.confusion,
                                                                layer=request.layer)))
        return result

    def _batch_wide(self, model: nn.Module, wide: ProbeRequest) -> Probe:
        """The whole batch's codes and predictions, `chunk` rows of them probed now."""
        if model is not self._model or wide != self._wide_request:
            self._model, self._wide_request, self._offset = model, wide, 0
            began = time.perf_counter()
            whole = capture(model, self.x, self.y, wide, classes=self.classes)
            self._wide = cast(Probe, {k: v for k, v in whole.items() if k in WIDE_KEYS})
            if self.fixed_chunk is None:
                per_sample = (time.perf_counter() - began) / len(self.x)
                self.chunk = max(LIVE_CHUNK_MIN, int(LIVE_CHUNK_BUDGET_S / max(per_sample, 1e-9)))
        else:
            rows = slice(self._offset, min(self._offset + self.chunk, len(self.x)))
            self._offset = rows.stop % len(self.x)
            part = capture(model, self.x[rows], None if self.y is None else self.y[rows], wide, classes=self.classes)
            for key in ("latent", "predicted", "confidence"):
                if key in part and key in self._wide:
                    self._wide[key][rows] = part[key]
            if "confusion" in self._wide:
                self._wide["confusion"] = confusion_counts(self.labels, self._wide["predicted"],
                                                           len(self._wide["confusion"]))
        # Copies: the training process pickles an event on another thread while the next probe runs.
        return cast(Probe, {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self._wide.items()})
