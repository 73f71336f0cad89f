"""Each loss term against an independent computation, and their composition."""
import dataclasses

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from aejax import config, models, objectives, stacked, train
from aejax.objectives import contractive, sparse, variational
from aejax.run import cli, experiment

KEY = jax.random.key(0)


def forward(**fields):
  defaults = dict(pixels=None, corrupted=None, code=None, outputs=None, sown={}, encoder=None,
                  key=KEY, hparams={})
  return objectives.Forward(**{**defaults, **fields})


def test_code_l1_and_kl_sparsity_by_hand():
  code = jnp.array([[1.0, -2.0], [0.5, 0.0]])
  chex.assert_trees_all_close(sparse.code_l1(forward(code=code)), (3.0 + 0.5) / 2)
  # Two layers, one of them a [B, 1, 2] feature map: every element is a unit.
  a = np.array([[0.1, 0.9], [0.3, 0.5]], np.float32)
  b = np.array([[[0.2, 0.4]], [[0.0, 0.6]]], np.float32)
  rho = 0.2
  kl = lambda q: rho * np.log(rho / q) + (1 - rho) * np.log((1 - rho) / (1 - q))
  expected = kl(0.2) + kl(0.7) + kl(0.1) + kl(0.5)
  sown = {"enc": {"hidden": (jnp.asarray(a),)}, "deeper": {"hidden": (jnp.asarray(b),)}}
  fwd = forward(sown=sown, hparams={"rho": jnp.float32(rho)})
  assert len(fwd.hidden) == 2
  chex.assert_trees_all_close(sparse.kl_sparsity(fwd), np.float32(expected), rtol=1e-5)
  assert abs(expected - kl(0.2) - kl(0.7)) > 0.1   # the second layer counts
  saturated = forward(sown={"hidden": (jnp.ones((3, 2)),)}, hparams={"rho": jnp.float32(0.05)})
  chex.assert_tree_all_finite(jax.grad(lambda h: sparse.kl_sparsity(
      forward(sown={"hidden": (h,)}, hparams=saturated.hparams)))(jnp.ones((3, 2))))


class SigmoidLayer(nn.Module):
  width: int = 3

  @nn.compact
  def __call__(self, x):
    return nn.sigmoid(nn.Dense(self.width)(x))


def test_contraction_matches_the_sigmoid_closed_form_and_finite_differences():
  x = jax.random.uniform(jax.random.key(1), (4, 10))
  layer = SigmoidLayer()
  model = models.AutoEncoder(widths=(16, 8), latent_dim=2, image_shape=(10,), activation="sigmoid")
  eps = 1e-3

  @jax.jit
  def measure(x):
    params = layer.init(KEY, x)
    encoder = lambda p: layer.apply(params, p)
    h, w = encoder(x), params["params"]["Dense_0"]["kernel"]           # [4, 3], [10, 3]
    closed = jnp.sum(jnp.square(h * (1 - h)) * jnp.sum(jnp.square(w), axis=0), axis=1)
    contraction = contractive.contraction(forward(corrupted=x, encoder=encoder))
    # A deeper smooth encoder against central differences.
    mlp = model.init(KEY, jnp.zeros((1, 10)))
    enc = lambda p: model.apply(mlp, p, method="encode")
    steps = eps * jnp.eye(10)[None]                                    # [1, 10 directions, 10]
    moved = lambda sign: enc((x[:, None] + sign * steps).reshape(40, 10)).reshape(4, 10, 2)
    fd = jnp.sum(jnp.square((moved(1) - moved(-1)) / (2 * eps)), axis=(1, 2))
    return (contractive.jacobian_sq_norms(encoder, x), closed, contraction,
            contractive.jacobian_sq_norms(enc, x), fd)

  norms, closed, contraction, deep, fd = measure(x)
  chex.assert_shape(norms, (4,))
  chex.assert_trees_all_close(norms, closed, rtol=1e-5)
  chex.assert_trees_all_close(contraction, jnp.mean(closed), rtol=1e-5)
  chex.assert_trees_all_close(deep, fd, rtol=2e-3)
  assert np.all(fd > 1e-4)


def test_gaussian_kl_against_a_monte_carlo_estimate():
  mean = jnp.array([[0.5, -1.0, 0.0], [2.0, 0.3, -0.2]])
  log_var = jnp.array([[0.0, -1.0, 0.7], [-2.0, 0.4, 0.1]])
  exact = variational.gaussian_kl(mean, log_var)
  n = 400_000
  eps = jax.random.normal(jax.random.key(3), (n, 2, 3))
  std = jnp.exp(0.5 * log_var)
  z = mean + std * eps
  log_q = jnp.sum(-0.5 * eps ** 2 - jnp.log(std) - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
  log_p = jnp.sum(-0.5 * z ** 2 - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
  samples = log_q - log_p
  estimate, error = jnp.mean(samples, 0), jnp.std(samples, 0) / np.sqrt(n)
  assert np.all(np.abs(np.asarray(estimate - exact)) < 4 * np.asarray(error)), (estimate, exact, error)
  chex.assert_trees_all_close(variational.gaussian_kl(jnp.zeros((1, 3)), jnp.zeros((1, 3))), jnp.zeros(1))
  fwd = forward(pixels=jnp.zeros((2, 28, 28, 1)), sown={"mean": (mean,), "log_var": (log_var,)})
  chex.assert_trees_all_close(variational.kl(fwd), jnp.mean(exact) / 784, rtol=1e-6)


def code_norm(fwd):
  """The README's example regulariser: mean squared L2 norm of the code."""
  return jnp.mean(jnp.sum(jnp.square(fwd.code), axis=-1))


def test_loss_is_the_reconstruction_plus_weighted_regularisers():
  model = models.AutoEncoder(widths=(16,), latent_dim=4)
  state = train.create_train_state(model, KEY, optax.adam(1e-3), corruption="masking", noise=0.3,
                                   regularisers={"code_norm": (code_norm, 0.25)})
  batch = jax.random.uniform(jax.random.key(5), (8, 28, 28, 1))
  key = jax.random.key(6)

  @jax.jit
  def measure(state):
    corrupted = jax.random.bernoulli(key, 0.3, batch.shape)
    inputs = 2 * jnp.where(corrupted, 0.0, batch) - 1
    code = model.apply({"params": state.params}, inputs, method="encode")
    out = model.apply({"params": state.params}, code, method="decode")
    heavier = state.replace(hparams={**state.hparams, "code_norm": jnp.float32(4.0)})
    return (state.loss_fn(state.params, batch, key), heavier.loss_fn(state.params, batch, key)[0],
            jnp.mean((out - (2 * batch - 1)) ** 2), jnp.mean(jnp.sum(code ** 2, -1)))

  (loss, metrics), heavier, reconstruction, penalty = measure(state)
  chex.assert_trees_all_close(metrics["reconstruction"], reconstruction, rtol=1e-5)
  chex.assert_trees_all_close(metrics["code_norm"], penalty, rtol=1e-5)
  chex.assert_trees_all_close(loss, reconstruction + 0.25 * penalty, rtol=1e-5)
  chex.assert_trees_all_close(heavier, reconstruction + 4.0 * penalty, rtol=1e-5)
  assert float(penalty) > 0.01


def test_negative_elbo_by_hand():
  model = models.Gaussian(models.AutoEncoder(widths=(16,), latent_dim=4, output="logits"))
  state = train.create_train_state(model, KEY, optax.adam(1e-3), objective="bce")
  x = jax.random.uniform(jax.random.key(2), (5, 28, 28, 1))
  key = jax.random.key(4)

  @jax.jit
  def by_hand(params):
    stats = model.base.apply({"params": params["base"]}, x, method="encode")
    mean, log_var = stats[:, :2], stats[:, 2:]
    z, _ = model.apply({"params": params}, x, method="encode",
                       rngs={"sample": jax.random.split(key, 1)[0]}, mutable="intermediates")
    p = jax.nn.sigmoid(model.apply({"params": params}, z, method="decode"))
    ce = -jnp.sum(x * jnp.log(p) + (1 - x) * jnp.log(1 - p), axis=(1, 2, 3))
    kl = 0.5 * jnp.sum(jnp.exp(log_var) + mean ** 2 - 1 - log_var, axis=-1)
    return jnp.mean(ce + kl), z, mean

  expected, z, mean = by_hand(state.params)
  assert not np.allclose(z, mean)   # a draw, not the mean
  chex.assert_trees_all_close(variational.negative_elbo(state, x, key, batch_size=5), expected, rtol=1e-4)


def test_stacked_network_computes_exactly_the_chain_of_its_stages():
  x = jax.random.uniform(jax.random.key(7), (6, 20))
  for objective in (objectives.MSE, objectives.BCE):
    layers = [stacked.Layer(8, (20,), output=objective.output), stacked.Layer(5, (8,), output=objective.output),
              stacked.Layer(2, (5,), linear=True, output=objective.output)]
    deep = models.AutoEncoder(widths=(8, 5), latent_dim=2, image_shape=(20,), output=objective.output,
                              activation="sigmoid")

    @jax.jit
    def chain_and_deep(x):
      params = [layer.init(jax.random.key(i), jnp.zeros((1, *layer.image_shape)))["params"] for i, layer in enumerate(layers)]
      code = x
      for layer, p in zip(layers, params):
        code = layer.apply({"params": p}, objective.to_model(code), method="encode")
      recon = code
      for layer, p in reversed(list(zip(layers, params))):
        recon = objective.to_pixels(layer.apply({"params": p}, recon, method="decode"))
      whole = {"params": stacked.assemble(params, objective)}
      return (code, recon, deep.apply(whole, objective.to_model(x), method="encode"),
              objective.to_pixels(deep.apply(whole, objective.to_model(x))))

    code, recon, deep_code, deep_recon = chain_and_deep(x)
    chex.assert_trees_all_close(deep_code, code, atol=1e-5)
    chex.assert_trees_all_close(deep_recon, recon, atol=1e-5)
    assert float(jnp.std(code)) > 0.01


@dataclasses.dataclass(frozen=True)
class CodeNormObjective(config.VariantObjective):
  """The README's worked example: one function, one field of an objective..."""
  code_norm: float = config.weight(code_norm, 0.0, "weight of the squared L2 norm of the code")


@dataclasses.dataclass(frozen=True)
class CodeNormConfig(config.VariantConfig):
  """...and the variant's config that holds that objective."""
  objective: CodeNormObjective = config.section(CodeNormObjective)


def test_a_regulariser_is_one_function_and_one_config_field():
  assert "--code-norm" in cli.make_parser(CodeNormConfig).format_help()
  assert config.regularisers(CodeNormConfig()) == {}                    # weight 0: left out
  chosen = CodeNormConfig.from_flags(code_norm=0.5, widths="8", latent_dim=2)
  assert config.regularisers(chosen) == {"code_norm": (code_norm, 0.5)}
  with pytest.raises(config.ConfigError, match="--code-norm must be non-negative"):
    CodeNormConfig.from_flags(code_norm=-1.0).check()
  state, _, _ = experiment.build(chosen)
  assert state.regularisers == (("code_norm", code_norm),)
  chex.assert_trees_all_close(state.hparams["code_norm"], jnp.float32(0.5))


def test_a_contractive_runs_penalty_is_its_encoders_jacobian_in_pixel_units():
  """The penalty of a state built as a run builds it (config, objective, model
  wrapper) against jacfwd of the model's encoder composed with the objective's
  map of pixels to model inputs (2x - 1 under MSE's tanh output, so the
  Jacobian in pixel units is twice the one in model units)."""
  run_config = config.ContractiveConfig.from_flags(widths="16", latent_dim=3, contraction=0.5,
                                                   no_analysis=True)
  state, _, _ = experiment.build(run_config)
  batch = jax.random.uniform(jax.random.key(7), (4, 28, 28, 1))
  module = state.apply_fn.module

  @jax.jit
  def measure(state):
    encode = lambda x: module.apply({"params": state.params}, 2 * x[None] - 1, method="encode")[0]
    by_hand = jax.vmap(lambda x: jnp.sum(jnp.square(jax.jacfwd(encode)(x))))(batch)
    return state.loss_fn(state.params, batch, KEY), jnp.mean(by_hand)

  (loss, metrics), expected = measure(state)
  chex.assert_trees_all_close(metrics["contraction"], expected, rtol=1e-4)
  chex.assert_trees_all_close(loss, metrics["reconstruction"] + 0.5 * expected, rtol=1e-4)
  assert float(expected) > 1e-3
