"""The stacked denoising autoencoder (Vincent et al. 2010): greedy layer-wise
pretraining, then end-to-end fine-tuning, every stage with aejax.train.

Stage k (k = 1..L+1 for L hidden layers and the code) trains a one-layer
denoising autoencoder, `Layer`, on the codes c_{k-1} of the stages below (c_0:
the pixels): h = sigmoid(W c~ + b) (linear for the code layer), reconstruction
out(V h + a), with the run's corruption, objective, optimizer and batch size, for
`pretrain_epochs` epochs. Hidden units are sigmoid, so every c_k lies in [0, 1]
like pixels and every corruption and objective applies to it unchanged.

`assemble` places each stage's W into the deep encoder and its V into the mirrored
decoder of aejax.models.AutoEncoder (sigmoid units), changing them only as the
objective's model units require (the MSE objective sees 2c - 1, not c), so that
the assembled network computes exactly the stages' chain; the run then fine-tunes
it end to end. The summary keeps each stage's test reconstruction error.
"""
import json
import math
import os

import flax.linen as nn
import jax
import jax.numpy as jnp

from aejax import train

RECORDS = "pretraining.json"
# to_pixels(output(y)) = sigmoid(SIGMOID_SCALE[output] * y): (tanh(y) + 1) / 2 = sigmoid(2 y).
SIGMOID_SCALE = {"tanh": 2.0, "logits": 1.0}


class Layer(nn.Module):
  """One stage: [B, *image_shape] inputs (images, or [B, P] codes of the stage
  below) -> [B, width] sigmoid (or, `linear`, linear) codes -> outputs of the
  inputs' shape in the objective's units (`output`: tanh or logits)."""
  width: int
  image_shape: tuple
  linear: bool = False
  output: str = "tanh"
  dtype: jnp.dtype = jnp.float32

  def setup(self):
    self.enc = nn.Dense(self.width, dtype=self.dtype, param_dtype=jnp.float32)
    self.dec = nn.Dense(math.prod(self.image_shape), dtype=self.dtype, param_dtype=jnp.float32)

  def encode(self, x):
    y = self.enc(x.reshape(x.shape[0], -1)).astype(jnp.float32)
    return y if self.linear else nn.sigmoid(y)

  def decode(self, h):
    y = self.dec(h).astype(jnp.float32).reshape(h.shape[0], *self.image_shape)
    return jnp.tanh(y) if self.output == "tanh" else y

  def __call__(self, x):
    return self.decode(self.encode(x))


def sizes(model):
  """(pixel values per image, hidden widths..., latent_dim) of an AutoEncoder."""
  return (math.prod(model.image_shape), *model.widths, model.latent_dim)


def assemble(stage_params, objective):
  """AutoEncoder parameters from the stages' parameters (bottom first).

  Stage k > 1 saw its input c as objective.to_model(c) = a c + b (2c - 1 under
  MSE): its encoder (W, w) becomes (a W, w + b sum_i W_i) for the raw c. Its
  reconstruction in [0, 1] units is sigmoid(s y) of the pre-activation y (s = 2
  for a tanh output, 1 for logits): its decoder (V, v) becomes (s V, s v) in front
  of the AutoEncoder's sigmoid. Stage 1 sees and returns pixels as the deep
  network does, unchanged.
  """
  shift = objective.to_model(jnp.float32(0.0))
  gain = objective.to_model(jnp.float32(1.0)) - shift
  scale = SIGMOID_SCALE[objective.output]
  n = len(stage_params)
  params = {}
  for k, p in enumerate(stage_params):
    enc, dec = dict(p["enc"]), dict(p["dec"])
    if k > 0:
      enc = {"kernel": gain * enc["kernel"], "bias": enc["bias"] + shift * jnp.sum(enc["kernel"], axis=0)}
      dec = {"kernel": scale * dec["kernel"], "bias": scale * dec["bias"]}
    params["code" if k == n - 1 else f"enc_{k}"] = enc
    params["out" if k == 0 else f"dec_{n - 1 - k}"] = dec
  return params


def pretrain(state, key, train_images, test_images, epochs, batch_size):
  """(state with pretrained parameters, records) for `state`, an AutoEncoder with
  sigmoid units: each stage trained with aejax.train for `epochs` epochs on the
  codes of the stages below, then assembled.

  records: one dict per stage, `stage`, `epochs`, `test_mse` (per-unit MSE, in
  [0, 1] units of the stage's clean input: pixels, then the activations below, of
  its reconstruction from the clean input) and `denoised_mse` (from the corrupted
  input); then the assembled network before fine-tuning, in pixels."""
  model = state.apply_fn.module
  layer_sizes = sizes(model)
  stage_params, records = [], []
  data, test = train_images, test_images
  for k, (n_in, width) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
    layer = Layer(width, tuple(model.image_shape) if k == 0 else (n_in,),
                  linear=k == len(layer_sizes) - 2, output=model.output, dtype=model.dtype)
    init_key, run_key, eval_key = jax.random.split(jax.random.fold_in(key, k), 3)
    # The augmentation transforms pixels: the first stage's input alone.
    stage = train.create_train_state(
        layer, init_key, state.tx, objective=state.objective, corruption=state.corruption,
        noise=state.noise, hparams=state.hparams if k == 0 else None,
        augmentation=state.augmentation if k == 0 else "none")
    for epoch in range(epochs):
      stage, _ = train.train_epoch(stage, data, run_key, epoch, batch_size=batch_size)
    measured = jax.device_get(train.evaluate(stage, test, eval_key))
    records.append({"stage": f"{k + 1}: {n_in}-{width}", "epochs": epochs,
                    "test_mse": float(measured["mse"]), "denoised_mse": float(measured["denoised_mse"])})
    stage_params.append(stage.params)
    data, test = train.encode(stage, data), train.encode(stage, test)
  state = state.replace(params=assemble(stage_params, state.objective))
  measured = jax.device_get(train.evaluate(state, test_images, jax.random.fold_in(key, len(stage_params))))
  records.append({"stage": "stacked, before fine-tuning", "epochs": 0,
                  "test_mse": float(measured["mse"]), "denoised_mse": float(measured["denoised_mse"])})
  return state, records


def read_records(workdir):
  """{"stages": records} of a run pretrained in `workdir`, else {}."""
  path = os.path.join(workdir, RECORDS)
  if not os.path.isfile(path):
    return {}
  with open(path) as f:
    return {"stages": json.load(f)}

