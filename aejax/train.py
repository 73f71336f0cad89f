"""One trainer for every variant; it names none of them.

`train_step` and `eval_step` are pure functions of (state, batch, key). A
variant is its loss (aejax.objectives.loss): the state carries, as static fields,
the reconstruction objective (how pixels are fed and scored), the corruption
q(x~|x), the regularisers and the augmentation of the clean batch
(aejax.data.augmentations), and as a traced field `hparams` their continuous
settings (noise level, weights, augmentation ranges); changing a static field compiles a new program,
changing `hparams` or the data does not. The AE is the DAE whose corruption is
the identity. Batches are clean pixels in [0, 1], shape [B, H, W, C] (the model's
`image_shape`); datasets hold uint8 images, converted inside the compiled step.
"""
import dataclasses
import functools
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.extend.core
import jax.numpy as jnp
import optax
from flax import struct
from flax.training import train_state

from aejax import chunks, objectives, units
from aejax.data import augmentations, corruptions
from aejax.types import Codes, Epoch, ImagePixels, Images, Metrics, PerExample, Pixels, PRNGKey


class TrainState(train_state.TrainState):
  """Flax TrainState plus the variant's loss: the objective, the corruption, the
  regularisers ((name, fn) pairs) and the augmentation, all static, and `hparams`
  (traced float32 scalars: `noise`, each regulariser's weight under its name, and
  any other setting a regulariser or the augmentation reads)."""
  objective: objectives.Objective = struct.field(pytree_node=False, default=objectives.MSE)
  corruption: Callable = struct.field(pytree_node=False, default=corruptions.identity)
  regularisers: tuple = struct.field(pytree_node=False, default=())
  augmentation: Callable = struct.field(pytree_node=False, default=augmentations.identity)
  hparams: dict = struct.field(default_factory=dict)

  @property
  def noise(self):
    """The corruption level (traced)."""
    return self.hparams["noise"]

  def loss_fn(self, params, batch, key):
    """(loss, metrics) of `params` on a batch: the variant's loss, aejax.objectives.loss,
    on the batch as the augmentation transforms it (with a key folded from `key`)."""
    batch = self.augmentation(jax.random.fold_in(key, 3), batch, self.hparams)
    return objectives.loss(self.apply_fn, self.objective, self.corruption, self.regularisers,
                           self.hparams, params, batch, key)


@dataclasses.dataclass(frozen=True)
class ModuleApply:
  """`module.apply` that compares by the module's value, not identity, so that
  equal models share compiled steps."""
  module: Any

  def __call__(self, variables, *args, **kwargs):
    return self.module.apply(variables, *args, **kwargs)


@functools.partial(jax.jit, static_argnums=(0, 2))
def init_params(model, key, image_shape):
  """The parameters of `model` initialised on one input of `image_shape` (H, W, C);
  one program per equal model."""
  return model.init(key, jnp.zeros((1, *image_shape), jnp.float32))["params"]


def create_train_state(model: nn.Module, key: PRNGKey, tx: optax.GradientTransformation, *,
                       objective="mse", corruption="none", noise: float = 0.0, regularisers=None,
                       hparams=None, augmentation="none", image_shape=None) -> "TrainState":
  """Initialises `model` (a Flax module with `encode` and `decode`; aejax.models)
  on one input of `image_shape` (H, W, C; default: the model's `image_shape`).

  objective: a name in aejax.objectives.OBJECTIVES or an Objective; corruption: a
  name in aejax.data.corruptions.CORRUPTIONS or a function (key, pixels, level) ->
  pixels, at level `noise`; regularisers: {name: (fn, weight)}, fn: Forward ->
  scalar; hparams: {name: value} other traced settings the regularisers and the
  augmentation read; augmentation: a name in aejax.data.augmentations.AUGMENTATIONS or
  a function (key, pixels, hparams) -> pixels.
  """
  params = init_params(model, key, tuple(image_shape or model.image_shape))
  regularisers = dict(regularisers or {})
  values = {"noise": noise, **{name: w for name, (_, w) in regularisers.items()}, **(hparams or {})}
  return TrainState.create(
      apply_fn=ModuleApply(model), params=params, tx=tx,
      objective=objectives.OBJECTIVES[objective] if isinstance(objective, str) else objective,
      corruption=corruptions.CORRUPTIONS[corruption] if isinstance(corruption, str) else corruption,
      regularisers=tuple((name, fn) for name, (fn, _) in regularisers.items()),
      augmentation=(augmentations.AUGMENTATIONS[augmentation] if isinstance(augmentation, str)
                    else augmentation),
      hparams={k: jnp.array(v, jnp.float32) for k, v in values.items()})


def as_pixels(images: Images) -> ImagePixels:
  """uint8 images in 0..255 or floats in [0, 1] -> float32 pixels in [0, 1]."""
  if images.dtype == jnp.uint8:
    return images.astype(jnp.float32) / 255.0
  return images.astype(jnp.float32)


def batch_of(images, idx):
  """Pixels in [0, 1] of images[idx]: [B, H, W, C] for indices [B], gathered and
  converted as rows of pixel values, then shaped. (On XLA's CPU backend, elementwise
  work on [B, H, W, 1] arrays, a minor dimension of 1, is markedly slower: with it
  in the gather, the model's output and the losses, the reference AE's fused epoch
  took 1.57 times as long as on [B, 784] rows.)"""
  rows = as_pixels(images.reshape(images.shape[0], -1)[idx])
  return rows.reshape(idx.shape[0], *images.shape[1:])


def check_batch(state, batch):
  """Raises a ValueError naming the problem unless `batch` is float pixels of the
  model's image shape, [B, H, W, C]."""
  expected = getattr(getattr(state.apply_fn, "module", None), "image_shape", None)
  if not jnp.issubdtype(batch.dtype, jnp.floating):
    raise ValueError(f"a batch of {batch.dtype} values: the step takes float pixels in [0, 1]; "
                     "convert uint8 images 0..255 with aejax.train.as_pixels")
  if expected is not None and tuple(batch.shape[1:]) != tuple(expected):
    raise ValueError(f"a batch of shape {tuple(batch.shape)}: the model takes [B, "
                     f"{', '.join(map(str, expected))}] (its image_shape)")


def train_step(state: "TrainState", batch: Pixels, key: PRNGKey) -> tuple["TrainState", Metrics]:
  """One optimizer step on the state's loss (`state.loss_fn`), for the DAE
  E_q L(x, g(h(x~))) plus the variant's weighted regularisers.

  batch: [B, H, W, C] clean float pixels in [0, 1] (ValueError otherwise: uint8
  images go through `as_pixels`); key: the noise key of this step.
  Returns the new state and scalar metrics: `loss` (the whole loss), `mse`
  (per-pixel MSE of the reconstruction against the clean batch, [0, 1] units),
  each regulariser's value and `reconstruction` if there are regularisers,
  `grad_norm` and `param_norm` (global L2 norms).
  """
  check_batch(state, batch)
  grads, metrics = jax.grad(state.loss_fn, has_aux=True)(state.params, batch, key)
  metrics.update(grad_norm=optax.global_norm(grads), param_norm=optax.global_norm(state.params))
  return state.apply_gradients(grads=grads), metrics


def eval_step(state: "TrainState", batch: Pixels, key: PRNGKey) -> dict[str, PerExample]:
  """Per-example test measurements, each of shape [B].

  `loss`: the reconstruction term of the loss, without the regularisers (from the
  corrupted input for a DAE; decoded from the mean code of a Gaussian encoder);
  `mse`: per-pixel MSE, [0, 1] units, of the reconstruction of the clean input;
  `noisy_input_mse`: the corrupted input against the clean one;
  `denoised_mse`: the reconstruction of the corrupted input against the clean one.
  """
  obj = state.objective
  apply = lambda x: state.apply_fn({"params": state.params}, obj.to_model(x))
  clean_out = apply(batch)
  clean_mse = units.per_pixel_mse(obj.to_pixels(clean_out), batch)
  if state.corruption is corruptions.identity:
    return {"loss": obj.per_example(clean_out, batch), "mse": clean_mse,
            "noisy_input_mse": jnp.zeros_like(clean_mse), "denoised_mse": clean_mse}
  noisy = state.corruption(key, batch, state.noise)
  noisy_out = apply(noisy)
  return {"loss": obj.per_example(noisy_out, batch), "mse": clean_mse,
          "noisy_input_mse": units.per_pixel_mse(noisy, batch),
          "denoised_mse": units.per_pixel_mse(obj.to_pixels(noisy_out), batch)}


@functools.partial(jax.jit, static_argnames=("batch_size", "batch_sharding"),
                   donate_argnames=("state",))
def train_epoch(state: "TrainState", images: Images, key: PRNGKey, epoch: Epoch, *,
                batch_size: int, batch_sharding=None) -> tuple["TrainState", Metrics]:
  """A whole epoch as one program: shuffle on device, `lax.scan` over the batches.

  images: [N, H, W, C] training images (uint8 0..255 or float [0, 1]) on device; the
  last N mod batch_size examples of each shuffle are dropped. key: the run key;
  epoch: int, traced (no recompilation between epochs). The step's noise key is
  `fold_in(noise_key, state.step)`. Returns the state and the mean of each
  metric, plus `finite`: whether the parameters and the metrics are all finite.
  """
  # Both keys are folded with counters (epoch, step), never carried: a resumed
  # run draws exactly what an unbroken one would.
  shuffle_key, noise_key = jax.random.split(key)
  n_steps = images.shape[0] // batch_size
  order = jax.random.permutation(jax.random.fold_in(shuffle_key, epoch), images.shape[0])
  order = order[: n_steps * batch_size].reshape(n_steps, batch_size)

  def body(state, idx):
    batch = batch_of(images, idx)
    if batch_sharding is not None:
      batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
    return train_step(state, batch, jax.random.fold_in(noise_key, state.step))

  state, metrics = jax.lax.scan(body, state, order)
  metrics = jax.tree.map(jnp.mean, metrics)
  metrics["finite"] = jnp.all(jnp.array(
      [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves((state.params, metrics))]))
  return state, metrics


def model_program(fn=None, **jit_kwargs):
  """`jax.jit` of fn(state, ...) that sees only the model's part of the state
  (no regularisers, augmentation, optimizer or weights): variants of one model, whose losses
  differ, share its evaluation and analysis programs."""
  if fn is None:
    return functools.partial(model_program, **jit_kwargs)
  compiled = jax.jit(fn, **jit_kwargs)

  @functools.wraps(fn)
  def call(state, *args, **kwargs):
    return compiled(state.replace(regularisers=(), augmentation=augmentations.identity,
                                  hparams={"noise": state.noise}, tx=None, opt_state=None),
                    *args, **kwargs)
  return call


@model_program(static_argnames=("batch_size",))
def evaluate(state: "TrainState", images: Images, key: PRNGKey, *, batch_size: int = 1000) -> Metrics:
  """Means of `eval_step`'s measurements over all of `images` ([N, H, W, C], uint8
  or pixels in [0, 1]), in chunks of `batch_size` (chunks.mean_in_chunks); the same
  key gives the same corruptions."""
  return chunks.mean_in_chunks(lambda x, k: eval_step(state, as_pixels(x), k), images, batch_size, key)


@model_program
def encode(state: "TrainState", images: Images) -> Codes:
  """[N, H, W, C] images (uint8 or pixels in [0, 1]) -> [N, latent_dim] codes."""
  inputs = state.objective.to_model(as_pixels(images))
  return state.apply_fn({"params": state.params}, inputs, method="encode")


@model_program
def decode(state: "TrainState", codes: Codes) -> ImagePixels:
  """[N, latent_dim] codes -> [N, H, W, C] decoded pixels in [0, 1]."""
  outputs = state.apply_fn({"params": state.params}, codes, method="decode")
  return state.objective.to_pixels(outputs)


@model_program
def reconstruct(state: "TrainState", pixels: Images) -> ImagePixels:
  """[N, H, W, C] pixels in [0, 1] (possibly corrupted) -> the same of their reconstructions."""
  obj = state.objective
  return obj.to_pixels(state.apply_fn({"params": state.params}, obj.to_model(pixels)))


@functools.partial(jax.jit, static_argnames=("n", "batch_size"))
def shuffled_batches(key, epoch, *, n, batch_size):
  """The batches of an epoch as `train_epoch` draws them: ([n // batch_size,
  batch_size] indices into the n training images, the noise key of the run key)."""
  shuffle_key, noise_key = jax.random.split(key)
  n_steps = n // batch_size
  order = jax.random.permutation(jax.random.fold_in(shuffle_key, epoch), n)
  return order[: n_steps * batch_size].reshape(n_steps, batch_size), noise_key


@functools.partial(jax.jit, static_argnames=("batch_sharding",), donate_argnames=("state",))
def _indexed_train_step(state, images, idx, noise_key, batch_sharding=None):
  """`train_epoch`'s scanned step on its own: the batch `images[idx]`, the noise key
  folded with the step."""
  batch = batch_of(images, idx)
  if batch_sharding is not None:
    batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
  return train_step(state, batch, jax.random.fold_in(noise_key, state.step))


@jax.jit
def _epoch_metrics(params, step_metrics):
  """`train_epoch`'s summary of a list of per-step metrics: their means and `finite`."""
  metrics = jax.tree.map(lambda *values: jnp.mean(jnp.stack(values)), *step_metrics)
  metrics["finite"] = jnp.all(jnp.array(
      [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves((params, metrics))]))
  return metrics


def train_epoch_stepwise(state, images, key, epoch, *, batch_size, batch_sharding=None):
  """`train_epoch` driven from Python: one compiled step per batch, on the same
  batches with the same noise keys, so the same result (to float rounding). For
  models whose `lax.conv` XLA's CPU backend runs several times slower inside the
  fused epoch's `lax.scan` than in a step compiled alone."""
  order, noise_key = shuffled_batches(key, epoch, n=images.shape[0], batch_size=batch_size)
  step_metrics = []
  for idx in order:
    state, metrics = _indexed_train_step(state, images, idx, noise_key, batch_sharding)
    step_metrics.append(metrics)
  return state, _epoch_metrics(state.params, step_metrics)


def _calls(jaxpr, primitive):
  """Whether `jaxpr` or one nested in it applies the primitive named `primitive`."""
  return (any(eqn.primitive.name == primitive for eqn in jaxpr.eqns)
          or any(_calls(sub, primitive) for sub in jax.extend.core.subjaxprs(jaxpr)))


@functools.lru_cache(maxsize=None)
def _convolves(apply_fn, treedef, leaf_types, image_shape):
  params = treedef.unflatten([jax.ShapeDtypeStruct(s, d) for s, d in leaf_types])
  forward = jax.make_jaxpr(lambda p, x: apply_fn({"params": p}, x))
  return _calls(forward(params, jax.ShapeDtypeStruct((1, *image_shape), jnp.float32)).jaxpr,
                "conv_general_dilated")


def uses_lax_conv(apply_fn, params, image_shape):
  """Whether `apply_fn({"params": params}, x)` on [B, *image_shape] inputs applies
  `lax.conv` (Flax's `nn.Conv` and `nn.ConvTranspose` do, `models.ConvAutoEncoder`
  does not); `params` may be arrays or `jax.ShapeDtypeStruct`s."""
  leaves, treedef = jax.tree.flatten(params)
  return _convolves(apply_fn, treedef, tuple((x.shape, x.dtype) for x in leaves), tuple(image_shape))


def run_epoch(state, images, key, epoch, *, batch_size, batch_sharding=None, loop="auto"):
  """One epoch by `train_epoch` ("fused") or `train_epoch_stepwise` ("stepwise"),
  which give the same result; "auto" takes the stepwise loop for models that
  apply `lax.conv` on the CPU backend, the fused epoch otherwise."""
  if loop == "auto":
    convolves = uses_lax_conv(state.apply_fn, state.params, images.shape[1:])
    loop = "stepwise" if jax.default_backend() == "cpu" and convolves else "fused"
  epoch_fn = {"fused": train_epoch, "stepwise": train_epoch_stepwise}[loop]
  return epoch_fn(state, images, key, epoch, batch_size=batch_size, batch_sharding=batch_sharding)
