"""The loss of every variant: a reconstruction term plus weighted regularisers.

  loss(params, x, key) = mean_b L(x_b, g(z_b)) + sum_i w_i R_i(forward)

where x~ = q(x~|x) is the corrupted batch (aejax.data.corruptions), z = h(x~) the code
(a draw from q(z|x~) for a Gaussian encoder, aejax.models.gaussian), L the
reconstruction term (`reconstruction.py`: MSE or cross-entropy, averaged over
pixels) and each R_i a pure function of the `Forward` pass (one file per concept:
`sparse.py`, `contractive.py`, `variational.py`). The trainer (aejax.train)
calls `loss` and names no variant.

The weights w_i and the other continuous hyperparameters (the noise level, a
sparsity target) are traced: they live in `hparams`, a dict of float32 scalars
in the train state, so that models differing only in them share one compiled
program and can be vmapped together. Which corruption, which terms, which model:
static.
"""
import dataclasses
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp

from aejax import units
from aejax.objectives.reconstruction import BCE, MSE, OBJECTIVES, Objective

__all__ = ["BCE", "MSE", "OBJECTIVES", "Forward", "Objective", "find", "loss"]


@dataclasses.dataclass(frozen=True)
class Forward:
  """What one training step computed, for the regularisers to see.

  pixels: [B, H, W, C] clean pixels in [0, 1]; corrupted: [B, H, W, C] the encoder's input
  in [0, 1] pixel units (`pixels` when there is no corruption); code: [B, d] the
  code that was decoded (a draw from q(z|x~) for a Gaussian encoder); outputs:
  [B, H, W, C] the decoder's outputs in the objective's units; sown: the
  `intermediates` the model sowed in `encode` (see `find`); encoder: [N, H, W, C]
  pixels in [0, 1] -> [N, d] codes, deterministic (the mean of a Gaussian
  encoder), a function of the parameters being trained, for Jacobians; key: a
  key for the regulariser's own randomness, unused by the corruption and the
  encoder; hparams: the traced hyperparameters (weights, noise, targets).
  """
  pixels: jax.Array
  corrupted: jax.Array
  code: jax.Array
  outputs: jax.Array
  sown: Mapping[str, Any]
  encoder: Callable
  key: jax.Array
  hparams: Mapping[str, jax.Array]

  def find(self, name):
    """Every value the encoder sowed under `name`: a tuple of arrays (see `find`)."""
    return find(self.sown, name)

  @property
  def hidden(self):
    """The encoder's hidden activations (sown as `hidden` after each hidden nonlinearity)."""
    return self.find("hidden")


def find(sown, name):
  """Every value sown under `name` anywhere in an `intermediates` tree, in tree
  order (keys sorted at each level): a tuple of arrays."""
  found = []
  for k in sorted(sown):
    if k == name and isinstance(sown[k], tuple):
      found.extend(sown[k])
    elif isinstance(sown[k], Mapping):
      found.extend(find(sown[k], name))
  return tuple(found)


def loss(apply_fn, objective, corruption, regularisers, hparams, params, batch, key):
  """(scalar loss, metrics) of `params` on `batch` ([B, H, W, C] clean pixels in [0, 1]).

  apply_fn: a Flax `apply` of a module with `encode` and `decode`; objective: a
  reconstruction term (`OBJECTIVES`); corruption: (key, pixels, level) -> pixels;
  regularisers: ((name, fn), ...), fn: Forward -> scalar, weighted by
  hparams[name]; hparams: traced scalars, `noise` the corruption level.
  The corruption draws with `key` itself; the encoder's sampling and the
  regularisers with keys folded from it.

  metrics: `loss`; `mse`, the per-pixel MSE ([0, 1] units) of the reconstruction
  against the clean batch; and each regulariser's unweighted value under its name.
  """
  variables = {"params": params}
  corrupted = corruption(key, batch, hparams["noise"])
  code, sown = apply_fn(variables, objective.to_model(corrupted), method="encode",
                        rngs={"sample": jax.random.fold_in(key, 1)}, mutable="intermediates")
  outputs = apply_fn(variables, code, method="decode")
  total = jnp.mean(objective.per_example(outputs, batch))
  metrics = {"mse": jnp.mean(units.per_pixel_mse(objective.to_pixels(outputs), batch))}
  if regularisers:
    forward = Forward(
        pixels=batch, corrupted=corrupted, code=code, outputs=outputs,
        sown=sown.get("intermediates", {}),
        encoder=lambda pixels: apply_fn(variables, objective.to_model(pixels), method="encode"),
        key=jax.random.fold_in(key, 2), hparams=hparams)
    metrics["reconstruction"] = total
    for name, fn in regularisers:
      metrics[name] = fn(forward)
      total = total + hparams[name] * metrics[name]
  metrics["loss"] = total
  return total, metrics
