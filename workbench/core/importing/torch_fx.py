"""Import an nn.Module: trace it with torch.fx, measure every value with a forward pass, map to cards.

torch.fx records forward() as a graph of module calls, functions and tensor methods (torch.nn modules
stay whole; a network's own modules are traced through). Two forward passes, with batches of 1 and 2,
measure every value: a tensor whose first dimension follows the batch is per-sample (it becomes a
card, with that shape), anything else (a size, a parameter used by a function) is folded into the
cards that use it. The passes run on the meta device (shapes only, no arithmetic) and, when some
operation cannot, on the CPU.
"""
from __future__ import annotations

import operator
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from workbench.core.graph import INPUT
from workbench.core.inference import summarize
from workbench.core.importing.assembly import Assembly, Imported, Unmapped
from workbench.core.importing.torch_mapping import (COMPUTED, Sample, function_layers, function_operation, layer,
                                                    module_layers)
from workbench.core.layers import Add, Concat, Corruption

Shape = tuple[int, ...]
BATCHES = (1, 2)  # a value whose first dimension follows these is per-sample


def import_module(model: nn.Module, input_shape: list[int] | None = None, name: str = "network",
                  with_weights: bool = True) -> Imported:
    """The project of `model` (its weights by layer id unless `with_weights` is False). The input
    shape per sample is `input_shape`, else the model's `input_shape` attribute, else a vector as long
    as a first Linear layer's inputs. A ValueError (one line) says what could not be imported."""
    was_training = model.training
    model.eval()  # trace what inference runs (no auxiliary heads), and keep BatchNorm's statistics
    try:
        traced = _trace(model, name)
        placeholder = _input_node(traced, name)
        shape = _input_shape(model, traced, placeholder, input_shape, name)
        measured = _measure(traced, shape, name)
        imported = _Converter(traced, placeholder, shape, measured).run(name, with_weights)
    finally:
        model.train(was_training)
    total = sum(p.numel() for p in model.parameters())
    kept = summarize(imported.doc)["total_params"]
    if kept < total:
        imported.notes.append(f"{total - kept:,} of the source's {total:,} parameters are in parts that inference does "
                              "not use (auxiliary classifiers, say): left out")
    return imported


class _Tracer(torch.fx.Tracer):
    """torch.fx's tracer, keeping workbench's own layers whole as it keeps torch.nn's: a Corruption
    (in an exported project imported back) would otherwise vanish, as it passes its input through
    in eval mode."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return _is_corruption(m) or super().is_leaf_module(m, module_qualified_name)


def _is_corruption(module: nn.Module) -> bool:
    """workbench's Corruption, or the copy of it an exported source defines."""
    return isinstance(module, Corruption) or (type(module).__name__ == "Corruption" and hasattr(module, "level"))


def _trace(model: nn.Module, name: str) -> torch.fx.GraphModule:
    try:
        return torch.fx.GraphModule(model, _Tracer().trace(model), type(model).__name__)
    except Exception as exc:  # noqa: BLE001 - any failure inside the user's forward() is reported
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(f"{name}: torch.fx cannot trace its forward() ({type(exc).__name__}: {text}); workbench "
                         "imports networks whose forward() does not branch on tensor values") from None


def _input_node(traced: torch.fx.GraphModule, name: str) -> torch.fx.Node:
    placeholders = [n for n in traced.graph.nodes if n.op == "placeholder"]
    required = [n for n in placeholders if not n.args]  # fx gives a default value as the node's argument
    if not placeholders or len(required) > 1:
        names = ", ".join(n.target for n in required) or "none"
        raise ValueError(f"{name}: forward() takes {len(required)} tensors ({names}); workbench imports networks "
                         "with one input")
    return required[0] if required else placeholders[0]


def _input_shape(model: nn.Module, traced: torch.fx.GraphModule, placeholder: torch.fx.Node,
                 given: list[int] | None, name: str) -> Shape:
    if given:
        return tuple(given)
    declared = getattr(model, "input_shape", None)
    if isinstance(declared, (list, tuple)) and declared and all(isinstance(v, int) and v > 0 for v in declared):
        return tuple(declared)
    first = next(iter(placeholder.users), None)
    module = traced.get_submodule(str(first.target)) if first is not None and first.op == "call_module" else None
    if isinstance(module, nn.Linear):
        return (module.in_features,)
    hint = ""
    if isinstance(module, nn.Conv2d):
        hint = f" (its first layer, {first.target if first else ''}, is a Conv2d with {module.in_channels} input channels)"
    raise ValueError(f"{name}: give the input shape of one sample (C,H,W, e.g. 3,32,32){hint}")


# ---------------------------------------------------------------------------------------------
# Measuring


class _Recorder(torch.fx.Interpreter):
    """Runs the graph, keeping every node's value as a shape: a tensor's, a tuple's of its items', or None."""

    def __init__(self, module: torch.fx.GraphModule):
        super().__init__(module)
        self.shapes: dict[str, Any] = {}

    def run_node(self, n: torch.fx.Node) -> Any:
        result = super().run_node(n)
        self.shapes[n.name] = _structure(result)
        return result


def _structure(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if isinstance(value, (tuple, list)):
        return [_structure(v) for v in value]
    return None


def _measure(traced: torch.fx.GraphModule, shape: Shape, name: str) -> dict[str, Shape | str]:
    """Each node's per-sample shape (a tensor with the batch dimension and 1 to 3 more), "tuple" (of
    values), or "value": anything else, which is folded into the cards that use it (a channel shuffle's
    4-D views between two volumes become one opaque card)."""
    runs: list[dict[str, Any]] = []
    generator = torch.Generator().manual_seed(0)
    try:
        with torch.no_grad():
            for batch in BATCHES:
                recorder = _Recorder(traced)
                recorder.run(torch.rand(batch, *shape, generator=generator))
                runs.append(recorder.shapes)
    except Exception as exc:  # noqa: BLE001 - the network itself fails on this input
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}: a forward pass on an input of {'×'.join(map(str, shape))} fails ({text}): "
                         "give the input shape it expects (C,H,W)") from None
    out: dict[str, Shape | str] = {}
    for node_name, first in runs[0].items():
        second = runs[1].get(node_name)
        if isinstance(first, tuple) and isinstance(second, tuple) and 2 <= len(first) <= 4 \
                and (first[0], second[0]) == BATCHES and first[1:] == second[1:]:
            out[node_name] = first[1:]
        else:
            out[node_name] = "tuple" if isinstance(first, list) else "value"
    return out


# ---------------------------------------------------------------------------------------------
# Converting


class _Converter:
    def __init__(self, traced: torch.fx.GraphModule, placeholder: torch.fx.Node, shape: Shape,
                 measured: dict[str, Shape | str]):
        self.traced, self.measured = traced, measured
        self.assembly = Assembly(shape)
        self.ref: dict[str, str] = {placeholder.name: INPUT}  # per-sample node -> the layer id giving it
        self.counted: set[str] = set()  # folded nodes whose parameters an opaque card already counts
        self.calls: dict[str, int] = {}  # module path -> calls so far (a module called twice is copied)

    def per_sample(self, node: Any) -> Shape | None:
        shape = self.measured.get(node.name) if isinstance(node, torch.fx.Node) else None
        return shape if isinstance(shape, tuple) else None

    def run(self, name: str, with_weights: bool) -> Imported:
        output = None
        for node in self.traced.graph.nodes:
            if node.op == "output":
                output = self._output(node)
            elif node.op in ("call_module", "call_function", "call_method") and self.per_sample(node) is not None:
                self.ref[node.name] = self._convert(node)
        if output is None:
            raise ValueError(f"{name}: forward() returns no tensor with the batch dimension: nothing to import")
        return self.assembly.finish(output, name, with_weights)

    def _output(self, node: torch.fx.Node) -> str | None:
        results: list[torch.fx.Node] = []
        torch.fx.node.map_arg(node.args, lambda n: results.append(n) if self.per_sample(n) is not None else None)
        if not results:
            return None
        if len(results) > 1:
            self.assembly.general.append(f"forward() returns {len(results)} tensors; the imported network's output is "
                                         f"the first ({results[0].name}), the parts leading only to the others are left out")
        return self.ref[results[0].name]

    def _convert(self, node: torch.fx.Node) -> str:
        shape = self.per_sample(node)
        assert shape is not None
        inputs = [self.ref[n.name] for n in node.all_input_nodes if n.name in self.ref]
        args = torch.fx.node.map_arg(node.args, self._argument)
        kwargs = torch.fx.node.map_arg(node.kwargs, self._argument)
        what, parameters, tensors = describe(node, self.traced), 0, None
        origin = node.target if node.op == "call_module" else node.name  # "layer1.0.conv1", "add_3"
        if node.op == "call_module":
            module = self.traced.get_submodule(node.target)
            parameters = sum(p.numel() for p in module.parameters())
            result = self._module(node, module, args, kwargs, shape)
            tensors = module.state_dict()
        else:
            operation = function_operation(node.target, node.op == "call_method")
            result = Unmapped() if operation is None else function_layers(operation, args, kwargs, shape)
        if isinstance(result, list):
            if not result:  # passes its input through: the layer that gives that input stands for it
                return inputs[0]
            added = self.assembly.add(result, inputs, shape, origin, what, parameters, tensors)
            if isinstance(added, str):
                self._note_reuse(node, added, parameters)
                return added
            result = added
        return self.assembly.add_opaque(what, result.reason, self._sources(node), shape,
                                        parameters + self._folded_parameters(node), origin)

    def _module(self, node: torch.fx.Node, module: nn.Module, args: Any, kwargs: Any, shape: Shape) -> list | Unmapped:
        merge = _merge_kind(module)
        if merge is not None:  # workbench's own Add and Concat (an exported project imported back)
            if len(args) < 2 or kwargs or not all(isinstance(a, Sample) for a in args):
                return Unmapped(" called with other than per-sample tensors")
            return [layer(merge)]
        if len(args) != 1 or kwargs or not isinstance(args[0], Sample):
            return Unmapped(" called with more than one argument")
        return module_layers(module, args[0].shape, shape)

    def _argument(self, node: torch.fx.Node) -> Any:
        shape = self.per_sample(node)
        return Sample(shape) if shape is not None else COMPUTED

    def _note_reuse(self, node: torch.fx.Node, layer_id: str, parameters: int) -> None:
        if node.op != "call_module":
            return
        self.calls[node.target] = self.calls.get(node.target, 0) + 1
        if parameters and self.calls[node.target] > 1:
            self.assembly.remark(layer_id, f"{node.target} is called again here: imported as a copy of its weights, "
                                           "which trains apart from the first")

    def _sources(self, node: torch.fx.Node) -> list[str]:
        """The per-sample values a node depends on, looking through the values folded into it."""
        found: list[str] = []
        seen: set[str] = set()
        stack = list(reversed(node.all_input_nodes))
        while stack:
            n = stack.pop()
            if n.name in seen:
                continue
            seen.add(n.name)
            if n.name in self.ref:
                if self.ref[n.name] not in found:
                    found.append(self.ref[n.name])
            elif self.per_sample(n) is None:
                stack += reversed(n.all_input_nodes)
        return found

    def _folded_parameters(self, node: torch.fx.Node) -> int:
        """Parameters of the non-per-sample values an opaque card folds in (a module returning a
        tuple, a parameter used by a function), each counted once."""
        total, stack = 0, list(node.all_input_nodes)
        while stack:
            n = stack.pop()
            if n.name in self.ref or n.name in self.counted:
                continue
            self.counted.add(n.name)
            if n.op == "call_module":
                total += sum(p.numel() for p in self.traced.get_submodule(n.target).parameters())
            elif n.op == "get_attr":
                value = _attribute(self.traced, n.target)
                total += value.numel() if isinstance(value, nn.Parameter) else 0
            stack += n.all_input_nodes
        return total


def _merge_kind(module: nn.Module) -> str | None:
    """"Add" or "Concat" for workbench's merge modules, or the copies an exported source defines."""
    name = type(module).__name__
    if isinstance(module, (Add, Concat)) or (name in ("Add", "Concat") and not any(True for _ in module.parameters())):
        return name
    return None


def _attribute(root: nn.Module, target: str) -> Any:
    value: Any = root
    for part in target.split("."):
        value = getattr(value, part, None)
    return value


def describe(node: torch.fx.Node, root: nn.Module) -> str:
    """What a node calls, as its source would name it: torch.nn.MultiheadAttention, torch.flatten,
    torch.nn.functional.layer_norm, torch.Tensor.view, operator.mul; an item of a tuple-valued call
    as "<call>, output <i>"."""
    if node.op == "call_module":
        return class_name(type(root.get_submodule(node.target)))
    if node.op == "call_method":
        return f"torch.Tensor.{node.target}"
    if node.target is operator.getitem and isinstance(node.args[0], torch.fx.Node) \
            and node.args[0].op in ("call_module", "call_function", "call_method"):
        return f"{describe(node.args[0], root)}, output {node.args[1]}"
    return function_name(node.target)


def class_name(cls: type) -> str:
    if getattr(nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def function_name(fn: Any) -> str:
    name = getattr(fn, "__name__", None) or repr(fn)
    if getattr(fn, "__module__", None) == "_operator":
        return f"operator.{name}"
    for prefix, namespace in (("torch.nn.functional", F), ("torch", torch)):
        if getattr(namespace, name, None) is fn:
            return f"{prefix}.{name}"
    module = getattr(fn, "__module__", None)
    return f"{module}.{getattr(fn, '__qualname__', name)}" if module else name
