"""What a layer card and the summary table show of a run's health: the card's colour (amber, red), its
worst finding in a few words, every finding's sentence for the tooltip, and the measured time per
batch beside the layer's share of the MACs. Plain data (no Qt), made from the engine's "health" and
"timing" events (live, or a saved run's health.jsonl).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.training.events import HealthEvent, Level, TimingEvent
from workbench.training.timing import slow_message

SHORT = {"vanishing-gradient": "vanishing gradient", "exploding-gradient": "exploding gradient",
         "dead-units": "dead units", "saturated": "saturated", "fast-updates": "learning rate too high"}


@dataclass
class LayerMark:
    level: Level | None = None        # the worst finding's; None: healthy (or no statistics)
    headline: str = ""                # the worst finding in a few words, for the card
    sentences: list[str] = field(default_factory=list)  # every finding, for the tooltip
    per_batch: str = ""               # "0.74 ms": forward and backward, one batch (the card's corner)
    time: str = ""                    # "0.74 ms · 40 % of the time, 87 % of the MACs"
    slow: bool = False                # far more time than its share of the MACs
    slow_sentence: str = ""


def format_time(seconds: float) -> str:
    """0.0000099 -> '9.9 µs', 0.00074 -> '0.74 ms', 0.0123 -> '12 ms', 1.5 -> '1.5 s' (short: a card's corner)."""
    if seconds >= 1:
        return f"{seconds:.2g} s"
    if seconds < 1e-4:
        us = seconds * 1e6
        return f"{us:.2g} µs" if us < 10 else f"{us:.0f} µs"
    ms = seconds * 1e3
    return f"{ms:.2g} ms" if ms < 10 else f"{ms:.0f} ms"


def layer_marks(health: HealthEvent | None, timing: TimingEvent | None, layers: int) -> list[LayerMark]:
    """One mark per layer (`layers` of them: the network as it is now drawn)."""
    marks = [LayerMark() for _ in range(layers)]
    for finding in health["findings"] if health else []:
        index = finding["layer"]
        if index is None or not 0 <= index < layers:
            continue
        mark = marks[index]
        mark.sentences.append(finding["message"])
        if mark.level is None or (finding["level"] == "red" and mark.level == "amber"):
            mark.level = finding["level"]
            mark.headline = SHORT.get(finding["finding"], finding["finding"].replace("-", " "))
    for t in timing["layers"] if timing else []:
        if 0 <= t["layer"] < layers:
            mark = marks[t["layer"]]
            share = f"{t['time_share'] * 100:.0f} % of the time"
            macs = "" if t["macs_share"] is None else f", {t['macs_share'] * 100:.0f} % of the MACs"
            mark.per_batch = format_time(t["forward_s"] + t["backward_s"])
            mark.time = f"{mark.per_batch} · {share}{macs}"
            mark.slow = t["slow"]
            mark.slow_sentence = slow_message(t) if t["slow"] else ""
    return marks


def network_sentences(health: HealthEvent | None) -> list[str]:
    """The findings about the network as a whole (a flat loss), for the summary."""
    return [f["message"] for f in health["findings"] if f["layer"] is None] if health else []
