"""The common currency of every run: per-pixel MSE in [0, 1] units, and PSNR.

Whatever a model is trained on (aejax.objectives), its reconstructions are
scored in these units, so that runs compare.
"""
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Shaped

from aejax.types import Examples, PerExample, Rows


def per_example(values: Shaped[Array, "..."]) -> Rows:
  """[B, ...] -> [B, P]: each example's values in one row, to average over."""
  return values.reshape(values.shape[0], -1)


def per_pixel_mse(reconstruction: Examples, target: Examples) -> PerExample:
  """[B, H, W, C] (or [B, P]) pixels in [0, 1] and the same of the target -> [B]
  mean squared error per pixel value (over every channel), [0, 1] units."""
  return jnp.mean(jnp.square(per_example(reconstruction) - per_example(target)), axis=-1)


def psnr(mse: float | np.ndarray) -> float:
  """Peak signal-to-noise ratio in dB of a per-pixel MSE in [0, 1] units (peak 1).
  On the host: a float (or numpy array) in, a float out."""
  return float(-10.0 * np.log10(mse))
