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
import functools

import jax
import jax.numpy as jnp


def per_pixel(fn):
  """fn(key, values, level, draws) -> values, with `draws` the shape of one draw per
  pixel, as a corruption (key, pixels, level) -> pixels of any shape. Images
  [B, H, W, C] are corrupted as rows of pixels, [B, H * W] (grey) or [B, H * W, C]
  with draws [B, H * W, 1] (colour), then shaped back: the same values, and XLA's CPU
  backend runs the work on [B, H, W, 1] arrays (a minor dimension of 1) markedly slower."""
  @functools.wraps(fn)
  def corrupt(key, pixels, level):
    if pixels.ndim != 4:
      return fn(key, pixels, level, pixels.shape)
    b, h, w, c = pixels.shape
    rows = pixels.reshape(b, h * w) if c == 1 else pixels.reshape(b, h * w, c)
    draws = rows.shape if c == 1 else (b, h * w, 1)
    return fn(key, rows, level, draws).reshape(pixels.shape)
  return corrupt


def identity(key, pixels, level):
  """No corruption: the plain autoencoder."""
  del key, level
  return pixels


@per_pixel
def gaussian(key, pixels, level, draws):
  """Adds N(0, level^2) noise (level in [0, 1] pixel units) to every value,
  clipped back to [0, 1]."""
  del draws
  noise = level * jax.random.normal(key, pixels.shape, pixels.dtype)
  return jnp.clip(pixels + noise, 0.0, 1.0)


@per_pixel
def masking(key, pixels, level, draws):
  """Sets a random fraction `level` of the pixels to the background value 0."""
  drop = jax.random.bernoulli(key, level, draws)
  return jnp.where(drop, jnp.zeros_like(pixels), pixels)


@per_pixel
def salt_and_pepper(key, pixels, level, draws):
  """Sets a random fraction `level` of the pixels to 0 or 1, each with probability 1/2."""
  hit_key, salt_key = jax.random.split(key)
  hit = jax.random.bernoulli(hit_key, level, draws)
  salt = jax.random.bernoulli(salt_key, 0.5, draws).astype(pixels.dtype)
  return jnp.where(hit, salt, pixels)


CORRUPTIONS = {
    "none": identity,
    "gaussian": gaussian,
    "masking": masking,
    "salt_and_pepper": salt_and_pepper,
}

# Each corruption's level: (largest value, what it measures). The identity's
# level is read by nothing.
LEVELS = {
    "none": (1.0, "unused without a corruption"),
    "gaussian": (float("inf"), "a standard deviation"),
    "masking": (1.0, "a fraction of pixels for masking"),
    "salt_and_pepper": (1.0, "a fraction of pixels for salt_and_pepper"),
}
# The level a config takes when none is given: 0.5, or 0 without a corruption.
DEFAULT_LEVEL = {"none": 0.0, "gaussian": 0.5, "masking": 0.5, "salt_and_pepper": 0.5}
# The corruptions that change their input: those a denoising table measures.
NOISY = tuple(name for name, fn in CORRUPTIONS.items() if fn is not identity)
