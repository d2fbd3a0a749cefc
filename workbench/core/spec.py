"""One way to get a project document from whatever names a project.

    doc = load_spec("digits-cnn")          # a built-in template
    doc = load_spec("net.json")            # a project file
    doc = load_spec({"input": [1, 8, 8], "layers": [...]})
    doc = load_spec(project)               # the live Project: a copy of its document

Here, not in core/project.py, because templates are projects: project.py knows nothing of them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

from workbench.core.project import Project, ProjectError, read_project, validate_project
from workbench.core.templates import TEMPLATES, template

ProjectSpec = Union[Project, dict, str, os.PathLike]


def load_spec(spec: ProjectSpec) -> dict:
    """A validated project document (a fresh copy) from a Project, a dict, a file path or a template
    name; a ProjectError names what could not be read."""
    if isinstance(spec, Project):
        return spec.to_dict()
    if isinstance(spec, dict):
        return validate_project(spec)
    text = str(spec)
    if text in TEMPLATES and not Path(text).exists():
        return template(text)
    if not Path(text).exists():
        raise ProjectError(f"{text}: no such file, and not a template (templates: {', '.join(TEMPLATES)})")
    return read_project(text)
