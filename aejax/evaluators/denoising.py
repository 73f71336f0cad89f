"""A denoising variant against every corruption at several levels: the per-pixel
MSE of the corrupted test input and of its reconstruction, and the PSNR gain."""
import functools

import jax
import jax.numpy as jnp

from aejax import train, units, variants
from aejax.data import corruptions
from aejax.evaluators import Evaluator

LEVELS = (0.1, 0.3, 0.5, 0.7)


@functools.partial(jax.jit, static_argnames=("corruption",))
def denoising_errors(state, pixels, key, level, *, corruption):
  """(corrupted-input MSE, denoised MSE), per pixel in [0, 1] units, of `pixels`
  corrupted by `corruption` at `level` (traced: no recompilation per level)."""
  noisy = corruptions.CORRUPTIONS[corruption](key, pixels, level)
  denoised = train.reconstruct(state, noisy)
  return (jnp.mean(units.per_pixel_mse(noisy, pixels)),
          jnp.mean(units.per_pixel_mse(denoised, pixels)))


def measure(subject):
  config = subject.config
  if not variants.denoising(config):
    return {}
  table = []
  for name in sorted(corruptions.NOISY):
    trained = name == config.objective.corruption
    for level in sorted({*LEVELS, *([config.objective.noise] if trained else [])}):
      if trained and level == config.objective.noise:   # the headline's own evaluation
        noisy_mse, denoised_mse = float(subject.test["noisy_input_mse"]), float(subject.test["denoised_mse"])
      else:
        noisy_mse, denoised_mse = map(float, denoising_errors(
            subject.state, jnp.asarray(subject.test_pixels), subject.eval_key, level, corruption=name))
      table.append({"corruption": name, "level": level, "noisy_input_mse": noisy_mse,
                    "denoised_mse": denoised_mse,
                    "psnr_gain_db": units.psnr(denoised_mse) - units.psnr(noisy_mse)})
  return {"denoising": table}


EVALUATOR = Evaluator("denoising", measure, order=100)
