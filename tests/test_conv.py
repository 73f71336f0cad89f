"""The convolutional autoencoder, its convolutions as matrix products, and the stepwise epoch."""
import functools

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax import data, models, train
from aejax.models.conv import StridedConv

SMALL = dict(widths=(16,), channels=(4, 8))


def random_params(model, x):
  """Parameters of `model` drawn from N(0, 1/4) by NumPy: no initialiser to compile."""
  rng = np.random.default_rng(0)
  return jax.tree.map(lambda s: 0.5 * rng.standard_normal(s.shape, np.float32),
                      jax.eval_shape(model.init, jax.random.key(0), x))


def test_strided_conv_equals_flax_conv_and_conv_transpose_with_gradients():
  # (kernel, stride, in and out channels): odd and even kernels, one or many channels, kernels
  # smaller than and equal to the stride, stride 3; a non-square image.
  cases = [(3, 2, 1, 8), (3, 2, 16, 1), (4, 2, 6, 5), (1, 2, 3, 2), (2, 2, 3, 2), (3, 3, 2, 3)]
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


def test_conv_autoencoder_layers_shapes_and_dtypes():
  model = models.ARCHITECTURES["conv"]()
  x = np.random.default_rng(1).uniform(-1, 1, (5, 784)).astype(np.float32)
  params = random_params(model, x)
  kernels = {k: v["kernel"].shape for k, v in params["params"].items()}
  assert kernels == {"conv_0": (3, 3, 1, 32), "conv_1": (3, 3, 32, 64), "enc_0": (3136, 256),
                     "code": (256, 3), "dec_0": (3, 256), "dec_grid": (256, 3136),
                     "deconv_0": (3, 3, 64, 32), "deconv_1": (3, 3, 32, 1)}

  @functools.partial(jax.jit, static_argnums=0)
  def run(model, params, x):
    (z, y), hidden = model.apply(params, x, method=lambda m, x: (m.encode(x), m(x)),
                                 mutable="intermediates")
    return z, y, model.apply(params, z, method="decode"), hidden["intermediates"]["hidden"]
  z, y, decoded, hidden = run(model, params, x)
  chex.assert_shape([z, y], [(5, 3), (5, 784)])
  chex.assert_type([z, y], jnp.float32)
  assert jnp.all(jnp.abs(y) <= 1)
  chex.assert_trees_all_close(decoded, y)
  # The encoder's hidden ReLU activations, each [B, units], twice: encode, then __call__.
  assert [h.shape for h in hidden] == [(5, 14 * 14 * 32), (5, 7 * 7 * 64), (5, 256)] * 2
  assert all(jnp.all(h >= 0) for h in hidden)

  bf16_logits = models.ConvAutoEncoder(output="logits", dtype=jnp.bfloat16, **SMALL)
  z, logits, _, _ = run(bf16_logits, random_params(bf16_logits, x), x)
  chex.assert_type([z, logits], jnp.float32)
  assert jnp.abs(logits).max() > 1


def test_image_side_must_halve_with_every_convolution():
  with pytest.raises(ValueError, match="2 \\*\\* 3"):
    jax.eval_shape(models.ConvAutoEncoder(channels=(4, 8, 16)).init, jax.random.key(0),
                   jnp.zeros((1, 784)))


def test_stepwise_epoch_equals_the_fused_epoch_and_is_chosen_for_lax_conv():
  images = jax.device_put(data.load_embedded().train_images[:200])  # 6 batches, 8 left over
  key = jax.random.key(3)
  # The equality of the two loops holds for any model; a small MLP keeps the compilations short.
  mlp = models.AutoEncoder(widths=(16,))
  states = [train.create_train_state(mlp, jax.random.key(0), train.make_optimizer(),
                                     corruption="gaussian", noise=0.3) for _ in range(2)]
  fused = train.run_epoch(states[0], images, key, 4, batch_size=32, loop="fused")
  stepwise = train.run_epoch(states[1], images, key, 4, batch_size=32, loop="stepwise")
  assert int(fused[0].step) == int(stepwise[0].step) == 6
  chex.assert_trees_all_close(stepwise, fused, atol=1e-6, rtol=0)
  assert bool(stepwise[1]["finite"])

  x = jnp.zeros((1, 784))
  for model, convolves in ((mlp, False), (models.ConvAutoEncoder(**SMALL), False),
                           (models.ConvAutoEncoder(lax_conv=True, **SMALL), True)):
    params = jax.eval_shape(model.init, jax.random.key(0), x)["params"]
    assert train.uses_lax_conv(train.ModuleApply(model), params, 784) == convolves
