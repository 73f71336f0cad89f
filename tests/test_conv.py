"""The convolutional autoencoder, its convolutions as matrix products, and the stepwise epoch."""
import functools

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from aejax import config, data, experiment, models, train
from aejax.models.conv import StridedConv

SMALL = dict(widths=(16,), channels=(4, 8))


def test_strided_conv_equals_flax_conv_and_conv_transpose():
  # (kernel, stride, in and out channels): the two ways of the transposed convolution, k > s.
  cases = [(3, 2, 1, 8), (3, 2, 16, 1), (4, 2, 6, 5)]
  layers, args = [], []
  for k, s, c, o in cases:
    x = jax.random.normal(jax.random.key(c), (2, 12, 12, c))
    for transpose, flax_layer in ((False, nn.Conv(o, (k, k), strides=s, padding="SAME")),
                                  (True, nn.ConvTranspose(o, (k, k), strides=(s, s), padding="SAME"))):
      ours = (StridedConv(o, k, s, transpose), StridedConv(o, k, s, transpose, lax_conv=True))
      params = jax.eval_shape(ours[0].init, jax.random.key(0), x)
      chex.assert_trees_all_equal_shapes(params, jax.eval_shape(flax_layer.init, jax.random.key(0), x))
      params = jax.tree.map(lambda p: jax.random.normal(jax.random.key(o), p.shape), params)  # bias too
      layers.append((ours, flax_layer))
      args.append((params, x))

  @jax.jit
  def outputs(args):
    return [([m.apply(p, x) for m in ours], flax_layer.apply(p, x))
            for (ours, flax_layer), (p, x) in zip(layers, args)]
  for ours, expected in outputs(args):
    chex.assert_trees_all_close(ours, [expected, expected], atol=2e-5)


def test_conv_autoencoder_layers_shapes_and_dtypes():
  state, _, _ = experiment.build(config.DAEConfig(architecture="conv", widths="256"))
  model = state.apply_fn.module
  assert model == models.ConvAutoEncoder()
  kernels = {k: v["kernel"].shape for k, v in state.params.items()}
  assert kernels == {"conv_0": (3, 3, 1, 32), "conv_1": (3, 3, 32, 64), "enc_0": (3136, 256),
                     "code": (256, 3), "dec_0": (3, 256), "dec_grid": (256, 3136),
                     "deconv_0": (3, 3, 64, 32), "deconv_1": (3, 3, 32, 1)}
  x = jax.random.uniform(jax.random.key(0), (5, 784), minval=-1.0)
  small_params = jax.eval_shape(models.ConvAutoEncoder(**SMALL).init, jax.random.key(0), x)
  small_params = jax.tree.map(lambda p: jax.random.normal(jax.random.key(1), p.shape), small_params)

  @functools.partial(jax.jit, static_argnums=0)
  def run(model, params, x):
    (z, y), hidden = model.apply(params, x, method=lambda m, x: (m.encode(x), m(x)),
                                 mutable="intermediates")
    return z, y, model.apply(params, z, method="decode"), hidden["intermediates"]["hidden"]
  z, y, decoded, hidden = run(model, {"params": state.params}, x)
  chex.assert_shape([z, y], [(5, 3), (5, 784)])
  chex.assert_type([z, y], jnp.float32)
  assert jnp.all(jnp.abs(y) <= 1)
  chex.assert_trees_all_close(decoded, y)
  # The encoder's hidden ReLU activations, each [B, units], twice: encode, then __call__.
  assert [h.shape for h in hidden] == [(5, 14 * 14 * 32), (5, 7 * 7 * 64), (5, 256)] * 2
  assert all(jnp.all(h >= 0) for h in hidden)

  bf16_logits = models.ConvAutoEncoder(output="logits", dtype=jnp.bfloat16, **SMALL)
  z, logits, _, _ = run(bf16_logits, small_params, x)
  chex.assert_type([z, logits], jnp.float32)
  assert jnp.abs(logits).max() > 1


def test_image_side_must_halve_with_every_convolution():
  with pytest.raises(ValueError, match="2 \\*\\* 3"):
    jax.eval_shape(models.ConvAutoEncoder(channels=(4, 8, 16)).init, jax.random.key(0),
                   jnp.zeros((1, 784)))


def test_stepwise_epoch_equals_the_fused_epoch_and_is_chosen_for_lax_conv():
  images = jax.device_put(data.load_embedded().train_images[:200])  # 6 batches, 8 left over
  key = jax.random.key(3)
  state = train.create_train_state(models.ConvAutoEncoder(**SMALL), jax.random.key(0),
                                   train.make_optimizer(), corruption="gaussian", noise=0.3)
  fused = train.run_epoch(jax.tree.map(jnp.copy, state), images, key, 4, batch_size=32, loop="fused")
  stepwise = train.run_epoch(state, images, key, 4, batch_size=32, loop="stepwise")
  assert int(fused[0].step) == int(stepwise[0].step) == 6
  chex.assert_trees_all_close(stepwise, fused, atol=1e-6, rtol=0)
  assert bool(stepwise[1]["finite"])

  params = stepwise[0].params
  mlp = models.AutoEncoder(widths=(16,))
  mlp_params = jax.eval_shape(mlp.init, jax.random.key(0), jnp.zeros((1, 784)))["params"]
  lax = models.ConvAutoEncoder(lax_conv=True, **SMALL)
  assert not train.uses_lax_conv(stepwise[0].apply_fn, params, 784)
  assert not train.uses_lax_conv(train.ModuleApply(mlp), mlp_params, 784)
  assert train.uses_lax_conv(train.ModuleApply(lax), params, 784)
