"""Binarised digits: the draws once at load time (static, and the test split of
dynamic) and the draw at every training step (dynamic). A VAE run on them, with
its importance-weighted test negative log-likelihood: tests/end_to_end/test_reproduce.py."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from aejax import config as config_lib, data
from aejax.data import binarize
from aejax.run import experiment


def test_static_and_dynamic_draw_splits_once_with_fixed_seeds(mnist_dir):
  grey = data.load(mnist_dir)
  static, dynamic = data.load(mnist_dir, binarize="static"), data.load(mnist_dir, binarize="dynamic")
  for split in ("train_images", "test_images"):
    drawn = getattr(static, split)
    assert drawn.dtype == np.uint8 and set(np.unique(drawn)) == {0, 255}
    # white with probability the grey level: the share of white pixels is the mean grey level
    # (256 x 784 draws: standard error below 0.001)
    assert abs(np.mean(drawn == 255) - np.mean(getattr(grey, split) / 255)) < 0.005
    np.testing.assert_array_equal(getattr(data.load(mnist_dir, binarize="static"), split), drawn)
  assert not np.array_equal(static.train_images[:64], static.test_images)   # a seed per split
  np.testing.assert_array_equal(dynamic.test_images, static.test_images)
  np.testing.assert_array_equal(dynamic.train_images, grey.train_images)     # drawn at every step
  assert np.all((static.train_images == 0) | (grey.train_images > 0))       # black stays black
  assert np.all((static.train_images == 255) | (grey.train_images < 255))   # white stays white


def test_dynamic_binarisation_draws_the_training_batch_anew_at_every_step():
  config = config_lib.VAEConfig.from_flags(binarize="dynamic", augmentation="affine", rotation=0.0, shift=0.0,
                                           scale=0.0)
  augment = jax.jit(experiment.augmentation(config), static_argnums=())
  pixels = jnp.full((4, 28, 28, 1), 0.3).at[:, :5].set(0.0).at[:, -5:].set(1.0)
  settings = config_lib.hparams(config)
  first, second = (augment(jax.random.key(i), pixels, settings) for i in (0, 1))
  for drawn in (first, second):
    assert set(np.unique(drawn)) == {0.0, 1.0}
    assert np.all(drawn[:, :5] == 0) and np.all(drawn[:, -5:] == 1)
    assert abs(float(jnp.mean(drawn[:, 5:-5])) - 0.3) < 0.03
  assert not np.array_equal(first, second)
  assert experiment.augmentation(config_lib.VAEConfig()) is not experiment.augmentation(config)


def test_every_split_and_pixel_type_is_drawn_and_none_draws_nothing(mnist_dir):
  grey = data.load(mnist_dir, validation_fraction=0.25)
  assert binarize.binarized(grey, "none") is grey
  for mode in ("dynamic", "static"):
    drawn = binarize.binarized(grey, mode)
    assert set(np.unique(drawn.validation_images)) == {0, 255}    # the validation split, once
    assert not np.array_equal(drawn.validation_images, grey.validation_images)
  # float pixels in [0, 1] are drawn as the uint8 images they equal
  np.testing.assert_array_equal(binarize.draw(grey.test_images / np.float32(255), 7),
                                binarize.draw(grey.test_images, 7))
  with pytest.raises(ValueError, match="'sometimes'"):
    binarize.binarized(grey, "sometimes")
  pixels = jnp.full((2, 4, 4, 1), 0.5, jnp.bfloat16)
  assert binarize.bernoulli(jax.random.key(0), pixels, {}).dtype == jnp.bfloat16
