"""Time to something worth showing: each template trained with its own defaults on the CPU, timed
from pressing Start (data loaded, model built; the training process's torch import and warm-up,
done while the window waits for the first Start, not counted) to the first epoch whose validation
reaches the template's useful result. Goal (issue 19): within 60 s
on 2 CPU cores.

Useful results:
- classifiers: a validation accuracy (digits-cnn and lenet5 97 % on digits; the shapes classifiers
  90 %; mlp-cifar10, which has no convolution, 60 %: what 3,072 weights per neuron learn of shapes);
- autoencoders: a validation MSE of at most a tenth of the data's per-pixel variance (R² >= 0.9), or,
  when the code is too small for any code of that size to carry 90 % of the variance, PCA's error at
  the code size (+10 %): the course's comparison (a 2-unit code on digits cannot go below PCA-2's
  0.053, which is R² 0.27).

Wall time on a shared machine waits for other processes; the process's CPU time is printed beside it
(with 2 torch threads it runs up to twice the wall time on an idle machine). The load average before
and after each template is printed too.

    python benchmarks/time_to_result.py [--templates digits-cnn cifar10-cnn ...] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.decomposition import PCA

from workbench.core.inference import summarize
from workbench.core.summary import output_shapes
from workbench.core.templates import TEMPLATES, template
from workbench.data import load_dataset
from workbench.training.probe_request import bottleneck
from workbench.training.remote import warm_up
from workbench.training.schedules import make_trainer

GOAL_S = 60.0
ACCURACY = {"digits-cnn": 0.97, "lenet5": 0.97, "cifar10-cnn": 0.90, "resnet-20": 0.90, "inception-block": 0.90,
            "mlp-cifar10": 0.60}
NUMBERS_ONLY = ("alexnet", "resnet18")  # no data to train on: the course's (and torchvision's) numbers only
VARIANCE_SHARE = 0.1  # R² >= 0.9
PCA_MARGIN = 1.1


def mse_target(doc: dict) -> tuple[float, str]:
    """The autoencoder's goal on its validation set, and how it was set."""
    data = load_dataset(doc["data"], doc["input"])
    train, val = data.train_x.flatten(1).numpy(), data.val_x.flatten(1).numpy()
    variance = float(val.var(0).mean())
    sizes = [int(np.prod(shape)) for shape in output_shapes(summarize(doc))]
    code = bottleneck(sizes)
    k = sizes[code] if code is not None else train.shape[1]
    if k < min(train.shape):
        pca = PCA(k, svd_solver="randomized" if k > 64 else "auto", random_state=0).fit(train)
        pca_mse = float(((pca.inverse_transform(pca.transform(val)) - val) ** 2).mean())
        if pca_mse * PCA_MARGIN > VARIANCE_SHARE * variance:
            return pca_mse * PCA_MARGIN, f"PCA-{k} {pca_mse:.4f} +10% (a {k}-value code; R² ≤ {1 - pca_mse / variance:.2f})"
    return VARIANCE_SHARE * variance, f"variance {variance:.4f} / 10 (R² ≥ 0.9)"


def time_to_result(name: str) -> str:
    doc = template(name)
    doc["training"]["device"] = "cpu"
    classify = doc["training"].get("task", "classify") == "classify"
    goal, how = (ACCURACY[name], f"accuracy {ACCURACY[name]:.0%}") if classify else mse_target(doc)
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    trainer = make_trainer(doc)
    trainer.tune_threads = True  # as the training process does
    best, reached = (0.0 if classify else float("inf")), None
    epochs = trainer.config.epochs
    for event in trainer.events():
        if event["event"] == "done" and event["status"] != "finished":
            return f"{name:<27} failed: {event['message']}"
        if event["event"] != "epoch":
            continue
        value = event["val_accuracy"] if classify else event["val_loss"]
        best = max(best, value) if classify else min(best, value)
        if (value >= goal) if classify else (value <= goal):
            reached = event["epoch"]
            break
    seconds, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    shown = f"{best:.1%}" if classify else f"{best:.4f}"
    verdict = (f"reached at epoch {reached}/{epochs}" if reached else f"NOT reached in {epochs} epochs")
    ok = "ok " if reached and seconds <= GOAL_S else "NO "
    return (f"{ok}{name:<24} {seconds:6.1f} s (CPU {cpu_s:6.1f} s) {verdict}: {shown} vs {how}   "
            f"[load {load:.1f}→{os.getloadavg()[0]:.1f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", nargs="*", default=[t for t in TEMPLATES if t not in NUMBERS_ONLY])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the training process uses all cores)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warm_up()  # as the training process does while the window waits for the first Start
    print(f"{os.cpu_count()} cores, torch {torch.__version__} on {args.threads} threads; goal: each within {GOAL_S:.0f} s")
    for name in args.templates:
        print(time_to_result(name), flush=True)


if __name__ == "__main__":
    main()
