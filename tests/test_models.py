import functools

import chex
import jax
import jax.numpy as jnp
import pytest

from aejax import models, objectives


def test_reference_shapes_and_layers():
  model = models.AutoEncoder()
  x = jnp.zeros((5, 784))
  params = jax.jit(model.init)(jax.random.key(0), x)
  z = model.apply(params, x, method="encode")
  y = model.apply(params, z, method="decode")
  chex.assert_shape(z, (5, 3))
  chex.assert_shape(y, (5, 784))
  chex.assert_trees_all_close(model.apply(params, x), y)
  kernels = {k: v["kernel"].shape for k, v in params["params"].items()}
  assert kernels == {"enc_0": (784, 128), "enc_1": (128, 64), "enc_2": (64, 12), "code": (12, 3),
                     "dec_0": (3, 12), "dec_1": (12, 64), "dec_2": (64, 128), "out": (128, 784)}


def test_tanh_output_is_bounded_and_logits_are_not():
  x = 10 * jax.random.normal(jax.random.key(1), (64, 784))
  tanh = models.AutoEncoder()
  y = tanh.apply(jax.jit(tanh.init)(jax.random.key(0), x), x)
  assert jnp.all(jnp.abs(y) <= 1)
  logits = models.AutoEncoder(output="logits")
  assert jnp.abs(logits.apply(jax.jit(logits.init)(jax.random.key(0), x), x)).max() > 1


def test_widths_and_code_size_are_configurable():
  model = models.AutoEncoder(widths=(32, 16), latent_dim=7)
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 784)))
  chex.assert_shape(model.apply(params, jnp.zeros((2, 784)), method="encode"), (2, 7))
  assert len(params["params"]) == 6


def test_bfloat16_compute_keeps_float32_params_and_outputs():
  model = models.AutoEncoder(dtype=jnp.bfloat16)
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 784)))
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
  assert model.apply(params, jnp.ones((2, 784))).dtype == jnp.float32


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_every_architecture_keeps_the_contract(name):
  """Every variant relies on it: shapes, float32 codes and outputs, an activation
  choice, and hidden activations sown for the sparsity penalty."""
  x = jax.random.uniform(jax.random.key(0), (3, 784))

  def run(model, x):
    params = model.init(jax.random.key(0), x)
    z, sown = model.apply(params, x, method="encode", mutable="intermediates")
    return params, z, sown, model.apply(params, z, method="decode")

  for activation in models.ACTIVATIONS:
    model = models.ARCHITECTURES[name](widths=(16, 8), latent_dim=5, output="logits", dtype=jnp.bfloat16,
                                       activation=activation)
    # Shapes and dtypes from the traced program; values (one compile) where they are checked.
    run_model = jax.jit(functools.partial(run, model)) if activation == "sigmoid" else (
        functools.partial(jax.eval_shape, functools.partial(run, model)))
    params, z, sown, y = run_model(x)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
    chex.assert_shape(z, (3, 5))
    chex.assert_type(z, jnp.float32)
    chex.assert_shape(y, (3, 784))
    chex.assert_type(y, jnp.float32)
    hidden = objectives.find(sown["intermediates"], "hidden")
    assert hidden and all(h.shape[0] == 3 for h in hidden)
    if activation == "sigmoid":
      assert all(0 <= float(h.min()) and float(h.max()) <= 1 for h in hidden)


def test_gaussian_encoder_gives_the_mean_or_a_reparameterised_draw():
  model = models.Gaussian(models.AutoEncoder(widths=(16,), latent_dim=4))
  assert model.latent_dim == 2 and model.n_pixels == 784 and model.output == "tanh"
  x = jax.random.uniform(jax.random.key(1), (2000, 784))

  @jax.jit
  def run(x):
    params = model.init(jax.random.key(0), x[:1])
    stats = model.base.apply({"params": params["params"]["base"]}, x, method="encode")
    z, sown = model.apply(params, x, method="encode", rngs={"sample": jax.random.key(2)},
                          mutable="intermediates")
    return (stats, model.apply(params, x, method="encode"), z, sown["intermediates"],
            model.apply(params, z, method="decode"))

  stats, encoded, z, sown, y = run(x)
  mean, log_var = stats[:, :2], stats[:, 2:]
  chex.assert_trees_all_close(encoded, mean)
  chex.assert_trees_all_close(sown["mean"][0], mean)
  chex.assert_trees_all_close(sown["log_var"][0], log_var)
  eps = (z - mean) / jnp.exp(0.5 * log_var)       # standard normal if the draw is right
  assert abs(float(jnp.mean(eps))) < 0.05 and abs(float(jnp.std(eps)) - 1) < 0.05
  chex.assert_shape(y, (2000, 784))
