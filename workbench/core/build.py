"""Project -> torch.nn.Module.

A chain builds an nn.Sequential (child i is layer i), which layer-wise pretraining and the
autoencoder lab slice. A network with branches builds a `GraphNet`, whose children are the layers
in project order too (so probes and hooks find layer i as child i), named as the exported source
names them: a trained GraphNet's weights load into the exported module as they are.
"""
from __future__ import annotations


import torch
from torch import nn

from workbench.core.catalogue import CATALOGUE
from workbench.core.graph import bypass, is_branched, source_indices, variable_names
from workbench.core.inference import summarize
from workbench.core.project import ProjectError
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import Summary, input_shapes

class GraphNet(nn.Module):
    """Layers run in project order, each on the outputs of its inputs (`sources[i]`, -1: the input);
    the last layer's output is the network's. Outputs are dropped once their last taker has run."""

    def __init__(self, names: list[str], modules: list[nn.Module], sources: list[list[int]]):
        super().__init__()
        for name, module in zip(names, modules):
            self.add_module(name, module)
        self.sources = [tuple(s) for s in sources]
        last_use = {j: i for i, srcs in enumerate(sources) for j in srcs}
        self.frees = [tuple(j for j, last in last_use.items() if last == i and j >= 0) for i in range(len(sources))]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_to(x, len(self.sources) - 1)

    def forward_to(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """The output of layer `layer` (running the layers up to it)."""
        outputs: dict[int, torch.Tensor] = {-1: x}
        for i, module in enumerate(self.children()):
            outputs[i] = module(*(outputs[j] for j in self.sources[i]))
            if i == layer:
                return outputs[i]
            for j in self.frees[i]:
                del outputs[j]
        raise IndexError(f"no layer {layer}")

    @staticmethod
    def names_for(layers: list[dict]) -> list[str]:
        """The children's names (and the exported source's): see graph.variable_names."""
        return variable_names(layers, {*dir(GraphNet), "sources", "frees", "training"})

    def check_decodable(self, layer: int) -> None:
        """ValueError unless the layers after `layer` read only its output and theirs: a U-Net's
        decoder also reads the encoder (its skip connections), so its code alone does not decode."""
        jump = bypass(self.sources, layer)
        if jump is not None:
            i, j = jump
            raise ValueError(f"layer {i} also takes {'the input' if j < 0 else f'layer {j}'}'s output, bypassing "
                             f"layer {layer}: the code at layer {layer} alone cannot drive the rest of the network")

    def forward_from(self, value: torch.Tensor, layer: int) -> torch.Tensor:
        """The network's output when layer `layer` gives `value` (a decoder fed a code); see
        `check_decodable`."""
        self.check_decodable(layer)
        outputs: dict[int, torch.Tensor] = {layer: value}
        for i, module in enumerate(self.children()):
            if i > layer:
                outputs[i] = module(*(outputs[j] for j in self.sources[i]))
        return outputs[len(self.sources) - 1] if len(self.sources) - 1 > layer else value


def check_buildable(doc: dict, summary: Summary) -> None:
    """Raise ProjectError naming the first layer that keeps the network from being built: a shape
    error, or an opaque imported part (it has no module: a project file never carries code)."""
    if summary["first_error"] is not None:
        row = summary["layers"][summary["first_error"]]
        raise ProjectError(f"layer {row['index']} ({row['type']}): {row['message']}")
    for index, layer in enumerate(doc["layers"]):
        if CATALOGUE[layer["type"]].opaque:
            raise ProjectError(f"layer {index}: {layer['module']} is not in the catalogue (an opaque imported part), "
                               "so the network cannot be built: replace it with catalogue layers, or delete it")


def build_model(project: ProjectSpec) -> nn.Module:
    """An nn.Sequential for a chain, a GraphNet for a network with branches; child i is layer i.

    Raises ProjectError naming the first layer whose shape does not work out, or an opaque part.
    """
    doc = load_spec(project)
    summary = summarize(doc)
    check_buildable(doc, summary)
    modules = []
    for layer, shape in zip(doc["layers"], input_shapes(summary)):
        kind = CATALOGUE[layer["type"]]
        modules.append(kind.build(shape, kind.resolve(layer)))
    if not is_branched(doc["layers"]):
        return nn.Sequential(*modules)
    return GraphNet(GraphNet.names_for(doc["layers"]), modules, source_indices(doc["layers"]))


def layers_into_output(model: nn.Module) -> list[nn.Module]:
    """The layers on the way into the network's output, the last first, as far as a chain reaches
    back (what decides how the output is read: a final Softmax or Sigmoid)."""
    children = list(model.children())
    if isinstance(model, GraphNet):
        chain, node = [], len(children) - 1
        while node >= 0:
            chain.append(children[node])
            if len(model.sources[node]) != 1:
                break
            node = model.sources[node][0]
        return chain
    return list(reversed(children)) if isinstance(model, nn.Sequential) else []
