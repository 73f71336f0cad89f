import chex
import jax
import jax.numpy as jnp

from aejax import models


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
