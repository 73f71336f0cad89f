"""Figures of the literature beside aejax's own, as a reproduction script prints
them: each `Claim` (the paper's figure, its units and the setting it needs) with
the figure a run measured in the same units, and the data it was measured on."""
import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Claim:
  """source: the paper and where in it; what: the figure; paper: its value;
  units: the paper's units, which the run's figure is converted to; setting: what the
  paper's figure needs (data, model, training)."""
  source: str
  what: str
  paper: float
  units: str
  setting: str


def table(rows, data):
  """The lines a reproduction prints: per (Claim, measured figure or None) the
  paper's figure beside aejax's, in the paper's units, then the data measured on."""
  lines = []
  for claim, ours in rows:
    measured = "not measured" if ours is None else f"{ours:.5g}"
    lines += [f"{claim.source}: {claim.what}",
              f"  paper {claim.paper:.5g}, aejax {measured} ({claim.units})",
              f"  the paper's setting: {claim.setting}"]
  lines.append(f"aejax measured on: {data}")
  return "\n".join(lines)


def ratio(numerator: Optional[float], denominator: Optional[float]):
  """numerator / denominator, or None where either is missing."""
  return None if numerator is None or denominator is None else numerator / denominator
