"""Export a project as readable, standalone PyTorch source (imports only torch) or as ONNX.

Each call is written from the same constructor arguments `build_model` uses (`LayerKind.arguments`),
leaving out those equal to torch's defaults, so the export can never drift from the built network.
"""
from __future__ import annotations

import inspect
import io
import os
import warnings

import torch

from workbench import __version__
from workbench.core import layers as custom_layers
from workbench.core.build import build_model
from workbench.core.catalogue import CATALOGUE, LayerKind, Shape, fmt_shape
from workbench.core.inference import summarize
from workbench.core.project import write_atomic
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import Summary, output_shapes

CUSTOM = {name for name, obj in vars(custom_layers).items() if inspect.isclass(obj) and obj.__module__ == custom_layers.__name__}


def constructor_call(kind: LayerKind, shape: Shape, layer: dict) -> str:
    """`nn.Conv2d(1, 16, kernel_size=3, padding=1)`: the call that builds this layer, with the
    arguments the project sets and any that differ from torch's defaults."""
    args, kwargs = kind.arguments(shape, kind.resolve(layer))
    defaults = inspect.signature(kind.module.__init__).parameters  # type: ignore[misc]

    def shown(key: str, value: object) -> bool:
        default = defaults[key].default if key in defaults else inspect.Parameter.empty
        return key in layer or default is inspect.Parameter.empty or default != value or type(default) is not type(value)

    text = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in kwargs.items() if shown(key, value)]
    prefix = "" if kind.module.__name__ in CUSTOM else "nn."
    return f"{prefix}{kind.module.__name__}({', '.join(text)})"


def custom_layer_source(names: set[str] | list[str]) -> list[str]:
    """The source of the layer classes torch.nn lacks (workbench.core.layers) among `names`,
    copied verbatim: they import only torch."""
    lines: list[str] = []
    for name in sorted(set(names) & CUSTOM):
        lines += ["", inspect.getsource(getattr(custom_layers, name)).rstrip(), ""]
    return lines


def network_class_source(doc: dict, summary: Summary, class_name: str = "Net") -> list[str]:
    """`class Net(nn.Module)`: one constructor call per layer, each with its output and parameters."""
    lines = [
        f"class {class_name}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        "        self.layers = nn.Sequential(",
    ]
    shape = tuple(doc["input"])
    for layer, row, output in zip(doc["layers"], summary["layers"], output_shapes(summary)):
        kind = CATALOGUE[layer["type"]]
        call = constructor_call(kind, shape, layer)
        shape = tuple(output)
        params = f", {row['params']:,} parameters" if row["params"] else ""
        lines.append(f"            {call},  # {row['index']}: → {fmt_shape(shape)}{params}")
    example = ", ".join(str(s) for s in doc["input"])
    return lines + [
        "        )",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        f"        # x: (batch, {example})",
        "        return self.layers(x)",
    ]


def checked_summary(doc: dict) -> Summary:
    """The project's summary; a network with an error raises the ProjectError naming the layer."""
    summary = summarize(doc)
    if summary["first_error"] is not None:
        build_model(doc)  # raises the ProjectError naming the layer
    return summary


def to_pytorch_source(project: ProjectSpec, class_name: str = "Net") -> str:
    """Python source of an nn.Module whose constructor needs no arguments."""
    doc = load_spec(project)
    summary = checked_summary(doc)
    input_text = fmt_shape(tuple(doc["input"]))
    lines = [
        f'"""{doc["name"] or "network"}: exported by workbench {__version__}.',
        "",
        f"Input {input_text} ({'C×H×W as ' if len(doc['input']) == 3 else ''}{list(doc['input'])}), "
        f"output {fmt_shape(tuple(summary['output'] or ()))}, {summary['total_params']:,} parameters.",
        '"""',
        "import torch",
        "from torch import nn",
        "",
    ]
    lines += custom_layer_source({layer["type"] for layer in doc["layers"]})
    lines += ["", *network_class_source(doc, summary, class_name)]
    example = ", ".join(str(s) for s in doc["input"])
    lines += [
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {class_name}()",
        f"    print(model(torch.zeros(1, {example})).shape)",
        "    print(sum(p.numel() for p in model.parameters()), \"parameters\")",
        "",
    ]
    return "\n".join(lines)


def to_onnx_bytes(project: ProjectSpec) -> bytes:
    """The model (eval mode, batch dimension dynamic) as an ONNX file's bytes. Needs the onnx extra."""
    try:
        import onnx  # noqa: F401  (the exporter needs it; say so plainly when it is missing)
    except ImportError:
        raise ValueError('ONNX export needs the onnx package: pip install -e ".[onnx]"') from None
    doc = load_spec(project)
    model = build_model(doc).eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model, torch.zeros(1, *doc["input"]), buffer, dynamo=False,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    return buffer.getvalue()


def export(project: ProjectSpec, path: str | os.PathLike, fmt: str = "pytorch") -> None:
    """Write the export atomically: a failure never leaves half a file."""
    if fmt == "pytorch":
        write_atomic(path, to_pytorch_source(project))
    elif fmt == "onnx":
        write_atomic(path, to_onnx_bytes(project))
    else:
        raise ValueError(f"unknown export format {fmt!r}: use pytorch or onnx")
