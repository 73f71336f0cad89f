"""Augmentations: random transformations of each training batch, drawn anew at
every step and applied to the clean digits before anything else, so that the
transformed digit is both the input (before any corruption) and the target.
Where a corruption q(x~|x) asks the model to undo damage, an augmentation shows
it more digits: with 4,000 training digits, the strongest lever against
overfitting. Evaluation and analysis see the digits as they are.

Each is a pure function (key, pixels, settings) -> pixels on [B, P] pixels in
[0, 1] of square images (P = side * side), the background 0; `settings` are the
train state's traced `hparams`, of which `affine` reads `rotation` (degrees),
`shift` (pixels) and `scale` (a fraction).
"""
import math

import jax
import jax.numpy as jnp


def identity(key, pixels, settings):
  """No augmentation."""
  del key, settings
  return pixels


def transform(pixels, angle, scale, offset):
  """[B, P] pixels of square images, each rotated by angle[b] (radians, clockwise
  as displayed, rows counted downward), resized by scale[b] and moved by
  offset[b] = (rows, columns) in pixels, about the image's centre; bilinear, with
  the background 0 beyond the edges. The output pixel at (r, c) takes the input at
  centre + R(angle) ((r, c) - centre - offset) / scale, where
  R(a) = [[cos a, -sin a], [sin a, cos a]] acts on (row, column)."""
  b, p = pixels.shape
  side = math.isqrt(p)
  if side * side != p:
    raise ValueError(f"images of {p} pixels are not square")
  centre = (side - 1) / 2
  grid = jnp.arange(side, dtype=jnp.float32) - centre
  rows, cols = grid[:, None], grid[None, :]                      # [side, 1], [1, side]
  cos, sin = (jnp.cos(angle) / scale)[:, None, None], (jnp.sin(angle) / scale)[:, None, None]
  dr, dc = rows - offset[:, 0, None, None], cols - offset[:, 1, None, None]
  src_r = centre + cos * dr - sin * dc                            # [B, side, side]
  src_c = centre + sin * dr + cos * dc
  r0, c0 = jnp.floor(src_r), jnp.floor(src_c)
  wr, wc = src_r - r0, src_c - c0
  out = jnp.zeros((b, side, side), pixels.dtype)
  for dr_, weight_r in ((0, 1 - wr), (1, wr)):
    for dc_, weight_c in ((0, 1 - wc), (1, wc)):
      r, c = (r0 + dr_).astype(jnp.int32), (c0 + dc_).astype(jnp.int32)
      inside = (r >= 0) & (r < side) & (c >= 0) & (c < side)
      index = jnp.clip(r, 0, side - 1) * side + jnp.clip(c, 0, side - 1)
      values = jnp.take_along_axis(pixels, index.reshape(b, p), axis=1).reshape(b, side, side)
      out = out + jnp.where(inside, weight_r * weight_c * values, 0)
  return out.reshape(b, p)


def affine(key, pixels, settings):
  """Each digit rotated by up to +-`rotation` degrees, resized by a factor in
  1 +- `scale` and moved by up to +-`shift` pixels along each axis, each drawn
  uniformly and independently per digit."""
  b = pixels.shape[0]
  k_angle, k_scale, k_offset = jax.random.split(key, 3)
  angle = jnp.deg2rad(settings["rotation"]) * jax.random.uniform(k_angle, (b,), minval=-1, maxval=1)
  scale = 1 + settings["scale"] * jax.random.uniform(k_scale, (b,), minval=-1, maxval=1)
  offset = settings["shift"] * jax.random.uniform(k_offset, (b, 2), minval=-1, maxval=1)
  return transform(pixels, angle, scale, offset)


AUGMENTATIONS = {
    "none": identity,
    "affine": affine,
}
