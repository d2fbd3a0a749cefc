"""Project -> torch.nn.Module."""
from __future__ import annotations


from torch import nn

from workbench.core.catalogue import CATALOGUE
from workbench.core.inference import summarize
from workbench.core.project import ProjectError
from workbench.core.spec import ProjectSpec, load_spec
from workbench.core.summary import output_shapes


def build_model(project: ProjectSpec) -> nn.Sequential:
    """An nn.Sequential with one child per project layer (child i is layer i).

    Raises ProjectError naming the first layer whose shape does not work out.
    """
    doc = load_spec(project)
    summary = summarize(doc)
    if summary["first_error"] is not None:
        row = summary["layers"][summary["first_error"]]
        raise ProjectError(f"layer {row['index']} ({row['type']}): {row['message']}")
    shape = tuple(doc["input"])
    modules = []
    for layer, output in zip(doc["layers"], output_shapes(summary)):
        kind = CATALOGUE[layer["type"]]
        modules.append(kind.build(shape, kind.resolve(layer)))
        shape = tuple(output)
    return nn.Sequential(*modules)
