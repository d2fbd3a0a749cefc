"""What the health numbers mean, in words: findings with a suggestion, for the cards, the run folder
and `workbench health`.

    trend = LossTrend(fresh=True); trend.add(step, loss) ...
    find(window, types, trend, lr) -> [{"layer": 3, "finding": "dead-units", "level": "red",
                                        "message": "71 % of these units never activate — ..."}]

`window` holds the last few collected steps (each a list of LayerHealth, workbench.training.health);
a number is judged by its median over the window, so one odd batch does not turn a card red. The
thresholds were set on the built-in templates (none of which trips them with its own settings) and
on deliberately broken networks (ten Sigmoid layers at learning rate 10: vanishing and saturated).
"""
from __future__ import annotations

import collections
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from workbench.training.events import Finding, LayerHealth, Level

WINDOW = 5  # collected steps a finding is judged over ...
MIN_WINDOW = 3  # ... once there are at least this many (one odd step at the start is no finding)


@dataclass(frozen=True)
class Band:
    """A number is amber from `amber` on and red from `red` on (below them for a `low` band)."""

    amber: float
    red: float
    low: bool = False

    def level(self, value: float) -> Level | None:
        if self.low:
            return "red" if value <= self.red else "amber" if value <= self.amber else None
        return "red" if value >= self.red else "amber" if value >= self.amber else None


# Gradient at a layer's output relative to the output layer's. Healthy templates stay above 1/100
# (cifar10-cnn's first conv at its weakest); ten Sigmoid layers reach 1e-8 at the first step.
VANISHING = Band(1 / 200, 1 / 1000, low=True)
EXPLODING = Band(100.0, 1000.0)
DEAD = Band(0.7, 0.9)           # share of a ReLU's units silent over the last DEAD_WINDOW collected batches
SATURATED = Band(0.3, 0.6)      # share of Sigmoid/Tanh outputs in the flat ends (lenet5's Tanh: under 0.1)
FAST_UPDATES = Band(0.2, 1.0)   # ||Δw|| / ||w|| per step (digits-cnn: up to 0.06) ...
FAST_AFTER_STEPS = 10           # ... judged after Adam's first steps (about lr per weight, whatever its size)
SLOW_UPDATES = 1e-4  # median over the layers that train: the learning rate may be too low (with a flat loss)
FLAT = 0.02          # the loss fell by less than this share since the run (or stage) began ...
FLAT_AFTER_STEPS = 300  # ... over at least this many steps (cifar10-cnn on shapes sits at 2.3 for ~100)
TREND_POINTS = 5     # logging points whose median is the loss at the start, and now


@dataclass
class LossTrend:
    """The training loss at a run's logging points: its first few and its last few values. `fresh`:
    recorded from the run's first step (a resumed run's loss is already low, so it cannot be flat)."""

    fresh: bool = True
    first: list[tuple[int, float]] = field(default_factory=list)
    last: collections.deque[tuple[int, float]] = field(
        default_factory=lambda: collections.deque(maxlen=TREND_POINTS))

    def add(self, step: int, loss: float) -> None:
        if len(self.first) < TREND_POINTS:
            self.first.append((step, loss))
        self.last.append((step, loss))

    def flat(self) -> tuple[float, float, int] | None:
        """(loss at the start, loss now, steps between) when the loss has not fallen, else None."""
        if not self.fresh or len(self.first) < TREND_POINTS or self.last[0][0] <= self.first[-1][0]:
            return None
        early = statistics.median(loss for _, loss in self.first)
        late = statistics.median(loss for _, loss in self.last)
        steps = self.last[-1][0] - self.first[0][0]
        if steps < FLAT_AFTER_STEPS or late < early * (1 - FLAT):
            return None
        return early, late, steps


def _median(window: Sequence[list[LayerHealth]], layer: int, key: str) -> float | None:
    values = [float(step[layer][key]) for step in window  # type: ignore[literal-required]  # one of LayerHealth's
              if layer < len(step) and step[layer][key] is not None]  # type: ignore[literal-required]
    return statistics.median(values) if values else None


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _times(ratio: float) -> str:
    """How many times smaller or larger: 1/1234 -> '1,234×', 4e-11 -> '3×10¹⁰ times'."""
    factor = 1 / ratio if ratio < 1 else ratio
    if factor < 1e6:
        return f"{factor:,.0f}×"
    mantissa, exponent = f"{factor:.0e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)} times"


def _share(value: float) -> str:
    return f"{value * 100:.0f} %"


def layer_findings(window: Sequence[list[LayerHealth]], types: Sequence[str], first_step: int = FAST_AFTER_STEPS
                   ) -> list[Finding]:
    """Each layer's findings, in layer order (a layer may have several). first_step: the global step
    of the window's oldest entry."""
    if len(window) < MIN_WINDOW:
        return []
    weighted = [i for i in range(len(types)) if _median(window, i, "update_ratio") is not None]
    # Sigmoid/Tanh layers that a gradient must cross to reach a layer with weights (an output Sigmoid
    # squashes the gradient of every layer alike: it is no reason for one to get less than another)
    squashing = [i for i, kind in enumerate(types) if kind in ("Sigmoid", "Tanh") and any(k > i for k in weighted)]
    out: list[Finding] = []
    for i, kind in enumerate(types):
        def add(name: str, level: Level | None, message: str) -> None:
            if level is not None:
                out.append({"layer": i, "finding": name, "level": level, "message": message})

        ratio = _median(window, i, "grad_ratio")
        has_weights = i in weighted
        if ratio is not None and has_weights and ratio > 0:
            cure = ("try ReLU instead of Sigmoid or Tanh, or add BatchNorm" if any(j > i for j in squashing)
                    else "add BatchNorm, or use fewer layers")
            add("vanishing-gradient", VANISHING.level(ratio),
                f"gradients here are {_times(ratio)} smaller than at the output — vanishing: {cure}")
            add("exploding-gradient", EXPLODING.level(ratio),
                f"gradients here are {_times(ratio)} larger than at the output — exploding: lower the learning "
                f"rate, or add BatchNorm")
        elif ratio == 0 and has_weights:
            add("vanishing-gradient", "red", "no gradient reaches this layer — it cannot learn: try ReLU instead of "
                                             "Sigmoid or Tanh, or add BatchNorm")
        dead = _median(window, i, "dead")
        if dead is not None:
            add("dead-units", DEAD.level(dead),
                f"{_share(dead)} of these units never activate — lower the learning rate, or try LeakyReLU")
        saturated = _median(window, i, "saturated")
        if saturated is not None:
            add("saturated", SATURATED.level(saturated),
                f"{_share(saturated)} of these outputs sit in the {kind}'s flat ends, where almost no gradient "
                f"passes — lower the learning rate, or try ReLU or BatchNorm")
        update = _median(window, i, "update_ratio")
        if update is not None and first_step >= FAST_AFTER_STEPS:
            add("fast-updates", FAST_UPDATES.level(update),
                f"each step changes these weights by {_share(update)} — the learning rate is too high: try it 10× lower")
    return out


def loss_findings(window: Sequence[list[LayerHealth]], trend: LossTrend, lr: float,
                  others: Iterable[Finding] = ()) -> list[Finding]:
    """The network-wide finding of a loss that does not fall, with the likeliest cause."""
    flat = trend.flat()
    if flat is None:
        return []
    early, late, steps = flat
    # the layers that train (a staged schedule's frozen layers do not change at all)
    updates = [u for u in (_median(window, i, "update_ratio") for i in range(len(window[-1]) if window else 0))
               if u]
    update = statistics.median(updates) if updates else None
    what = f"the loss is flat ({early:.3g} → {late:.3g} over {steps:,} steps)"
    if late > early * (1 + FLAT):
        what = f"the loss is not going down ({early:.3g} → {late:.3g} over {steps:,} steps)"
    if update is not None and update < SLOW_UPDATES:
        why = (f"the learning rate may be too low (now {lr:g}; each step changes the weights by "
               f"{update * 100:.2g} %): try it 10× higher")
    elif update is not None and update >= FAST_UPDATES.amber / 10:
        why = (f"the learning rate may be too high (now {lr:g}; each step changes the weights by "
               f"{_share(update)}): try it 10× lower")
    elif any(True for _ in others):
        why = "see the layers marked"
    else:
        why = "the learning rate may be too low: try it 10× higher, and check that the labels fit the inputs"
    return [{"layer": None, "finding": "flat-loss", "level": "amber", "message": f"{what}: {why}"}]


def find(window: Sequence[list[LayerHealth]], types: Sequence[str], trend: LossTrend | None = None,
         lr: float = 0.0, first_step: int = FAST_AFTER_STEPS) -> list[Finding]:
    """Every finding: the layers' in layer order, then the network's. first_step: the global step of
    the window's oldest entry."""
    layers = layer_findings(window, types, first_step)
    return layers + (loss_findings(window, trend, lr, layers) if trend is not None else [])
