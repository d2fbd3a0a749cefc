"""Command-line verbs of `workbench`: one module per verb, each with `main(argv) -> int`."""
