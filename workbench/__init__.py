"""workbench: build, inspect and train neural networks visually."""
__version__ = "0.1.0"
