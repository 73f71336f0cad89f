"""Supervised fine-tuning of a trained encoder, as Vincent et al. (2010) measure the
features of a stacked denoising autoencoder: a softmax layer on the code,

  p(y | x) = softmax(W h(x) + b),   h: the model's `encode` (the mean code of a VAE),

trained with the encoder's own parameters by Adam on the cross-entropy of the
training labels, from the trained encoder and a zero head. The figure is the
test classification error (a fraction of the test images). Beside the linear probe
(aejax.evaluators.metrics), which fits the head alone on frozen codes, it asks
how good a start for a classifier the pretrained encoder is.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from aejax import chunks, train
from aejax.evaluators import Column, Evaluator

# Adam with the learning rate traced, so that every rate shares one program.
_OPTIMIZER = optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)


def logits(state, params, images):
  """[N, H, W, C] images (uint8 or pixels in [0, 1]) -> [N, n_classes] logits of the
  classifier `params` ({"encoder": model params, "head": {"kernel": [d, n_classes],
  "bias": [n_classes]}}) built on `state`'s model and objective."""
  inputs = state.objective.to_model(train.as_pixels(images))
  codes = state.apply_fn({"params": params["encoder"]}, inputs, method="encode")
  return codes.astype(jnp.float32) @ params["head"]["kernel"] + params["head"]["bias"]


def _loss(state, params, images, labels):
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits(state, params, images), labels))


@train.model_program(static_argnames=("batch_size",))
def _epoch(state, params, opt_state, images, labels, key, epoch, *, batch_size):
  """One pass over the training split in shuffled batches (the last partial batch
  left out): (params, opt_state, mean training cross-entropy in nats)."""
  order, _ = train.shuffled_batches(key, epoch, n=images.shape[0], batch_size=batch_size)

  def step(carry, idx):
    params, opt_state = carry
    loss, grads = jax.value_and_grad(functools.partial(_loss, state))(params, images[idx], labels[idx])
    updates, opt_state = _OPTIMIZER.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), loss

  (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), order)
  return params, opt_state, jnp.mean(losses)


@train.model_program(static_argnames=("batch_size",))
def _errors(state, params, images, labels, *, batch_size=1000):
  """How many of `images` the classifier labels wrongly, in chunks of `batch_size`."""
  predicted = chunks.map_in_chunks(lambda x: jnp.argmax(logits(state, params, x), axis=-1), images, batch_size)
  return jnp.sum(predicted != labels)


def finetune(state, images, labels, n_classes, key, *, epochs, lr=1e-3, batch_size=128):
  """(classifier params, [epochs] mean training cross-entropy per epoch in nats):
  `state`'s encoder with a softmax head over `n_classes` (zero at the start) trained
  together on `images` [N, H, W, C] (uint8 or pixels in [0, 1]) and integer `labels`
  [N] by Adam at `lr` for `epochs` passes in shuffled batches of `batch_size`
  (at most N). The same key gives the same result."""
  d = jax.eval_shape(train.encode, state, images[:1]).shape[-1]   # traced, not compiled
  params = {"encoder": state.params,
            "head": {"kernel": jnp.zeros((d, n_classes), jnp.float32), "bias": jnp.zeros((n_classes,), jnp.float32)}}
  opt_state = _OPTIMIZER.init(params)
  opt_state.hyperparams["learning_rate"] = jnp.asarray(lr, jnp.float32)
  images, labels = jnp.asarray(images), jnp.asarray(labels, jnp.int32)
  losses = []
  for epoch in range(epochs):
    params, opt_state, loss = _epoch(state, params, opt_state, images, labels, key, epoch,
                                     batch_size=min(batch_size, images.shape[0]))
    losses.append(loss)
  return params, np.asarray(jax.device_get(losses), np.float64)


def error(state, params, images, labels):
  """The fraction of `images` [N, H, W, C] whose label [N] the classifier `params` gets wrong."""
  wrong = _errors(state, params, jnp.asarray(images), jnp.asarray(labels, jnp.int32))
  return float(wrong) / len(labels)


def measure(subject):
  """finetuned_test_error and finetuned_train_error (fractions of the split
  misclassified) and finetune_final_loss (the last epoch's mean training
  cross-entropy, nats) after config.run.finetune_epochs epochs of supervised
  fine-tuning (none with 0, or without labels), at the run's learning rate and
  batch size."""
  config, data = subject.config, subject.dataset
  epochs = getattr(config.run, "finetune_epochs", 0)
  if not (epochs and data.labelled):
    return {}
  n_classes = max(int(np.max(data.train_labels)), int(np.max(data.test_labels))) + 1
  params, losses = finetune(subject.state, data.train_images, data.train_labels, n_classes,
                            jax.random.fold_in(subject.eval_key, 7), epochs=epochs,
                            lr=config.optimiser.lr, batch_size=config.optimiser.batch_size)
  return {"finetuned_test_error": error(subject.state, params, data.test_images, data.test_labels),
          "finetuned_train_error": error(subject.state, params, data.train_images, data.train_labels),
          "finetune_final_loss": float(losses[-1]), "finetune_epochs": epochs}


EVALUATOR = Evaluator("finetune", measure, order=35, columns=(
    Column("finetuned_test_error", "test error of the encoder fine-tuned with a softmax head",
           "fine-tuned err.", "fraction of test images misclassified, lower is better",
           units="fraction", fmt=".4f", detail="{finetune_epochs} epochs"),))
