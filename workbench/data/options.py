"""Checking a project section against a table of options, with messages naming key and allowed values.

Both the "data" section (here) and the "training" section (workbench.training.config) use it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

# Seeds are 31-bit: the largest value the window's seed box (a Qt int) holds, so a file, a CLI flag and
# the window accept the same seeds.
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Option:
    """kind: "choice", "int", "float", "bool", "str", "size" (int or [h, w]) or "list" (of choices)."""

    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def allowed(self) -> str:
        if self.kind in ("choice", "list"):
            return ("one of " if self.kind == "choice" else "a list of ") + ", ".join(self.choices)
        noun = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string",
                "size": "an integer or [height, width]"}[self.kind]
        low, high = (None if v is None else f"{v}" if self.kind == "int" else f"{v:g}" for v in (self.low, self.high))
        if low is not None and high is not None:
            return f"{noun} from {low} to {high}"
        return f"{noun} >= {low}" if low is not None else noun

    def check(self, value: Any) -> Any:
        """The value normalized, or ValueError (message completed by `check_section`)."""
        if value is None:
            return None
        ok = False
        if self.kind == "choice":
            ok = value in self.choices
        elif self.kind == "list":
            value = [value] if isinstance(value, str) else value
            ok = isinstance(value, list) and all(v in self.choices for v in value)
        elif self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "str":
            ok = isinstance(value, str) and value != ""
        elif self.kind == "size":
            value = [value, value] if isinstance(value, int) and not isinstance(value, bool) else value
            ok = (isinstance(value, list) and len(value) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4096 for v in value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.kind == "int" and isinstance(value, float) and value.is_integer():
                value = int(value)
            ok = (self.kind == "float" or isinstance(value, int)) and value == value and \
                (self.low is None or value >= self.low) and (self.high is None or value <= self.high)
            value = float(value) if self.kind == "float" else value
        if not ok:
            raise ValueError(f"must be {self.allowed()}")
        return value


def check_section(section: str, values: Any, options: dict[str, Option]) -> dict[str, Any]:
    """Every option filled in (given or default); unknown keys and bad values raise ValueError."""
    if not isinstance(values, dict):
        raise ValueError(f"'{section}' must be an object like {{\"{next(iter(options))}\": ...}}")
    for key in values:
        if key not in options:
            close = difflib.get_close_matches(str(key), list(options), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"{section}.{key}: unknown key{hint}; known keys: {', '.join(options)}")
    out = {}
    for key, option in options.items():
        try:
            out[key] = option.check(values.get(key, option.default))
        except ValueError as exc:
            raise ValueError(f"{section}.{key}: {values[key]!r} is not allowed: {exc}") from None
    return out
