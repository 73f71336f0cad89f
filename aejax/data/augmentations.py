"""Augmentations: random transformations of each training batch, drawn anew at
every step and applied to the clean images before anything else, so that the
transformed image is both the input (before any corruption) and the target.
Where a corruption q(x~|x) asks the model to undo damage, an augmentation shows
it more images: with a few thousand training images, the strongest lever against
overfitting. Evaluation and analysis see the images as they are.

Each is a pure function (key, pixels, settings) -> pixels on images
[B, H, W, C] in [0, 1] of any height, width and number of channels, the
background 0; `settings` are the train state's traced `hparams`, of which
`affine` reads `rotation` (degrees), `shift` (pixels), `scale` (a fraction) and
`flip` (a probability; 0 when absent).
"""
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp


def identity(key, pixels, settings):
  """No augmentation."""
  del key, settings
  return pixels


def transform(pixels, angle, scale, offset):
  """[B, H, W, C] images, each rotated by angle[b] (radians, clockwise as
  displayed, rows counted downward), resized by scale[b] and moved by
  offset[b] = (rows, columns) in pixels, about the image's centre
  ((H - 1) / 2, (W - 1) / 2); bilinear, with the background 0 beyond the edges,
  the same sampling grid for every channel. The output pixel at (r, c) takes the
  input at centre + R(angle) ((r, c) - centre - offset) / scale, where
  R(a) = [[cos a, -sin a], [sin a, cos a]] acts on (row, column)."""
  if pixels.ndim != 4:
    raise ValueError(f"pixels of shape {pixels.shape}, expected images [B, H, W, C]")
  b, h, w, channels = pixels.shape
  centre_r, centre_c = (h - 1) / 2, (w - 1) / 2
  rows = (jnp.arange(h, dtype=jnp.float32) - centre_r)[:, None]    # [H, 1]
  cols = (jnp.arange(w, dtype=jnp.float32) - centre_c)[None, :]    # [1, W]
  cos, sin = (jnp.cos(angle) / scale)[:, None, None], (jnp.sin(angle) / scale)[:, None, None]
  dr, dc = rows - offset[:, 0, None, None], cols - offset[:, 1, None, None]
  src_r = centre_r + cos * dr - sin * dc                           # [B, H, W]
  src_c = centre_c + sin * dr + cos * dc
  r0, c0 = jnp.floor(src_r), jnp.floor(src_c)
  wr, wc = src_r - r0, src_c - c0
  flat = pixels.reshape(b, h * w, channels)
  out = jnp.zeros((b, h, w, channels), pixels.dtype)
  for dr_, weight_r in ((0, 1 - wr), (1, wr)):
    for dc_, weight_c in ((0, 1 - wc), (1, wc)):
      r, c = (r0 + dr_).astype(jnp.int32), (c0 + dc_).astype(jnp.int32)
      inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
      index = jnp.clip(r, 0, h - 1) * w + jnp.clip(c, 0, w - 1)
      values = jnp.take_along_axis(flat, index.reshape(b, h * w, 1), axis=1).reshape(b, h, w, channels)
      out = out + jnp.where(inside[..., None], (weight_r * weight_c)[..., None] * values, 0)
  return out


def affine(key, pixels, settings):
  """[B, H, W, C] -> [B, H, W, C]: each image mirrored left-right with
  probability `flip`, then (the mirrored image, if it was) rotated by up to
  +-`rotation` degrees, resized by a factor in 1 +- `scale` and moved by up to
  +-`shift` pixels along each axis, each drawn uniformly and independently per
  image. The flip is drawn from its own key, so that with `flip` 0 (or absent)
  the result is the affine map alone, draw for draw."""
  b = pixels.shape[0]
  k_angle, k_scale, k_offset = jax.random.split(key, 3)
  angle = jnp.deg2rad(settings["rotation"]) * jax.random.uniform(k_angle, (b,), minval=-1, maxval=1)
  scale = 1 + settings["scale"] * jax.random.uniform(k_scale, (b,), minval=-1, maxval=1)
  offset = settings["shift"] * jax.random.uniform(k_offset, (b, 2), minval=-1, maxval=1)
  flip = jax.random.bernoulli(jax.random.fold_in(key, 4), settings.get("flip", 0.0), (b,))
  pixels = jnp.where(flip[:, None, None, None], pixels[:, :, ::-1, :], pixels)
  return transform(pixels, angle, scale, offset)


AUGMENTATIONS = {
    "none": identity,
    "affine": affine,
}


@dataclasses.dataclass(frozen=True)
class Then:
  """The augmentation `first`, then `second`, each (key, pixels, settings) -> pixels:
  `first` draws with the key, `second` with fold_in(key, 1), so that `first` alone
  draws as it would without `second`. Compares by value: equal compositions share
  compiled steps."""
  first: Callable
  second: Callable

  def __call__(self, key, pixels, settings):
    return self.second(jax.random.fold_in(key, 1), self.first(key, pixels, settings), settings)
