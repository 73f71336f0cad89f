"""The common currency of every run: per-pixel MSE in [0, 1] units, and PSNR.

Whatever a model is trained on (aejax.objectives), its reconstructions are
scored in these units, so that runs compare.
"""
import jax.numpy as jnp
import numpy as np


def per_pixel_mse(reconstruction, target):
  """[B, P] and [B, P] pixels in [0, 1] -> [B] mean squared error per pixel, [0, 1] units."""
  return jnp.mean(jnp.square(reconstruction - target), axis=-1)


def psnr(mse):
  """Peak signal-to-noise ratio in dB of a per-pixel MSE in [0, 1] units (peak 1).
  On the host: a float (or numpy array) in, a float out."""
  return float(-10.0 * np.log10(mse))
