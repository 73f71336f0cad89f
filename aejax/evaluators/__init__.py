"""Measurements of a trained state, as plug-ins: every module of this package
that declares `EVALUATOR` (an `Evaluator`) is run by the analysis, and the
columns it declares are what summary.json, report.html, the zoo's table,
compare.py and sweep.html show. Adding a metric is one file here.

Besides the evaluators, the library they use: `metrics` (kNN and linear-probe
accuracy, trustworthiness, continuity), `pca` (the baseline) and `likelihood`
(importance-weighted log-likelihood). They read the science below them (train,
models, objectives, data, variants) and nothing of the run or the report.
"""
import dataclasses
import functools
import importlib
import pkgutil
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from aejax import train
from aejax.evaluators import metrics


@dataclasses.dataclass(frozen=True)
class Column:
  """A figure of the summary as tables show it: `key` in summary.json, `label`
  (a phrase), `short` (a column heading), `unit` (what it measures and which way
  is better), `units` (its units in a few words), `fmt` (a format spec),
  `plotted` (drawn against a sweep's axis), `detail` (a phrase formatted with the
  summary's figures, after the label where the summary has them)."""
  key: str
  label: str
  short: str
  unit: str
  units: str = ""
  fmt: str = ".4f"
  plotted: bool = False
  detail: str = ""

  def described(self, summary):
    """The label, with its detail filled from `summary` where it holds every figure named."""
    try:
      return f"{self.label}, {self.detail.format(**summary)}" if self.detail else self.label
    except (KeyError, IndexError, TypeError, ValueError):   # a figure missing, or not formattable so
      return self.label


@dataclasses.dataclass(frozen=True)
class Evaluator:
  """One measurement. `measure(subject)` -> {summary key: figure}, {} where it
  does not apply to the subject's variant or data; `order` places it in the
  summary; `cheap` ones also run with --no-analysis (and for a sweep's models
  then); `columns` are the figures it declares for tables."""
  name: str
  measure: Callable[["Subject"], dict]
  order: int
  columns: tuple = ()
  cheap: bool = False


@dataclasses.dataclass
class Subject:
  """What the evaluators measure: a trained state with its config, dataset
  ([N, H, W, C] splits) and eval key, and the test split's `train.evaluate`
  means (`test`). The codes are computed once, on first use. `shared`: figures
  the same for every model of a sweep (the PCA baseline's), computed once."""
  config: Any
  dataset: Any
  state: Any
  eval_key: Any
  test: Optional[dict] = None
  shared: dict = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    if self.test is None:
      self.test = train.evaluate(self.state, jnp.asarray(self.dataset.test_images), self.eval_key)
    self.test = jax.device_get(self.test)

  @functools.cached_property
  def test_pixels(self):
    """[N, H, W, C] test pixels in [0, 1]."""
    return train.as_pixels(self.dataset.test_images)

  @functools.cached_property
  def train_codes(self):
    """[N_train, latent_dim] float64 codes of the training split."""
    return np.asarray(train.encode(self.state, self.dataset.train_images), np.float64)

  @functools.cached_property
  def test_codes(self):
    """[N, latent_dim] float64 codes of the test split."""
    return np.asarray(train.encode(self.state, self.dataset.test_images), np.float64)

  @functools.cached_property
  def neighbourhood(self):
    """The indices of the test images whose neighbourhoods are measured."""
    return metrics.subset(len(self.dataset.test_images), metrics.N_NEIGHBOURHOOD)


@functools.lru_cache(maxsize=None)
def evaluators():
  """Every Evaluator declared in this package, in `order`."""
  found = []
  for module in pkgutil.iter_modules(__path__):
    declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "EVALUATOR", None)
    if declared is not None:
      found.append(declared)
  return tuple(sorted(found, key=lambda e: (e.order, e.name)))


def columns():
  """Every declared Column, in the evaluators' order."""
  return tuple(c for e in evaluators() for c in e.columns)


def measure(subject, cheap_only=False):
  """{summary key: figure} of every evaluator (the cheap ones only, with `cheap_only`)."""
  out = {}
  for evaluator in evaluators():
    if evaluator.cheap or not cheap_only:
      out.update(evaluator.measure(subject))
  return out
