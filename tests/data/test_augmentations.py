"""Augmentations: the affine transformation against SciPy's (square grey digits
and non-square colour images), its ranges, the left-right flip, bit-identity
with the flat [B, 784] code it replaced, and the train step that trains on the
transformed image as both input and target."""
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import flat_module
from scipy import ndimage

from aejax import models, optim, train
from aejax.data import augmentations, corruptions, mnist

DIGITS = mnist.load_embedded().test_images[:12].reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
COLOUR = np.random.default_rng(5).uniform(size=(5, 24, 40, 3)).astype(np.float32)
SETTINGS = {"rotation": jnp.float32(10.0), "shift": jnp.float32(1.5), "scale": jnp.float32(0.1)}
TRANSFORM, AFFINE = jax.jit(augmentations.transform), jax.jit(augmentations.affine)
ZERO = {"rotation": jnp.float32(0.0), "shift": jnp.float32(0.0), "scale": jnp.float32(0.0)}


def scipy_transform(image, angle, scale, offset):
  """SciPy's bilinear affine map of one [H, W] image with the conventions of
  `augmentations.transform`: output (r, c) reads input
  centre + R(angle) ((r, c) - centre - offset) / scale, 0 beyond the edges."""
  centre = (np.array(image.shape, np.float64) - 1) / 2
  c, s = math.cos(angle), math.sin(angle)
  matrix = np.array([[c, -s], [s, c]]) / scale
  # SciPy maps output (r, c) to input matrix @ (r, c) + offset; "grid-constant" pads with 0.
  return ndimage.affine_transform(image.astype(np.float64), matrix,
                                  offset=centre - matrix @ (centre + np.asarray(offset, np.float64)),
                                  order=1, mode="grid-constant", cval=0.0)


def random_maps(n, seed):
  rng = np.random.default_rng(seed)
  return (rng.uniform(-0.6, 0.6, n).astype(np.float32), rng.uniform(0.7, 1.3, n).astype(np.float32),
          rng.uniform(-3, 3, (n, 2)).astype(np.float32))


def test_a_positive_angle_turns_clockwise_as_displayed():
  dot = np.zeros((1, 28, 28, 1), np.float32)
  dot[0, 4, 13] = dot[0, 4, 14] = 1.0             # above the centre (13.5, 13.5)
  turned = np.asarray(TRANSFORM(dot, jnp.array([math.pi / 2]), jnp.ones(1), jnp.zeros((1, 2))))
  rows, cols = np.nonzero(turned[0, :, :, 0] > 0.5)
  assert set(rows) == {13, 14} and set(cols) == {23}   # now right of the centre


def test_transform_equals_scipy_affine_transform_with_a_zero_background():
  angle, scale, offset = random_maps(len(DIGITS), 0)
  ours = np.asarray(TRANSFORM(DIGITS, angle, scale, offset))
  for i, digit in enumerate(DIGITS):
    theirs = scipy_transform(digit[:, :, 0], angle[i], scale[i], offset[i])
    np.testing.assert_allclose(ours[i, :, :, 0], theirs, atol=1e-5, rtol=0)


def test_transform_of_non_square_colour_images_equals_scipy_on_every_channel():
  angle, scale, offset = random_maps(len(COLOUR), 1)
  ours = np.asarray(TRANSFORM(COLOUR, angle, scale, offset))
  assert ours.shape == COLOUR.shape
  for i, image in enumerate(COLOUR):
    for channel in range(3):
      theirs = scipy_transform(image[:, :, channel], angle[i], scale[i], offset[i])
      np.testing.assert_allclose(ours[i, :, :, channel], theirs, atol=1e-5, rtol=0)
  with pytest.raises(ValueError, match=r"expected images \[B, H, W, C\]"):
    TRANSFORM(COLOUR.reshape(len(COLOUR), -1), angle, scale, offset)


def test_whole_pixel_moves_are_exact_and_zero_ranges_are_the_identity():
  n = len(DIGITS)
  moved = TRANSFORM(DIGITS, jnp.zeros(n), jnp.ones(n), jnp.tile(jnp.array([[2.0, -3.0]]), (n, 1)))
  expected = np.zeros_like(DIGITS)
  expected[:, 2:, :25] = DIGITS[:, :-2, 3:]    # 2 rows down, 3 columns left
  np.testing.assert_array_equal(np.asarray(moved), expected)
  np.testing.assert_array_equal(np.asarray(AFFINE(jax.random.key(0), DIGITS, ZERO)), DIGITS)
  np.testing.assert_array_equal(np.asarray(AFFINE(jax.random.key(0), COLOUR, ZERO)), COLOUR)


def test_affine_draws_per_digit_within_its_ranges():
  key = jax.random.key(1)
  out = AFFINE(key, DIGITS, SETTINGS)
  chex.assert_trees_all_equal(out, AFFINE(key, DIGITS, SETTINGS))
  assert not np.allclose(out, AFFINE(jax.random.key(2), DIGITS, SETTINGS))
  assert float(out.min()) >= 0 and float(out.max()) <= 1
  # Shifts alone, drawn within +-1.5 pixels: each digit's centre of mass moves by at most that.
  moved = np.asarray(AFFINE(key, DIGITS, {**ZERO, "shift": jnp.float32(1.5)}))[..., 0]
  grid = np.arange(28)
  def centre(images):
    mass = images.sum((1, 2))
    return np.stack([(images.sum(2) * grid).sum(1) / mass, (images.sum(1) * grid).sum(1) / mass], 1)
  moves = centre(moved) - centre(DIGITS[..., 0])
  assert np.all(np.abs(moves) <= 1.5 + 1e-4) and np.abs(moves).max() > 0.5, moves


def test_affine_draws_angles_and_sizes_within_their_ranges(monkeypatch):
  drawn = {}
  def record(pixels, angle, scale, offset):
    drawn.update(angle=np.asarray(angle), scale=np.asarray(scale), offset=np.asarray(offset))
    return pixels
  monkeypatch.setattr(augmentations, "transform", record)
  augmentations.affine(jax.random.key(4), np.zeros((2000, 1, 2, 1), np.float32), SETTINGS)
  # Uniform within +-10 degrees (in radians), 1 +- 0.1 and +-1.5 pixels: the extremes are near the bounds.
  for name, bound, centre in (("angle", math.radians(10), 0.0), ("scale", 0.1, 1.0), ("offset", 1.5, 0.0)):
    spread = np.abs(drawn[name] - centre)
    assert spread.max() <= bound and spread.max() > 0.99 * bound, (name, spread.max())
    assert abs(float(np.mean(drawn[name] - centre))) < 0.05 * bound, name


def test_flip_one_mirrors_every_image_and_flip_zero_changes_nothing():
  key = jax.random.key(6)
  for images in (DIGITS, COLOUR):
    mirrored = AFFINE(key, images, {**ZERO, "flip": jnp.float32(1.0)})
    np.testing.assert_array_equal(np.asarray(mirrored), images[:, :, ::-1, :])
    unmoved = AFFINE(key, images, {**ZERO, "flip": jnp.float32(0.0)})
    np.testing.assert_array_equal(np.asarray(unmoved), images)
  # The flip comes first and draws from a key of its own: the other draws stay as they were.
  chex.assert_trees_all_equal(AFFINE(key, COLOUR, {**SETTINGS, "flip": jnp.float32(0.0)}),
                              AFFINE(key, COLOUR, SETTINGS))
  chex.assert_trees_all_equal(AFFINE(key, COLOUR, {**SETTINGS, "flip": jnp.float32(1.0)}),
                              AFFINE(key, COLOUR[:, :, ::-1, :], SETTINGS))


def test_flip_one_half_mirrors_about_half_the_images_each_as_a_whole():
  images = np.random.default_rng(7).uniform(size=(400, 3, 4, 2)).astype(np.float32)
  out = np.asarray(AFFINE(jax.random.key(8), images, {**ZERO, "flip": jnp.float32(0.5)}))
  mirrored = np.all(out == images[:, :, ::-1, :], axis=(1, 2, 3))
  kept = np.all(out == images, axis=(1, 2, 3))
  assert np.all(mirrored ^ kept)
  assert 160 <= mirrored.sum() <= 240, mirrored.sum()     # Binomial(400, 1/2): 200 +- 10


def test_the_flip_is_drawn_independently_of_the_angle(monkeypatch):
  drawn = {}
  def record(pixels, angle, scale, offset):
    drawn.update(mirrored=np.asarray(pixels)[:, 0, 0, 0] == 1, angle=np.asarray(angle))
    return pixels
  monkeypatch.setattr(augmentations, "transform", record)
  images = np.tile(np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1), (2000, 1, 1, 1))
  augmentations.affine(jax.random.key(12), images, {**SETTINGS, "flip": jnp.float32(0.5)})
  for side in (drawn["angle"] < 0, drawn["angle"] > 0):
    assert abs(float(drawn["mirrored"][side].mean()) - 0.5) < 0.06


def test_grey_images_give_the_flat_code_s_values_bit_for_bit(tmp_path):
  old = flat_module("aejax/augmentations.py", tmp_path)
  flat = DIGITS.reshape(len(DIGITS), -1)
  angle, scale, offset = random_maps(len(DIGITS), 9)
  np.testing.assert_array_equal(np.asarray(TRANSFORM(DIGITS, angle, scale, offset)).reshape(flat.shape),
                                np.asarray(jax.jit(old.transform)(flat, angle, scale, offset)))
  old_affine = jax.jit(old.affine)
  wide = {"rotation": jnp.float32(40.0), "shift": jnp.float32(4.0), "scale": jnp.float32(0.3)}
  for settings in (SETTINGS, wide, {**wide, "flip": jnp.float32(0.0)}):
    for key in (jax.random.key(10), jax.random.key(11)):
      ours = AFFINE(key, DIGITS, settings)
      theirs = old_affine(key, flat, {k: settings[k] for k in SETTINGS})
      np.testing.assert_array_equal(np.asarray(ours).reshape(flat.shape), np.asarray(theirs))


@pytest.mark.users_codegen   # zero ranges are compared with none to the last bit: at users' code generator
def test_the_step_trains_on_the_augmented_digit_as_input_and_target():
  batch = jnp.asarray(DIGITS)
  key = jax.random.key(3)
  hparams = {**{k: float(v) for k, v in SETTINGS.items()}, "flip": 0.5}
  make = lambda augmentation, **kw: train.create_train_state(
      models.AutoEncoder(widths=(16,)), jax.random.key(0), optim.make_optimizer(),
      corruption="gaussian", noise=0.3, hparams=kw.get("hparams", hparams), augmentation=augmentation)
  state = make("affine")
  _, metrics = jax.jit(train.train_step)(state, batch, key)
  augmented = AFFINE(jax.random.fold_in(key, 3), batch, state.hparams)
  noisy = corruptions.gaussian(key, augmented, 0.3)
  outputs = state.apply_fn({"params": state.params}, 2 * noisy - 1)
  chex.assert_trees_all_close(metrics["loss"], jnp.mean((outputs - (2 * augmented - 1)) ** 2), rtol=1e-5)
  # Zero ranges give the plain step to the last bit; evaluation never augments.
  zero = make("affine", hparams={k: 0.0 for k in hparams})
  (zero_state, zero_metrics), (plain_state, plain_metrics) = (
      jax.jit(train.train_step)(zero, batch, key), jax.jit(train.train_step)(make("none"), batch, key))
  chex.assert_trees_all_equal((zero_state.params, zero_state.opt_state, zero_metrics),
                              (plain_state.params, plain_state.opt_state, plain_metrics))
  chex.assert_trees_all_equal(train.evaluate(state, batch, key), train.evaluate(make("none"), batch, key))
