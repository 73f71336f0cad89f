"""Corruptions: their levels on flat [B, P] pixels and codes, whole colour pixels
hit alike in every channel, and bit-identity of grey images with the flat code
they replaced."""

import jax
import numpy as np
import pytest
from conftest import flat_module

from aejax.data import corruptions

KEY = jax.random.key(0)
FLAT, COLOUR = (200, 784), (50, 12, 20, 3)      # the shapes of every test, each compiled once
GRAY = np.full(FLAT, 0.5, np.float32)
COLOUR_GRAY = np.full(COLOUR, 0.5, np.float32)
JIT = {name: jax.jit(fn) for name, fn in corruptions.CORRUPTIONS.items()}


def test_gaussian_std_is_level_in_pixel_units_and_clipped():
  noisy = np.asarray(JIT["gaussian"](KEY, GRAY, 0.1))
  assert abs(float(np.std(noisy - GRAY)) - 0.1) < 0.002
  assert abs(float(np.mean(noisy - GRAY))) < 0.002
  wide = np.asarray(JIT["gaussian"](KEY, GRAY, 1.0))
  assert float(wide.min()) == 0.0 and float(wide.max()) == 1.0


def test_masking_zeroes_a_fraction_level():
  masked = np.asarray(JIT["masking"](KEY, np.ones(FLAT, np.float32), 0.3))
  assert abs(float(np.mean(masked == 0)) - 0.3) < 0.01
  assert set(np.unique(masked).tolist()) == {0.0, 1.0}


def test_salt_and_pepper_hits_a_fraction_half_each_way():
  noisy = np.asarray(JIT["salt_and_pepper"](KEY, GRAY, 0.4))
  hit = noisy != 0.5
  assert abs(float(np.mean(hit)) - 0.4) < 0.01
  assert abs(float(np.mean(noisy[hit] == 1.0)) - 0.5) < 0.01
  assert set(np.unique(noisy).tolist()) == {0.0, 0.5, 1.0}


def test_gaussian_noise_is_independent_in_every_channel():
  noise = (np.asarray(JIT["gaussian"](KEY, COLOUR_GRAY, 0.1)) - COLOUR_GRAY).reshape(-1, 3)
  assert abs(float(noise.std()) - 0.1) < 0.002
  assert np.abs(np.corrcoef(noise.T) - np.eye(3)).max() < 0.03


def test_masking_drops_whole_colour_pixels():
  image = np.random.default_rng(1).uniform(0.1, 1.0, COLOUR).astype(np.float32)
  masked = np.asarray(JIT["masking"](KEY, image, 0.3))
  dropped = masked == 0                                  # [B, H, W, C]
  assert np.all(dropped == dropped[..., :1])
  assert abs(float(dropped.mean()) - 0.3) < 0.015
  np.testing.assert_array_equal(masked[~dropped], image[~dropped])


def test_salt_and_pepper_turns_whole_colour_pixels_black_or_white():
  noisy = np.asarray(JIT["salt_and_pepper"](KEY, COLOUR_GRAY, 0.4))
  assert np.all(noisy == noisy[..., :1])
  hit = noisy[..., 0] != 0.5
  assert abs(float(hit.mean()) - 0.4) < 0.015
  assert abs(float(np.mean(noisy[..., 0][hit] == 1.0)) - 0.5) < 0.02


@pytest.mark.parametrize("name", sorted(corruptions.CORRUPTIONS))
def test_grey_images_give_the_flat_code_s_values_bit_for_bit(name, tmp_path):
  old = flat_module("aejax/corruptions.py", tmp_path)
  flat = np.random.default_rng(3).uniform(size=FLAT).astype(np.float32)
  x = flat.reshape(-1, 28, 28, 1)
  ours, theirs = JIT[name], jax.jit(old.CORRUPTIONS[name])
  for key in (KEY, jax.random.key(4)):
    expected = np.asarray(theirs(key, flat, 0.3))
    np.testing.assert_array_equal(np.asarray(ours(key, x, 0.3)), expected.reshape(x.shape))
    np.testing.assert_array_equal(np.asarray(ours(key, flat, 0.3)), expected)


@pytest.mark.parametrize("shape", [FLAT, COLOUR])
@pytest.mark.parametrize("name", sorted(corruptions.CORRUPTIONS))
def test_pure_in_range_and_level_zero_is_identity(name, shape):
  fn = JIT[name]
  x = np.random.default_rng(2).uniform(size=shape).astype(np.float32)
  out = np.asarray(fn(KEY, x, 0.3))
  np.testing.assert_array_equal(np.asarray(fn(KEY, x, 0.3)), out)
  assert out.shape == x.shape and out.dtype == x.dtype
  assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
  np.testing.assert_allclose(np.asarray(fn(KEY, x, 0.0)), x, rtol=1e-6)
  if name != "none":
    assert not np.allclose(np.asarray(fn(jax.random.key(2), x, 0.3)), out)
