"""The validation split (--validation-fraction), as the test split's reconstruction:
validation_mse, and for a denoising variant validation_denoised_mse."""
import jax
import jax.numpy as jnp

from aejax import train, variants
from aejax.evaluators import Column, Evaluator


def measure(subject):
  images = subject.dataset.validation_images
  if images is None:
    return {}
  measured = jax.device_get(train.evaluate(subject.state, jnp.asarray(images), subject.eval_key))
  return {f"validation_{k}": float(measured[k]) for k in variants.figures(subject.config)}


EVALUATOR = Evaluator("validation", measure, order=50, cheap=True, columns=(
    Column("validation_mse", "validation per-pixel MSE", "validation MSE",
           "the same for the validation split, [0, 1] units", units="[0, 1] units"),))
