import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax import models, objectives

MNIST = (28, 28, 1)
IMAGE_SHAPES = [MNIST, (32, 32, 3), (24, 40, 3), (7, 9, 2)]


def test_reference_shapes_and_layers():
  model = models.AutoEncoder()
  assert tuple(model.image_shape) == models.MNIST_SHAPE == MNIST
  x = jnp.zeros((5, *MNIST))
  params = jax.jit(model.init)(jax.random.key(0), x)
  z = model.apply(params, x, method="encode")
  y = model.apply(params, z, method="decode")
  chex.assert_shape(z, (5, 3))
  chex.assert_shape(y, (5, *MNIST))
  chex.assert_trees_all_close(model.apply(params, x), y)
  kernels = {k: v["kernel"].shape for k, v in params["params"].items()}
  assert kernels == {"enc_0": (784, 128), "enc_1": (128, 64), "enc_2": (64, 12), "code": (12, 3),
                     "dec_0": (3, 12), "dec_1": (12, 64), "dec_2": (64, 128), "out": (128, 784)}


def test_tanh_output_is_bounded_and_logits_are_not():
  x = 10 * jax.random.normal(jax.random.key(1), (64, *MNIST))
  tanh = models.AutoEncoder()
  y = tanh.apply(jax.jit(tanh.init)(jax.random.key(0), x), x)
  assert jnp.all(jnp.abs(y) <= 1)
  logits = models.AutoEncoder(output="logits")
  assert jnp.abs(logits.apply(jax.jit(logits.init)(jax.random.key(0), x), x)).max() > 1


def test_widths_and_code_size_are_configurable():
  model = models.AutoEncoder(widths=(32, 16), latent_dim=7)
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, *MNIST)))
  chex.assert_shape(model.apply(params, jnp.zeros((2, *MNIST)), method="encode"), (2, 7))
  assert len(params["params"]) == 6


def test_bfloat16_compute_keeps_float32_params_and_outputs():
  model = models.AutoEncoder(dtype=jnp.bfloat16)
  params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, *MNIST)))
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
  assert model.apply(params, jnp.ones((2, *MNIST))).dtype == jnp.float32


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_every_architecture_keeps_the_contract(name):
  """Every variant relies on it: shapes, float32 codes and outputs, an activation
  choice, and hidden activations sown for the sparsity penalty; on a small
  non-square colour image whose sides the convolutions do not halve."""
  shape = (7, 9, 2)
  x = jax.random.uniform(jax.random.key(0), (3, *shape))

  def run(model, x):
    params = model.init(jax.random.key(0), x)
    z, sown = model.apply(params, x, method="encode", mutable="intermediates")
    return params, z, sown, model.apply(params, z, method="decode")

  for activation in models.ACTIVATIONS:
    model = models.ARCHITECTURES[name](widths=(16, 8), latent_dim=5, image_shape=shape, output="logits",
                                       dtype=jnp.bfloat16, activation=activation)
    # Shapes and dtypes from the traced program; values (one compile) where they are checked.
    run_model = jax.jit(functools.partial(run, model)) if activation == "sigmoid" else (
        functools.partial(jax.eval_shape, functools.partial(run, model)))
    params, z, sown, y = run_model(x)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
    chex.assert_shape(z, (3, 5))
    chex.assert_type(z, jnp.float32)
    chex.assert_shape(y, (3, *shape))
    chex.assert_type(y, jnp.float32)
    hidden = objectives.find(sown["intermediates"], "hidden")
    assert hidden and all(h.ndim == 2 and h.shape[0] == 3 for h in hidden)
    if activation == "sigmoid":
      assert all(0 <= float(h.min()) and float(h.max()) <= 1 for h in hidden)


def test_gaussian_encoder_gives_the_mean_or_a_reparameterised_draw():
  model = models.Gaussian(models.AutoEncoder(widths=(16,), latent_dim=4))
  assert model.latent_dim == 2 and model.image_shape == MNIST and model.output == "tanh"
  x = jax.random.uniform(jax.random.key(1), (2000, *MNIST))

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
  chex.assert_shape(y, (2000, *MNIST))


@pytest.mark.parametrize("shape", IMAGE_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_shapes_of_every_architecture_and_its_gaussian_on_any_image(shape):
  """encode [B, H, W, C] -> [B, d], decode -> [B, H, W, C], for each architecture
  alone and inside a Gaussian encoder (traced shapes: nothing compiles)."""
  x = jax.ShapeDtypeStruct((2, *shape), jnp.float32)

  def run(model, x):
    params = model.init(jax.random.key(0), x)
    z, sown = model.apply(params, x, method="encode", mutable="intermediates")
    return z, model.apply(params, z, method="decode"), model.apply(params, x), sown["intermediates"]

  for name, cls in sorted(models.ARCHITECTURES.items()):
    base = cls(image_shape=shape, widths=(8,), latent_dim=4)
    for model, latent_dim in ((base, 4), (models.Gaussian(base), 2)):
      assert tuple(model.image_shape) == shape
      z, decoded, y, sown = jax.eval_shape(functools.partial(run, model), x)
      assert (z.shape, decoded.shape, y.shape) == ((2, latent_dim), (2, *shape), (2, *shape)), name
      assert z.dtype == decoded.dtype == y.dtype == jnp.float32
      hidden = objectives.find(sown, "hidden")
      assert hidden and all(h.ndim == 2 and h.shape[0] == 2 for h in hidden)


def test_inputs_of_another_shape_are_refused():
  for cls in models.ARCHITECTURES.values():
    for x in (jnp.zeros((2, 784)), jnp.zeros((2, 28, 28, 3)), jnp.zeros((2, 28, 1, 28))):
      with pytest.raises(ValueError, match="expected \\[B, 28, 28, 1\\]"):
        jax.eval_shape(cls().init, jax.random.key(0), x)


def test_mnist_mlp_keeps_the_flat_models_parameters_and_outputs_bit_for_bit():
  """On [B, 28, 28, 1] images the reference MLP has the parameters of the flat
  [B, 784] model (old checkpoints load) and computes its outputs exactly: the
  flat model written out with the same parameters."""
  model = models.AutoEncoder()
  x = np.random.default_rng(0).uniform(-1, 1, (6, *MNIST)).astype(np.float32)
  params = jax.jit(model.init)(jax.random.key(0), x)
  shapes = {name: {k: v.shape for k, v in layer.items()} for name, layer in params["params"].items()}
  dims = (784, 128, 64, 12, 3, 12, 64, 128, 784)
  names = ("enc_0", "enc_1", "enc_2", "code", "dec_0", "dec_1", "dec_2", "out")
  assert shapes == {n: {"kernel": (i, o), "bias": (o,)} for n, i, o in zip(names, dims[:-1], dims[1:])}

  def flat_model(p, x):
    """The [B, 784] model: ReLU hidden layers, linear code, tanh output."""
    dense = lambda name, h: h @ p[name]["kernel"] + p[name]["bias"]
    for name in names[:3]:
      x = jax.nn.relu(dense(name, x))
    z = dense("code", x)
    h = z
    for name in names[4:7]:
      h = jax.nn.relu(dense(name, h))
    return z, jnp.tanh(dense("out", h))

  @jax.jit
  def run(params, x):
    return ((model.apply(params, x, method="encode"), model.apply(params, x)),
            flat_model(params["params"], x.reshape(len(x), 784)))
  (z, y), (flat_z, flat_y) = run(params, x)
  chex.assert_shape(y, (6, *MNIST))
  chex.assert_trees_all_equal((z, y.reshape(6, 784)), (flat_z, flat_y))
