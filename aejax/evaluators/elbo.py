"""The negative ELBO of a VAE with the cross-entropy objective: the bound on
-log p(x) its loss is, in nats per test image (one draw of z each)."""
import jax.numpy as jnp

from aejax import variants
from aejax.evaluators import Column, Evaluator
from aejax.objectives import variational


def measure(subject):
  if not variants.scored_by_elbo(subject.config):
    return {}
  return {"test_negative_elbo": float(variational.negative_elbo(
      subject.state, jnp.asarray(subject.test_pixels), subject.eval_key))}


EVALUATOR = Evaluator("elbo", measure, order=20, columns=(
    Column("test_negative_elbo", "test negative ELBO", "-ELBO", "nats per test image, lower is better", units="nats per image",
           fmt=".2f", plotted=True),))
