"""The convolutional autoencoder, its convolutions as matrix products, and the stepwise epoch."""
import functools

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax import models, optim, train
from aejax.models.conv import StridedConv, strided_conv, strided_conv_transpose

SMALL = dict(widths=(16,), channels=(4, 8))
MNIST = (28, 28, 1)


def random_params(model, x, scale=None):
  """Parameters of `model` drawn by NumPy (no initialiser to compile): N(0, 1/4),
  or with `scale` N(0, 1 / fan-in) kernels and N(0, scale^2) biases."""
  rng = np.random.default_rng(0)
  def draw(s):
    std = 0.5 if scale is None else scale if len(s.shape) == 1 else 1 / np.sqrt(np.prod(s.shape[:-1]))
    return (std * rng.standard_normal(s.shape)).astype(np.float32)
  return jax.tree.map(draw, jax.eval_shape(model.init, jax.random.key(0), x))


def relative_errors(tree, expected):
  """||a - b|| / ||b|| per leaf (NumPy: no small programs to compile)."""
  return jax.tree.map(lambda a, b: float(np.linalg.norm(np.subtract(a, b)) / np.linalg.norm(b)),
                      tree, expected)


def global_norm(tree):
  return float(np.sqrt(sum(np.sum(np.square(leaf, dtype=np.float64)) for leaf in jax.tree.leaves(tree))))


def test_strided_conv_equals_flax_conv_and_conv_transpose_with_gradients():
  # (kernel, stride, in and out channels): odd and even kernels, one or many channels, kernels
  # smaller than and equal to the stride, strides 3 and 1; a non-square image.
  cases = [(3, 2, 1, 8), (3, 2, 16, 1), (4, 2, 6, 5), (1, 2, 3, 2), (2, 2, 3, 2), (3, 3, 2, 3), (3, 1, 2, 3)]
  layers, args = [], []
  for k, s, c, o in cases:
    x = np.random.default_rng(c).standard_normal((2, 12, 9, c), np.float32)
    for transpose, flax_layer in ((False, nn.Conv(o, (k, k), strides=s, padding="SAME")),
                                  (True, nn.ConvTranspose(o, (k, k), strides=(s, s), padding="SAME"))):
      ours = (StridedConv(o, k, s, transpose), StridedConv(o, k, s, transpose, lax_conv=True))
      params = random_params(ours[0], x)  # the bias too
      chex.assert_trees_all_equal_shapes(params, jax.eval_shape(flax_layer.init, jax.random.key(0), x))
      layers.append((ours, flax_layer))
      args.append((params, x))

  def value_and_grads(layer, params, x):
    """The output, and the gradients for the parameters and the input of a loss on it."""
    y = layer.apply(params, x)
    return y, jax.grad(lambda p, x: jnp.sum(jnp.sin(layer.apply(p, x))), argnums=(0, 1))(params, x)

  @jax.jit
  def outputs(args):
    return [([value_and_grads(m, p, x) for m in ours], value_and_grads(flax_layer, p, x))
            for (ours, flax_layer), (p, x) in zip(layers, args)]
  for ours, expected in outputs(args):
    chex.assert_trees_all_close(ours, [expected, expected], atol=1e-4)


def flat_conv_model(p, x):
  """The [B, 784] model that the default conv model generalises: 28x28x1, two stride-2
  convolutions, dense 256, the code, and back."""
  dense = lambda name, h: h @ p[name]["kernel"] + p[name]["bias"]
  conv = lambda name, h, fn: fn(h, p[name]["kernel"], 2) + p[name]["bias"]
  b = x.shape[0]
  h = jax.nn.relu(conv("conv_0", x.reshape(b, 28, 28, 1), strided_conv))
  h = jax.nn.relu(conv("conv_1", h, strided_conv))
  z = dense("code", jax.nn.relu(dense("enc_0", h.reshape(b, -1))))
  h = jax.nn.relu(dense("dec_grid", jax.nn.relu(dense("dec_0", z)))).reshape(b, 7, 7, 64)
  h = jax.nn.relu(conv("deconv_0", h, strided_conv_transpose))
  return z, jnp.tanh(conv("deconv_1", h, strided_conv_transpose).reshape(b, -1))


@functools.cache
def default_conv_run():
  """The default conv model on 5 MNIST images, computed by one program that the two
  tests below share: (its parameters, and of the images its code, its output, the
  decoded code, the hidden activations sown, the flat model's code and output, and a
  small bfloat16 conv model's code and logits)."""
  model = models.ConvAutoEncoder()
  bf16_logits = models.ConvAutoEncoder(output="logits", dtype=jnp.bfloat16, **SMALL)
  x = np.random.default_rng(3).uniform(-1, 1, (5, *MNIST)).astype(np.float32)
  params, bf16_params = random_params(model, x, scale=0.1), random_params(bf16_logits, x)

  @jax.jit
  def run(params, bf16_params, x):
    both = lambda m, x: (m.encode(x), m(x))
    (z, y), hidden = model.apply(params, x, method=both, mutable="intermediates")
    return (z, y, model.apply(params, z, method="decode"), hidden["intermediates"]["hidden"],
            flat_conv_model(params["params"], x.reshape(len(x), 784)),
            bf16_logits.apply(bf16_params, x, method=both))
  return params, run(params, bf16_params, x)


def test_conv_autoencoder_layers_shapes_and_dtypes():
  params, (z, y, decoded, hidden, _, (bf16_z, logits)) = default_conv_run()
  kernels = {k: v["kernel"].shape for k, v in params["params"].items()}
  assert kernels == {"conv_0": (3, 3, 1, 32), "conv_1": (3, 3, 32, 64), "enc_0": (3136, 256),
                     "code": (256, 3), "dec_0": (3, 256), "dec_grid": (256, 3136),
                     "deconv_0": (3, 3, 64, 32), "deconv_1": (3, 3, 32, 1)}
  chex.assert_shape([z, y], [(5, 3), (5, *MNIST)])
  chex.assert_type([z, y], jnp.float32)
  assert np.all(np.abs(y) <= 1)
  chex.assert_trees_all_close(decoded, y)
  # The encoder's hidden ReLU activations, each [B, units], twice: encode, then __call__.
  assert [h.shape for h in hidden] == [(5, 14 * 14 * 32), (5, 7 * 7 * 64), (5, 256)] * 2
  assert all(np.all(np.asarray(h) >= 0) for h in hidden)
  chex.assert_type([bf16_z, logits], jnp.float32)
  assert np.abs(logits).max() > 1


def test_pads_the_image_at_the_bottom_right_and_crops_the_output_back():
  """A 7x9x2 image and three convolutions: the model equals the one for 8x16x2
  images (the next multiples of 2 ** 3) given the image with zeros below and to
  the right, and its output is the top-left 7x9 of that model's."""
  shape, padded = (7, 9, 2), (8, 16, 2)
  small, big = (models.ConvAutoEncoder(image_shape=s, widths=(8,), channels=(3, 4, 5))
                for s in (shape, padded))
  x = np.random.default_rng(2).uniform(-1, 1, (3, *shape)).astype(np.float32)
  x_padded = np.pad(x, ((0, 0), (0, 1), (0, 7), (0, 0)))
  params = random_params(small, x, scale=0.1)
  chex.assert_trees_all_equal_shapes(params, jax.eval_shape(big.init, jax.random.key(0), x_padded))

  @jax.jit
  def run(params):
    return [(m.apply(params, x, method="encode"), m.apply(params, x))
            for m, x in ((small, x), (big, x_padded))]
  (z, y), (z_padded, y_padded) = run(params)
  chex.assert_shape(y, (3, *shape))
  chex.assert_trees_all_close((z, y), (z_padded, y_padded[:, :7, :9]), atol=1e-6, rtol=1e-6)
  assert np.abs(y_padded[:, 7:]).max() > 1e-2   # what the crop removes is not zero


def test_strides_set_each_convolution_and_the_padding_follows_their_product():
  """Strides (1, 3) on 10x11 images, as --strides 1,3 builds the model: the encoder
  pads to 12x12 (the multiples of 3), the first convolution keeps that grid and the
  second divides it by 3; the decoder's transposed convolutions, taking the strides
  in reverse, return to the image's shape. The model computes what the same model
  with lax.conv computes from the same parameters."""
  from aejax import config
  from aejax.run import experiment
  shape = (10, 11, 1)
  settings = config.AEConfig.from_flags(architecture="conv", widths="8", channels="3,4", strides="1,3",
                                        image_shape="10x11x1")
  settings.check()
  ours = experiment.make_model(settings)
  lax_model = ours.clone(lax_conv=True)
  x = np.random.default_rng(3).uniform(-1, 1, (2, *shape)).astype(np.float32)
  params = random_params(ours, x, scale=0.1)

  @jax.jit
  def run(params):
    return [m.apply(params, x, mutable="intermediates") for m in (ours, lax_model)]
  (y, hidden), (y_lax, _) = run(params)
  assert [h.shape for h in hidden["intermediates"]["hidden"]] == [(2, 12 * 12 * 3), (2, 4 * 4 * 4), (2, 8)]
  chex.assert_shape(y, (2, *shape))
  chex.assert_trees_all_close(y, y_lax, atol=1e-5)
  with pytest.raises(config.ConfigError, match="--strides must give one stride, or one for each of the 2"):
    config.AEConfig.from_flags(strides="2,2,2").check()


def test_conv_image_shape_must_be_h_w_c_and_channels_and_strides_agree():
  for kw, error in ((dict(image_shape=(28, 28)), "image_shape"),
                    (dict(image_shape=(0, 28, 1)), "image_shape"), (dict(channels=()), "channels"),
                    (dict(strides=(2, 2, 2)), "strides"), (dict(strides=(0,)), "strides")):
    model = models.ConvAutoEncoder(**kw)
    with pytest.raises(ValueError, match=error):
      jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, *model.image_shape)))


def test_mnist_conv_keeps_the_flat_models_parameters_and_outputs_bit_for_bit():
  """On [B, 28, 28, 1] images the default conv model has the parameters of the
  [B, 784] model it generalises (old checkpoints load; the names and shapes are
  in test_conv_autoencoder_layers_shapes_and_dtypes) and computes its outputs
  exactly: that model written out with the same parameters and convolutions
  (`flat_conv_model`)."""
  _, (z, y, _, _, (flat_z, flat_y), _) = default_conv_run()
  chex.assert_shape(y, (5, *MNIST))
  chex.assert_trees_all_equal((z, y.reshape(5, 784)), (flat_z, flat_y))


def test_gradients_on_a_colour_image_equal_lax_conv_and_hold_in_bfloat16():
  """On 24x40x3 images the parameters' gradients equal the lax.conv model's to
  float rounding. In bfloat16 (the written-out transposed-convolution gradient,
  `_conv_transpose_bwd`, in bfloat16) they are finite and float32, each within
  bfloat16's rounding of the bfloat16 lax.conv model's (lax.conv_transpose
  differentiated by JAX), and the whole within 0.15 of float32's: both bfloat16
  models differ from float32 by 6 to 10 % in norm on such data. (One convolution
  and one transposed convolution, whose input gradient carries that of every
  dense layer: with two of each, the four programs compile twice as long.)"""
  shape = (24, 40, 3)
  kw = dict(image_shape=shape, widths=(16,), channels=(4,))
  f32 = [models.ConvAutoEncoder(lax_conv=lax_conv, **kw) for lax_conv in (False, True)]
  bf16 = [models.ConvAutoEncoder(dtype=jnp.bfloat16, lax_conv=lax_conv, **kw) for lax_conv in (False, True)]
  rng = np.random.default_rng(4)
  x, target = (rng.uniform(-1, 1, (4, *shape)).astype(np.float32) for _ in range(2))
  params = random_params(f32[0], x, scale=0.1)

  @jax.jit
  def grads(params):
    loss = lambda model: lambda p: jnp.mean((model.apply(p, x) - target) ** 2)
    return [jax.grad(loss(m))(params) for m in f32 + bf16]
  g, g_lax, g_bf16, g_bf16_lax = grads(params)
  g, g_lax, g_bf16, g_bf16_lax = jax.tree.map(np.asarray, (g, g_lax, g_bf16, g_bf16_lax))
  assert all(np.linalg.norm(leaf) > 0 for leaf in jax.tree.leaves(g_lax))
  assert max(jax.tree.leaves(relative_errors(g, g_lax))) < 1e-5
  assert all(leaf.dtype == np.float32 and np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(g_bf16))
  assert max(jax.tree.leaves(relative_errors(g_bf16, g_bf16_lax))) < 5e-2
  assert global_norm(jax.tree.map(np.subtract, g_bf16, g)) / global_norm(g) < 0.15


def test_stepwise_epoch_equals_the_fused_epoch_and_is_chosen_for_lax_conv():
  # 200 uint8 images: 6 batches, 8 left over (any values: the two loops see the same).
  images = jnp.asarray(np.random.default_rng(5).integers(0, 256, (200, *MNIST), np.uint8))
  key = jax.random.key(3)
  # The equality of the two loops holds for any model; a small MLP keeps the compilations short
  # (tests/test_train.py's: its fused epoch on these images is the same program).
  mlp = models.AutoEncoder(widths=(16,), latent_dim=16)
  states = [train.create_train_state(mlp, jax.random.key(0), optim.make_optimizer(),
                                     corruption="gaussian", noise=0.3) for _ in range(2)]
  fused = train.run_epoch(states[0], images, key, 4, batch_size=32, loop="fused")
  stepwise = train.run_epoch(states[1], images, key, 4, batch_size=32, loop="stepwise")
  assert int(fused[0].step) == int(stepwise[0].step) == 6
  chex.assert_trees_all_close(*jax.tree.map(np.asarray, (stepwise, fused)), atol=1e-6, rtol=0)
  assert bool(stepwise[1]["finite"])

  x = jnp.zeros((1, *MNIST))
  for model, convolves in ((mlp, False), (models.ConvAutoEncoder(**SMALL), False),
                           (models.ConvAutoEncoder(lax_conv=True, **SMALL), True)):
    params = jax.eval_shape(model.init, jax.random.key(0), x)["params"]
    assert train.uses_lax_conv(train.ModuleApply(model), params, MNIST) == convolves
