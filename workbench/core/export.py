"""Export a project as readable, standalone PyTorch source (imports only torch) or as ONNX.

Each call is written from the same constructor arguments `build_model` uses (`LayerKind.arguments`),
leaving out those equal to torch's defaults, so the export can never drift from the built network.
A chain becomes an nn.Sequential; a network with branches a module with one attribute per layer and
a forward() of one line per layer, each output a named tensor (`add1 = bn4 + relu2`), the names
and so the weights' names those of the built GraphNet.
"""
from __future__ import annotations

import inspect
import io
import os
import warnings

import torch

from workbench import __version__
from workbench.core import layers as custom_layers
from workbench.core.build import GraphNet, build_model, check_buildable
from workbench.core.catalogue import CATALOGUE, LayerKind, Shape, fmt_shape
from workbench.core.graph import INPUT, MERGES, is_branched
from workbench.core.inference import summarize
from workbench.core.project import write_atomic
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import LayerRow, Summary, input_shapes
from workbench.core.weights import load_initial_weights

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
    copied verbatim: they import only torch. Merges are written as `+` and `torch.cat` instead."""
    lines: list[str] = []
    for name in sorted(set(names) & CUSTOM - set(MERGES)):
        lines += ["", inspect.getsource(getattr(custom_layers, name)).rstrip(), ""]
    return lines


def network_class_source(doc: dict, summary: Summary, class_name: str = "Net") -> list[str]:
    """`class Net(nn.Module)`: one constructor call per layer, each with its output and parameters;
    a chain as an nn.Sequential, a network with branches with a forward() of one line per layer."""
    lines = [
        f"class {class_name}(nn.Module):",
        "    def __init__(self) -> None:",
        "        super().__init__()",
    ]
    return lines + (_graph_body(doc, summary) if is_branched(doc["layers"]) else _chain_body(doc, summary))


def checked_summary(doc: dict) -> Summary:
    """The project's summary; a network with an error or an opaque part raises the ProjectError
    naming the layer."""
    summary = summarize(doc)
    check_buildable(doc, summary)
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


def _calls(doc: dict, summary: Summary) -> list[str]:
    """Each layer's constructor call, on the shape of its (first) input."""
    return [constructor_call(CATALOGUE[layer["type"]], shape, layer)
            for layer, shape in zip(doc["layers"], input_shapes(summary))]


def _note(row: LayerRow) -> str:
    params = f", {row['params']:,} parameters" if row["params"] else ""
    return f"# {row['index']}: → {fmt_shape(tuple(row['output'] or ()))}{params}"


def _chain_body(doc: dict, summary: Summary) -> list[str]:
    example = ", ".join(str(s) for s in doc["input"])
    lines = ["        self.layers = nn.Sequential("]
    for call, row in zip(_calls(doc, summary), summary["layers"]):
        lines.append(f"            {call},  {_note(row)}")
    return lines + [
        "        )",
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        f"        # x: (batch, {example})",
        "        return self.layers(x)",
    ]


def _graph_body(doc: dict, summary: Summary) -> list[str]:
    names = GraphNet.names_for(doc["layers"])
    variable = dict(zip((layer["id"] for layer in doc["layers"]), names))
    variable[INPUT] = "x"
    lines = []
    for layer, call, name, row in zip(doc["layers"], _calls(doc, summary), names, summary["layers"]):
        if layer["type"] not in MERGES:
            lines.append(f"        self.{name} = {call}  {_note(row)}")
    example = ", ".join(str(s) for s in doc["input"])
    lines += ["", "    def forward(self, x: torch.Tensor) -> torch.Tensor:", f"        # x: (batch, {example})"]
    for layer, name, row in zip(doc["layers"], names, summary["layers"]):
        args = [variable[s] for s in row["inputs"]]
        if layer["type"] == "Add":
            value = " + ".join(args)
        elif layer["type"] == "Concat":
            value = f"torch.cat([{', '.join(args)}], dim=1)"
        else:
            value = f"self.{name}({args[0]})"
        lines.append(f"        {name} = {value}  # {fmt_shape(tuple(row['output'] or ()))}")
    return lines + [f"        return {names[-1]}"]


def to_onnx_bytes(project: ProjectSpec) -> bytes:
    """The model (eval mode, batch dimension dynamic) as an ONNX file's bytes. Needs the onnx extra."""
    try:
        import onnx  # noqa: F401  (the exporter needs it; say so plainly when it is missing)
    except ImportError:
        raise ValueError('ONNX export needs the onnx package: pip install -e ".[onnx]"') from None
    doc = load_spec(project)
    model = build_model(doc).eval()
    load_initial_weights(model, doc)  # an imported network's weights travel in the ONNX file
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
