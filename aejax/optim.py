"""The optimiser of every run: Adam (or AdamW) with its learning rate and weight
decay traced in the optimiser state, and the learning-rate schedules over epochs."""
import functools
import math

import jax.numpy as jnp
import numpy as np
import optax

SCHEDULES = ("constant", "cosine")


@functools.lru_cache(maxsize=None)
def make_optimizer(lr=1e-3, weight_decay=1e-5, decoupled=False, schedule="constant", epochs=1,
                   steps_per_epoch=1):
  """Adam whose weight decay is an L2 term added to the gradient, as PyTorch's
  `Adam(lr, weight_decay)`; with `decoupled`, AdamW (PyTorch's `AdamW`).

  The learning rate and the weight decay live in the optimizer state
  (`opt_state.hyperparams`, float32 scalars), traced like `TrainState.hparams`:
  models differing only in them share one compiled program (a sweep sets them
  per model). Under a `schedule` other than constant, the step numbered `count`
  (the optimizer state's count of updates, from 0) uses the learning rate
  `hyperparams["learning_rate"] * lr_factor(schedule, count // steps_per_epoch,
  epochs)`, computed in the compiled step: the stored rate is the peak, and a
  checkpoint's count resumes the schedule where it stopped. The same arguments
  return the same object, so that states built alike share compiled steps (the
  optimizer is a static part of the state)."""
  def adam(learning_rate, weight_decay):
    if decoupled:
      return optax.adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=weight_decay)
    return optax.chain(optax.add_decayed_weights(weight_decay),
                       optax.adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8))
  tx = optax.inject_hyperparams(adam)(learning_rate=lr, weight_decay=weight_decay)
  if schedule == "constant":
    return tx
  factors = np.array([lr_factor(schedule, epoch, epochs) for epoch in range(epochs)], np.float32)

  def update(updates, state, params=None):
    epoch = jnp.minimum(state.count // steps_per_epoch, epochs - 1)
    rate = state.hyperparams["learning_rate"] * jnp.asarray(factors)[epoch]
    updates, inner_state = adam(rate, state.hyperparams["weight_decay"]).update(
        updates, state.inner_state, params)
    return updates, state._replace(count=optax.safe_increment(state.count), inner_state=inner_state)
  return optax.GradientTransformation(tx.init, update)


def lr_factor(schedule, epoch, epochs):
  """The learning rate of epoch `epoch` (from 0) of `epochs`, as a fraction of the
  configured one: 1 throughout (constant), or (1 + cos(pi * epoch / epochs)) / 2
  (cosine: 1 in the first epoch, falling toward 0 in the last)."""
  if schedule == "constant":
    return 1.0
  if schedule == "cosine":
    return 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
  raise ValueError(f"unknown learning rate schedule {schedule!r}")
