import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax import models, objectives

MNIST = (28, 28, 1)
IMAGE_SHAPES = [MNIST, (32, 32, 3), (24, 40, 3), (7, 9, 2)]
NAMES = ("enc_0", "enc_1", "enc_2", "code", "dec_0", "dec_1", "dec_2", "out")   # the reference MLP's layers


def images(n):
  """n MNIST images as traced shapes: what jax.eval_shape needs (nothing compiles)."""
  return jax.ShapeDtypeStruct((n, *MNIST), jnp.float32)


def random_params(model, x, scale=0.1):
  """Parameters of `model` drawn by NumPy (no initialiser to compile: the values
  checked here hold for any): N(0, 1 / fan-in) kernels, N(0, scale^2) biases."""
  rng = np.random.default_rng(0)
  def draw(s):
    std = scale if len(s.shape) == 1 else 1 / np.sqrt(np.prod(s.shape[:-1]))
    return (std * rng.standard_normal(s.shape)).astype(np.float32)
  return jax.tree.map(draw, jax.eval_shape(model.init, jax.random.key(0), x))


def flat_model(p, x):
  """The [B, 784] reference model: ReLU hidden layers, linear code, tanh output."""
  dense = lambda name, h: h @ p[name]["kernel"] + p[name]["bias"]
  for name in NAMES[:3]:
    x = jax.nn.relu(dense(name, x))
  z = dense("code", x)
  h = z
  for name in NAMES[4:7]:
    h = jax.nn.relu(dense(name, h))
  return z, jnp.tanh(dense("out", h))


@functools.cache
def reference_run():
  """The reference MLP on 6 images: (its parameters, its code, output and decoded
  code, the flat model's code and output, and the tanh and logits outputs on the
  images times 10), computed by one program that the tests below share."""
  model, logits = models.AutoEncoder(), models.AutoEncoder(output="logits")
  x = np.random.default_rng(0).uniform(-1, 1, (6, *MNIST)).astype(np.float32)
  params = random_params(model, x)

  @jax.jit
  def run(params, x):
    z = model.apply(params, x, method="encode")
    return (z, model.apply(params, x), model.apply(params, z, method="decode"),
            flat_model(params["params"], x.reshape(len(x), 784)),
            model.apply(params, 10 * x), logits.apply(params, 10 * x))
  return params, run(params, x)


def test_reference_shapes_and_layers():
  model = models.AutoEncoder()
  assert tuple(model.image_shape) == models.MNIST_SHAPE == MNIST
  params = jax.eval_shape(model.init, jax.random.key(0), images(5))
  kernels = {k: v["kernel"].shape for k, v in params["params"].items()}
  assert kernels == {"enc_0": (784, 128), "enc_1": (128, 64), "enc_2": (64, 12), "code": (12, 3),
                     "dec_0": (3, 12), "dec_1": (12, 64), "dec_2": (64, 128), "out": (128, 784)}
  _, (z, y, decoded, _, _, _) = reference_run()
  chex.assert_shape(z, (6, 3))
  chex.assert_shape(y, (6, *MNIST))
  chex.assert_trees_all_close(y, decoded)


def test_tanh_output_is_bounded_and_logits_are_not():
  _, (_, _, _, _, tanh, logits) = reference_run()   # of inputs up to 10
  assert np.all(np.abs(tanh) <= 1)
  assert np.abs(logits).max() > 1


def test_widths_and_code_size_are_configurable():
  model = models.AutoEncoder(widths=(32, 16), latent_dim=7)
  params = jax.eval_shape(model.init, jax.random.key(0), images(1))
  encode = functools.partial(model.apply, method="encode")
  chex.assert_shape(jax.eval_shape(encode, params, images(2)), (2, 7))
  assert len(params["params"]) == 6


def test_bfloat16_compute_keeps_float32_params_and_outputs():
  model = models.AutoEncoder(dtype=jnp.bfloat16)
  params = jax.eval_shape(model.init, jax.random.key(0), images(1))
  assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
  assert jax.eval_shape(model.apply, params, images(2)).dtype == jnp.float32


@pytest.mark.parametrize("name", sorted(models.ARCHITECTURES))
def test_every_architecture_keeps_the_contract(name):
  """Every variant relies on it: shapes, float32 codes and outputs, an activation
  choice, and hidden activations sown for the sparsity penalty; on a small
  non-square colour image whose sides the convolutions do not halve."""
  shape = (7, 9, 2)
  x = np.random.default_rng(0).uniform(0, 1, (3, *shape)).astype(np.float32)

  def run(model, params, x):
    z, sown = model.apply(params, x, method="encode", mutable="intermediates")
    return z, sown, model.apply(params, z, method="decode")

  for activation in models.ACTIVATIONS:
    model = models.ARCHITECTURES[name](widths=(16, 8), latent_dim=5, image_shape=shape, output="logits",
                                       dtype=jnp.bfloat16, activation=activation)
    # Shapes and dtypes from the traced programs; values (one compile, of the model's
    # apply: the values checked hold for any parameters) where they are checked.
    params = jax.eval_shape(model.init, jax.random.key(0), x)
    assert all(p.dtype == jnp.float32 for p in jax.tree.leaves(params))
    if activation == "sigmoid":
      z, sown, y = jax.jit(functools.partial(run, model))(random_params(model, x), x)
    else:
      z, sown, y = jax.eval_shape(functools.partial(run, model), params, x)
    chex.assert_shape(z, (3, 5))
    chex.assert_type(z, jnp.float32)
    chex.assert_shape(y, (3, *shape))
    chex.assert_type(y, jnp.float32)
    hidden = objectives.find(sown["intermediates"], "hidden")
    assert hidden and all(h.ndim == 2 and h.shape[0] == 3 for h in hidden)
    if activation == "sigmoid":
      assert all(0 <= np.min(np.asarray(h)) and np.max(np.asarray(h)) <= 1 for h in hidden)


def test_gaussian_encoder_gives_the_mean_or_a_reparameterised_draw():
  model = models.Gaussian(models.AutoEncoder(widths=(16,), latent_dim=4))
  assert model.latent_dim == 2 and model.image_shape == MNIST and model.output == "tanh"
  x = np.random.default_rng(1).uniform(0, 1, (2000, *MNIST)).astype(np.float32)

  @jax.jit
  def run(params, x):
    stats = model.base.apply({"params": params["params"]["base"]}, x, method="encode")
    z, sown = model.apply(params, x, method="encode", rngs={"sample": jax.random.key(2)},
                          mutable="intermediates")
    return (stats, model.apply(params, x, method="encode"), z, sown["intermediates"],
            model.apply(params, z, method="decode"))

  stats, encoded, z, sown, y = jax.tree.map(np.asarray, run(random_params(model, x[:1]), x))
  mean, log_var = stats[:, :2], stats[:, 2:]
  chex.assert_trees_all_close(encoded, mean)
  chex.assert_trees_all_close(sown["mean"][0], mean)
  chex.assert_trees_all_close(sown["log_var"][0], log_var)
  eps = (z - mean) / np.exp(0.5 * log_var)       # standard normal if the draw is right
  assert abs(float(np.mean(eps))) < 0.05 and abs(float(np.std(eps)) - 1) < 0.05
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
  params, (z, y, _, (flat_z, flat_y), _, _) = reference_run()
  shapes = {name: {k: v.shape for k, v in layer.items()} for name, layer in params["params"].items()}
  dims = (784, 128, 64, 12, 3, 12, 64, 128, 784)
  assert shapes == {n: {"kernel": (i, o), "bias": (o,)} for n, i, o in zip(NAMES, dims[:-1], dims[1:])}
  chex.assert_shape(y, (6, *MNIST))
  chex.assert_trees_all_equal((z, y.reshape(6, 784)), (flat_z, flat_y))
