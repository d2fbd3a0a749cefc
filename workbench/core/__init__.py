"""Qt-free core: what a network is (project, catalogue) and what it does to shapes (inference).

Nothing under workbench.core imports Qt; an import-linter contract in pyproject.toml enforces it.
"""
from workbench.core.inference import summarize
from workbench.core.project import Project, ProjectError
from workbench.core.spec import load_spec

__all__ = ["Project", "ProjectError", "load_spec", "summarize"]
