"""Corruption processes q(x~|x) of a denoising autoencoder.

Each is a pure function (key, pixels, level) -> corrupted pixels, on pixels in
[0, 1] of any shape; the background (and minimum) value is 0, the maximum 1.
"""
import jax
import jax.numpy as jnp


def identity(key, pixels, level):
  """No corruption: the plain autoencoder."""
  del key, level
  return pixels


def gaussian(key, pixels, level):
  """Adds N(0, level^2) noise (level in [0, 1] pixel units), clipped back to [0, 1]."""
  noise = level * jax.random.normal(key, pixels.shape, pixels.dtype)
  return jnp.clip(pixels + noise, 0.0, 1.0)


def masking(key, pixels, level):
  """Sets a random fraction `level` of the pixels to the background value 0."""
  drop = jax.random.bernoulli(key, level, pixels.shape)
  return jnp.where(drop, jnp.zeros_like(pixels), pixels)


def salt_and_pepper(key, pixels, level):
  """Sets a random fraction `level` of the pixels to 0 or 1, each with probability 1/2."""
  hit_key, salt_key = jax.random.split(key)
  hit = jax.random.bernoulli(hit_key, level, pixels.shape)
  salt = jax.random.bernoulli(salt_key, 0.5, pixels.shape).astype(pixels.dtype)
  return jnp.where(hit, salt, pixels)


CORRUPTIONS = {
    "none": identity,
    "gaussian": gaussian,
    "masking": masking,
    "salt_and_pepper": salt_and_pepper,
}
