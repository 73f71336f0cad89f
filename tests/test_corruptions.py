import chex
import jax
import jax.numpy as jnp
import pytest

from aejax import corruptions

KEY = jax.random.key(0)
GRAY = jnp.full((200, 784), 0.5)


def test_gaussian_std_is_level_in_pixel_units_and_clipped():
  noisy = corruptions.gaussian(KEY, GRAY, 0.1)
  assert abs(float(jnp.std(noisy - GRAY)) - 0.1) < 0.002
  assert abs(float(jnp.mean(noisy - GRAY))) < 0.002
  wide = corruptions.gaussian(KEY, GRAY, 1.0)
  assert float(wide.min()) == 0.0 and float(wide.max()) == 1.0


def test_masking_zeroes_a_fraction_level():
  ones = jnp.ones((200, 784))
  masked = corruptions.masking(KEY, ones, 0.3)
  assert abs(float(jnp.mean(masked == 0)) - 0.3) < 0.01
  assert set(jnp.unique(masked).tolist()) == {0.0, 1.0}


def test_salt_and_pepper_hits_a_fraction_half_each_way():
  noisy = corruptions.salt_and_pepper(KEY, GRAY, 0.4)
  hit = noisy != 0.5
  assert abs(float(jnp.mean(hit)) - 0.4) < 0.01
  assert abs(float(jnp.mean(noisy[hit] == 1.0)) - 0.5) < 0.01
  assert set(jnp.unique(noisy).tolist()) == {0.0, 0.5, 1.0}


@pytest.mark.parametrize("name", sorted(corruptions.CORRUPTIONS))
def test_pure_in_range_and_level_zero_is_identity(name):
  fn = corruptions.CORRUPTIONS[name]
  x = jax.random.uniform(jax.random.key(1), (8, 784))
  chex.assert_trees_all_equal(fn(KEY, x, 0.3), fn(KEY, x, 0.3))
  out = fn(KEY, x, 0.3)
  chex.assert_shape(out, x.shape)
  assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
  chex.assert_trees_all_close(fn(KEY, x, 0.0), x)
  if name != "none":
    assert not jnp.allclose(fn(KEY, x, 0.3), fn(jax.random.key(2), x, 0.3))
