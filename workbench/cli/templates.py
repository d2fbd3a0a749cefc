"""`workbench templates`: the built-in projects, one line each."""
from __future__ import annotations

import argparse


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="workbench templates", description=__doc__).parse_args(argv)
    from workbench.core.templates import TEMPLATES

    width = max(map(len, TEMPLATES))
    for name, description in TEMPLATES.items():
        print(f"{name:<{width}}  {description}")
    return 0
