"""The `workbench` command: a CLI verb, or the GUI when no verb is given.

Each verb lives in its own module under `workbench.cli` and is imported only when used, so
`workbench summary` never pays for Qt and `workbench` (the GUI) never pays for argparse trees
of every verb.
"""
from __future__ import annotations

import importlib
import sys

# verb -> (module under workbench.cli, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "summary": ("summary", "print each layer's output volume, parameters, MACs and formula"),
    "templates": ("templates", "list the built-in projects"),
    "export": ("export", "write a project as standalone PyTorch source or ONNX"),
    "import": ("importing", "make a project of a torchvision model, a Python nn.Module or an ONNX file"),
    "train": ("train", "train a project headless, printing one JSON object per line"),
    "plot": ("plot", "render a run folder's filters, activations, latent codes, ... to a PNG"),
    "health": ("health", "say what a run's health statistics found (vanishing gradients, dead units, ...)"),
    "compare": ("compare", "two or more runs side by side: metrics, curves and the architectures diffed"),
    "pca": ("pca", "compare an autoencoder run's reconstruction error with PCA at the same code size"),
    "lesson": ("lesson", "render one of the course's worked examples to a PNG"),
}


def _usage() -> str:
    lines = ["usage: workbench [PROJECT | --screenshot FILE [SPEC]]", "       workbench VERB ...", "", "verbs:"]
    lines += [f"  {verb:<10} {help_}" for verb, (_, help_) in VERBS.items()]
    lines += ["", "With no verb, workbench opens the window (on PROJECT or the default project)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv and argv[0] in VERBS:
        module = importlib.import_module(f"workbench.cli.{VERBS[argv[0]][0]}")
        return int(module.main(argv[1:]) or 0)
    from workbench.cli import gui

    return int(gui.main(argv) or 0)


if __name__ == "__main__":
    sys.exit(main())
