"""Import an ONNX file: its nodes as cards, its initializers as the weights.

ONNX lists nodes in a topological order, as a project does. A value is per-sample when it is computed
from the network's input by anything but Shape or Size and has 1 to 3 dimensions besides the batch;
the rest (sizes, constants) are folded into the cards that use them. Shapes come from ONNX's shape
inference on a batch of one, or, when it cannot say, from a forward pass with ONNX's reference
evaluator. Needs the onnx package (the "onnx" extra); without it a clear message says so.
"""
from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from workbench.core.graph import INPUT
from workbench.core.importing.assembly import Assembly, Imported, Unmapped
from workbench.core.importing.torch_mapping import layer, reshape_layers

Shape = tuple[int, ...]
RESHAPES = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")
ACTIVATIONS = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "HardSwish": "Hardswish"}
NO_DATA = ("Shape", "Size")  # their outputs describe a tensor, they do not carry its values


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ValueError('reading ONNX files needs the onnx package: pip install -e ".[onnx]"') from None
    return onnx


def import_onnx(path: str | Path, input_shape: list[int] | None = None) -> Imported:
    """The project of an ONNX file, with its initializers as the weights. ValueError: one line."""
    onnx = _onnx()
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file
        raise ValueError(f"{path}: not an ONNX file ({type(exc).__name__}: {str(exc).strip()[:120]})") from None
    return _Converter(model, path.stem, input_shape).run()


class _Converter:
    def __init__(self, model: Any, name: str, input_shape: list[int] | None):
        onnx = _onnx()
        self.onnx, self.model, self.name = onnx, model, name
        graph = model.graph
        self.constants: dict[str, np.ndarray] = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
        for node in graph.node:
            if node.op_type == "Constant" and node.attribute:
                self.constants[node.output[0]] = _constant(onnx, node)
            elif node.op_type == "Identity" and node.input[0] in self.constants:  # a shared initializer's alias
                self.constants[node.output[0]] = self.constants[node.input[0]]
        inputs = [i for i in graph.input if i.name not in self.constants]
        if len(inputs) != 1:
            raise ValueError(f"{name}: the graph takes {len(inputs)} inputs; workbench imports networks with one input")
        self.input_name = inputs[0].name
        self.shape = tuple(input_shape) if input_shape else self._declared_shape(inputs[0])
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        self.nodes = [n for n in graph.node if n.op_type != "Constant"]
        self.shapes = self._measure()
        self.assembly = Assembly(self.shape)
        self.ref: dict[str, str] = {self.input_name: INPUT}  # per-sample value -> the layer id giving it
        self.derived = {self.input_name}  # values computed from the input
        self.counted: set[str] = set()  # initializers an opaque card already counts
        self.fused = self._matmul_bias()

    def _declared_shape(self, value: Any) -> Shape:
        dims = [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim]
        if len(dims) < 2 or not all(dims[1:]):
            raise ValueError(f"{self.name}: the input {value.name!r} has no fixed size per sample; give the input "
                             "shape (C,H,W)")
        return tuple(int(d) for d in dims[1:] if d)

    # measuring --------------------------------------------------------------------------------
    def _measure(self) -> dict[str, Shape]:
        """Every value's shape on a batch of one: shape inference, else a reference forward pass."""
        onnx = self.onnx
        fixed = copy.deepcopy(self.model)
        for value in fixed.graph.input:
            if value.name == self.input_name:
                value.type.tensor_type.shape.Clear()
                for size in (1, *self.shape):
                    value.type.tensor_type.shape.dim.add().dim_value = size
        shapes: dict[str, Shape] = {}
        try:
            inferred = onnx.shape_inference.infer_shapes(fixed, data_prop=True)
            for value in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]:
                dims = value.type.tensor_type.shape.dim
                if value.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                    shapes[value.name] = tuple(d.dim_value for d in dims)
        except Exception:  # noqa: BLE001 - shape inference gave up: the forward pass below answers
            shapes = {}
        shapes[self.input_name] = (1, *self.shape)
        if all(out in shapes for node in self.nodes for out in node.output if out):
            return shapes
        from onnx.reference import ReferenceEvaluator

        try:
            values = ReferenceEvaluator(fixed).run(None, {self.input_name: np.zeros((1, *self.shape), np.float32)},
                                                   intermediate=True)
        except Exception as exc:  # noqa: BLE001 - the graph fails on this input
            raise ValueError(f"{self.name}: a forward pass on an input of {'×'.join(map(str, self.shape))} fails "
                             f"({type(exc).__name__}: {str(exc).strip()[:120]})") from None
        shapes = {k: tuple(np.shape(v)) for k, v in values.items() if isinstance(v, np.ndarray)}
        return {**shapes, self.input_name: (1, *self.shape)}

    def per_sample(self, value: str) -> Shape | None:
        shape = self.shapes.get(value)
        if value in self.derived and shape is not None and 2 <= len(shape) <= 4:
            return shape[1:]
        return None

    def _matmul_bias(self) -> dict[str, str]:
        """MatMul nodes followed by an Add of a constant vector (a Linear with bias, as exported by
        some tools): MatMul output -> that Add's node name, whose output the Linear then gives."""
        users: dict[str, list[Any]] = {}
        for node in self.nodes:
            for value in node.input:
                users.setdefault(value, []).append(node)
        fused = {}
        for node in self.nodes:
            if node.op_type != "MatMul" or len(users.get(node.output[0], [])) != 1:
                continue
            add = users[node.output[0]][0]
            other = [v for v in add.input if v != node.output[0]]
            if add.op_type == "Add" and len(other) == 1 and other[0] in self.constants \
                    and self.constants[other[0]].ndim == 1:
                fused[node.output[0]] = add.name or add.output[0]
        return fused

    # converting -------------------------------------------------------------------------------
    def run(self) -> Imported:
        skip = set(self.fused.values())
        for node in self.nodes:
            if any(v in self.derived for v in node.input) and node.op_type not in NO_DATA:
                self.derived.update(o for o in node.output if o)
            if (node.name or node.output[0]) in skip:
                continue  # the Add folded into the MatMul before it
            out_shape = self.per_sample(node.output[0]) if node.output else None
            if out_shape is None:
                continue
            self.ref[node.output[0]] = self._convert(node, out_shape)
            if node.output[0] in self.fused:  # the Add's output is the Linear's too
                add = next(n for n in self.nodes if (n.name or n.output[0]) == self.fused[node.output[0]])
                self.ref[add.output[0]] = self.ref[node.output[0]]
                self.derived.update(add.output)
        outputs = [o.name for o in self.model.graph.output if o.name in self.ref]
        if not outputs:
            raise ValueError(f"{self.name}: no output of the graph is computed from its input per sample")
        if len(self.model.graph.output) > 1:
            self.assembly.general.append(f"the graph has {len(self.model.graph.output)} outputs; the imported network's "
                                         f"output is the first ({outputs[0]})")
        return self.assembly.finish(self.ref[outputs[0]], self.name, with_weights=True)

    def _convert(self, node: Any, out_shape: Shape) -> str:
        inputs = list(dict.fromkeys(self.ref[v] for v in node.input if v in self.ref))
        data = [self.per_sample(v) for v in node.input if v in self.ref]
        origin = (node.name or node.output[0]).strip("/") or node.op_type
        what = f"ONNX {node.op_type}" + (f" ({node.domain})" if node.domain not in ("", "ai.onnx") else "")
        result = self._layers(node, data, out_shape) if data else Unmapped(" on no per-sample input")
        if isinstance(result, tuple):
            layers, tensors = result
            if not layers:
                return inputs[0]
            parameters = sum(t.numel() for t in tensors.values())
            added = self.assembly.add(layers, inputs, out_shape, origin, what, parameters, tensors)
            if isinstance(added, str):
                return added
            result = added
        return self.assembly.add_opaque(what, result.reason, inputs, out_shape, self._constant_parameters(node), origin)

    def _constant_parameters(self, node: Any) -> int:
        total = 0
        for value in node.input:
            if value in self.constants and value not in self.counted and self.constants[value].ndim > 0:
                self.counted.add(value)
                total += int(self.constants[value].size)
        return total

    def _attrs(self, node: Any) -> dict[str, Any]:
        return {a.name: self.onnx.helper.get_attribute_value(a) for a in node.attribute}

    def _const(self, node: Any, position: int) -> np.ndarray | None:
        if len(node.input) > position and node.input[position] in self.constants:
            return self.constants[node.input[position]]
        return None

    def _layers(self, node: Any, data: list[Shape | None], out_shape: Shape
                ) -> tuple[list[dict], dict[str, torch.Tensor]] | Unmapped:
        """The catalogue layers of one node and their tensors (as the torch modules name them)."""
        op, a, shape = node.op_type, self._attrs(node), data[0]
        assert shape is not None
        if op in ACTIVATIONS:
            return [layer(ACTIVATIONS[op])], {}
        if op in ("Identity", "Dropout") and len(node.output) > 1 and node.output[1]:
            return Unmapped(" with its mask output used")
        if op == "Identity":
            return [], {}
        if op == "Dropout":
            ratio = self._const(node, 1)
            return [layer("Dropout", p=float(ratio) if ratio is not None else float(a.get("ratio", 0.5)))], {}
        if op == "LeakyRelu":
            return [layer("LeakyReLU", negative_slope=float(a.get("alpha", 0.01)))], {}
        if op == "Gelu":
            return [layer("GELU", approximate=_text(a.get("approximate", "none")))], {}
        if op == "Clip":
            return self._clip(node, a)
        if op == "Softmax":
            axis = a.get("axis", 1 if self.opset < 13 else -1)
            if axis % (len(shape) + 1) != 1 or (self.opset < 13 and len(shape) != 1):
                return Unmapped(f" over axis {axis} (the catalogue's Softmax is over the channels, axis 1)")
            return [layer("Softmax")], {}
        if op in RESHAPES:
            mapped = reshape_layers(shape, out_shape)
            return mapped if isinstance(mapped, Unmapped) else (mapped, {})
        if op in ("Add", "Sum"):
            if len(data) < 2 or len(data) != len(node.input) or any(d != shape for d in data):
                return Unmapped(" of tensors that are not all per-sample of one shape")
            return [layer("Add")], {}
        if op == "Concat":
            if len(data) != len(node.input) or a.get("axis", 1) % (len(shape) + 1) != 1:
                return Unmapped(f" along axis {a.get('axis')} or of constants (the catalogue's Concat joins "
                                "per-sample channels, axis 1)")
            return ([layer("Concat")] if len(data) > 1 else []), {}
        if op == "GlobalAveragePool":
            return [layer("AdaptiveAvgPool2d", output_size=1)], {}
        if op in ("MaxPool", "AveragePool"):
            return self._pool(node, a)
        if op == "Conv" or op == "ConvTranspose":
            return self._conv(node, a, shape)
        if op == "Gemm" or op == "MatMul":
            return self._linear(node, a, shape)
        if op == "BatchNormalization":
            return self._batchnorm(node, a, shape)
        if op == "LRN":
            return [layer("LocalResponseNorm", size=int(a["size"]), alpha=float(a.get("alpha", 1e-4)),
                          beta=float(a.get("beta", 0.75)), k=float(a.get("bias", 1.0)))], {}
        if op in ("Resize", "Upsample"):
            return self._resize(node, a, shape, out_shape)
        return Unmapped()

    def _clip(self, node: Any, a: dict) -> tuple[list[dict], dict] | Unmapped:
        low, high = self._const(node, 1), self._const(node, 2)
        low = float(low) if low is not None else a.get("min", -math.inf)
        high = float(high) if high is not None else a.get("max", math.inf)
        if (low, high) == (0.0, 6.0):
            return [layer("ReLU6")], {}
        if low == 0.0 and high == math.inf:
            return [layer("ReLU")], {}
        return Unmapped(f" between {low:g} and {high:g} (the catalogue has ReLU and ReLU6)")

    def _window(self, a: dict, kernel: list[int]) -> dict | Unmapped:
        """Stride, padding and dilation of a sliding window, when the padding is the same on both sides."""
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
            return Unmapped(f" with auto_pad={a['auto_pad']!r}")
        pads = list(a.get("pads", [0] * 4))
        if len(kernel) != 2:
            return Unmapped(f" over {len(kernel)} dimensions (the catalogue's windows are 2-D)")
        if pads[:2] != pads[2:]:
            return Unmapped(f" with uneven padding {pads}")
        return {"stride": _pair(a.get("strides", [1, 1])), "padding": _pair(pads[:2]),
                "dilation": _pair(a.get("dilations", [1, 1]))}

    def _pool(self, node: Any, a: dict) -> tuple[list[dict], dict] | Unmapped:
        if len(node.output) > 1 and node.output[1]:
            return Unmapped(" with its indices output used")
        kernel = list(a["kernel_shape"])
        window = self._window(a, kernel)
        if isinstance(window, Unmapped):
            return window
        ceil = bool(a.get("ceil_mode", 0))
        if node.op_type == "MaxPool":
            return [layer("MaxPool2d", kernel_size=_pair(kernel), ceil_mode=ceil, **window)], {}
        if window["dilation"] != 1:
            return Unmapped(" with dilations")
        return [layer("AvgPool2d", kernel_size=_pair(kernel), stride=window["stride"], padding=window["padding"],
                      ceil_mode=ceil, count_include_pad=bool(a.get("count_include_pad", 0)))], {}

    def _conv(self, node: Any, a: dict, shape: Shape) -> tuple[list[dict], dict] | Unmapped:
        weight, bias = self._const(node, 1), self._const(node, 2)
        if weight is None or (len(node.input) > 2 and node.input[2] and bias is None):
            return Unmapped(" with weights computed in the graph")
        window = self._window(a, list(a.get("kernel_shape", weight.shape[2:])))
        if isinstance(window, Unmapped):
            return window
        groups = int(a.get("group", 1))
        tensors = {"weight": _tensor(weight), **({"bias": _tensor(bias)} if bias is not None else {})}
        values = dict(kernel_size=_pair(list(weight.shape[2:])), groups=groups, bias=bias is not None, **window)
        if node.op_type == "Conv":
            return [layer("Conv2d", out_channels=int(weight.shape[0]), **values)], tensors
        if "output_shape" in a:
            return Unmapped(" with output_shape")
        return [layer("ConvTranspose2d", out_channels=int(weight.shape[1]) * groups,
                      output_padding=_pair(a.get("output_padding", [0, 0])), **values)], tensors

    def _linear(self, node: Any, a: dict, shape: Shape) -> tuple[list[dict], dict] | Unmapped:
        weight = self._const(node, 1)
        if len(shape) != 1 or weight is None or weight.ndim != 2:
            return Unmapped(" of a per-sample tensor that is not a vector, or by weights computed in the graph")
        if node.op_type == "Gemm":
            if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                return Unmapped(" with transA, alpha or beta")
            weight = weight if a.get("transB", 0) else weight.T
            bias = self._const(node, 2)
        else:  # MatMul: x @ W, W of in × out; an Add of a constant vector after it may be its bias
            weight = weight.T
            add = self.fused.get(node.output[0])
            bias = next((self.constants[v] for n in self.nodes if (n.name or n.output[0]) == add
                         for v in n.input if v in self.constants), None) if add else None
        if bias is not None and bias.size != weight.shape[0]:
            return Unmapped(" with a bias that is broadcast")
        tensors = {"weight": _tensor(weight), **({"bias": _tensor(bias.reshape(-1))} if bias is not None else {})}
        return [layer("Linear", out_features=int(weight.shape[0]), bias=bias is not None)], tensors

    def _batchnorm(self, node: Any, a: dict, shape: Shape) -> tuple[list[dict], dict] | Unmapped:
        arrays = [self._const(node, i) for i in range(1, 5)]
        if any(x is None for x in arrays) or a.get("training_mode", 0):
            return Unmapped(" with statistics computed in the graph, or in training mode")
        if len(shape) not in (1, 3):
            return Unmapped(f" on {len(shape)}-D values per sample")
        scale, shift, mean, var = (_tensor(x) for x in arrays)  # type: ignore[arg-type]
        kind = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        momentum = min(max(1.0 - float(a.get("momentum", 0.9)), 0.0), 1.0)  # ONNX keeps, torch takes in
        return [layer(kind, eps=float(a.get("epsilon", 1e-5)), momentum=momentum)], {
            "weight": scale, "bias": shift, "running_mean": mean, "running_var": var}

    def _resize(self, node: Any, a: dict, shape: Shape, out_shape: Shape) -> tuple[list[dict], dict] | Unmapped:
        if len(shape) != 3 or out_shape[0] != shape[0]:
            return Unmapped(" of other than the height and width of a volume")
        scale_h, scale_w = out_shape[1] / shape[1], out_shape[2] / shape[2]
        if scale_h != scale_w:
            return Unmapped(f" by unequal factors {scale_h:g} and {scale_w:g}")
        mode = _text(a.get("mode", "nearest"))
        coordinates = _text(a.get("coordinate_transformation_mode", "half_pixel" if node.op_type == "Resize" else "asymmetric"))
        if mode == "nearest" and coordinates == "asymmetric" and _text(a.get("nearest_mode", "floor")) == "floor":
            return [layer("Upsample", scale_factor=float(scale_h), mode="nearest")], {}
        if mode == "linear" and coordinates in ("half_pixel", "pytorch_half_pixel"):
            return [layer("Upsample", scale_factor=float(scale_h), mode="bilinear")], {}
        return Unmapped(f" in mode {mode!r} with {coordinates!r} coordinates")


def _constant(onnx: Any, node: Any) -> np.ndarray:
    return np.asarray(onnx.helper.get_attribute_value(node.attribute[0]) if node.attribute[0].name != "value"
                      else onnx.numpy_helper.to_array(node.attribute[0].t))


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float32))


def _pair(values: list[int]) -> Any:
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
