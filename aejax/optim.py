"""The optimiser of every run: Adam (or AdamW) with its learning rate and weight
decay traced in the optimiser state, and the learning-rate schedules over epochs."""
import functools
import math

import optax


@functools.lru_cache(maxsize=None)
def make_optimizer(lr=1e-3, weight_decay=1e-5, decoupled=False):
  """Adam whose weight decay is an L2 term added to the gradient, as PyTorch's
  `Adam(lr, weight_decay)`; with `decoupled`, AdamW (PyTorch's `AdamW`).

  The learning rate and the weight decay live in the optimizer state
  (`opt_state.hyperparams`, float32 scalars), traced like `TrainState.hparams`:
  models differing only in them share one compiled program (a sweep sets them
  per model). The same arguments return the same object, so that states built
  alike share compiled steps (the optimizer is a static part of the state)."""
  def adam(learning_rate, weight_decay):
    if decoupled:
      return optax.adamw(learning_rate, b1=0.9, b2=0.999, eps=1e-8, weight_decay=weight_decay)
    return optax.chain(optax.add_decayed_weights(weight_decay),
                       optax.adam(learning_rate, b1=0.9, b2=0.999, eps=1e-8))
  return optax.inject_hyperparams(adam)(learning_rate=lr, weight_decay=weight_decay)


SCHEDULES = ("constant", "cosine")


def lr_factor(schedule, epoch, epochs):
  """The learning rate of epoch `epoch` (from 0) of `epochs`, as a fraction of the
  configured one: 1 throughout (constant), or (1 + cos(pi * epoch / epochs)) / 2
  (cosine: 1 in the first epoch, falling toward 0 in the last)."""
  if schedule == "constant":
    return 1.0
  if schedule == "cosine":
    return 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
  raise ValueError(f"unknown learning rate schedule {schedule!r}")


def with_learning_rate(state, lr):
  """The state with learning rate `lr` (a scalar, or one per model of a stacked
  state) in its optimizer state (`make_optimizer`'s injected hyperparameter)."""
  hyperparams = {**state.opt_state.hyperparams, "learning_rate": lr}
  return state.replace(opt_state=state.opt_state._replace(hyperparams=hyperparams))
