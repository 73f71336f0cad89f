"""Reconstruction terms: how a model is fed [0, 1] pixels and how its outputs are scored.

An objective says how the model sees the pixels (`to_model`), how its outputs
are scored against the clean pixels (`per_example`), and how its outputs map
back to [0, 1] pixels (`to_pixels`), so that runs with different objectives
report comparable errors (aejax.units).
"""
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import optax

from aejax.units import per_example


@dataclasses.dataclass(frozen=True)
class Objective:
  """How a model with output `output` is fed and scored. Hashable: a static jit argument."""
  name: str
  output: str
  to_model: Callable
  to_pixels: Callable
  per_example: Callable


def _mse_per_example(outputs, pixels):
  """Squared error in [-1, 1] units, averaged over pixel values (PyTorch's MSELoss per example): [B]."""
  return jnp.mean(jnp.square(per_example(outputs) - (2.0 * per_example(pixels) - 1.0)), axis=-1)


def _bce_per_example(logits, pixels):
  """Sigmoid cross-entropy of logits against [0, 1] pixels, averaged over pixel values (nats): [B]."""
  return jnp.mean(optax.sigmoid_binary_cross_entropy(per_example(logits), per_example(pixels)), axis=-1)


MSE = Objective(
    name="mse", output="tanh",
    to_model=lambda pixels: 2.0 * pixels - 1.0,  # Normalize(0.5, 0.5)
    to_pixels=lambda outputs: (outputs + 1.0) / 2.0,
    per_example=_mse_per_example)

BCE = Objective(
    name="bce", output="logits",
    to_model=lambda pixels: pixels,
    to_pixels=jax.nn.sigmoid,
    per_example=_bce_per_example)

OBJECTIVES = {o.name: o for o in (MSE, BCE)}
