"""Corruption processes q(x~|x) of a denoising autoencoder.

Each is a pure function (key, pixels, level) -> corrupted pixels, on pixels in
[0, 1]; the background (and minimum) value is 0, the maximum 1. On images
[B, H, W, C], `gaussian` adds independent noise to every value, while `masking`
and `salt_and_pepper` hit whole pixels: one draw per (b, h, w), shared by the C
channels, so a hit colour pixel becomes all 0 (or, for salt and pepper, all 0 or
all 1). On any other shape, such as the [B, P] codes a stacked DAE corrupts,
each entry is a pixel of its own. Grey images [B, H, W, 1] get exactly the
values that the same pixels get as [B, H * W].
"""
import jax
import jax.numpy as jnp


def pixel_shape(pixels):
  """The shape of one draw per pixel: [B, H, W, 1] for images [B, H, W, C], the
  shape of `pixels` itself otherwise."""
  return (*pixels.shape[:3], 1) if pixels.ndim == 4 else pixels.shape


def identity(key, pixels, level):
  """No corruption: the plain autoencoder."""
  del key, level
  return pixels


def gaussian(key, pixels, level):
  """Adds N(0, level^2) noise (level in [0, 1] pixel units) to every value,
  clipped back to [0, 1]."""
  noise = level * jax.random.normal(key, pixels.shape, pixels.dtype)
  return jnp.clip(pixels + noise, 0.0, 1.0)


def masking(key, pixels, level):
  """Sets a random fraction `level` of the pixels to the background value 0."""
  drop = jax.random.bernoulli(key, level, pixel_shape(pixels))
  return jnp.where(drop, jnp.zeros_like(pixels), pixels)


def salt_and_pepper(key, pixels, level):
  """Sets a random fraction `level` of the pixels to 0 or 1, each with probability 1/2."""
  hit_key, salt_key = jax.random.split(key)
  hit = jax.random.bernoulli(hit_key, level, pixel_shape(pixels))
  salt = jax.random.bernoulli(salt_key, 0.5, pixel_shape(pixels)).astype(pixels.dtype)
  return jnp.where(hit, salt, pixels)


CORRUPTIONS = {
    "none": identity,
    "gaussian": gaussian,
    "masking": masking,
    "salt_and_pepper": salt_and_pepper,
}
