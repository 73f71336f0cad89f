"""Augmentations: the affine transformation against SciPy's, its ranges, and the
train step that trains on the transformed digit as both input and target."""
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from aejax import augmentations, corruptions, data, models, train

DIGITS = data.load_embedded().test_images[:12].astype(np.float32) / 255.0
SETTINGS = {"rotation": jnp.float32(10.0), "shift": jnp.float32(1.5), "scale": jnp.float32(0.1)}


def test_a_positive_angle_turns_clockwise_as_displayed():
  dot = np.zeros((1, 28, 28), np.float32)
  dot[0, 4, 13] = dot[0, 4, 14] = 1.0             # above the centre (13.5, 13.5)
  turned = np.asarray(augmentations.transform(dot.reshape(1, -1), jnp.array([math.pi / 2]), jnp.ones(1),
                                              jnp.zeros((1, 2)))).reshape(28, 28)
  rows, cols = np.nonzero(turned > 0.5)
  assert set(rows) == {13, 14} and set(cols) == {23}   # now right of the centre


def test_transform_equals_scipy_affine_transform_with_a_zero_background():
  rng = np.random.default_rng(0)
  angle = rng.uniform(-0.6, 0.6, len(DIGITS)).astype(np.float32)
  scale = rng.uniform(0.7, 1.3, len(DIGITS)).astype(np.float32)
  offset = rng.uniform(-3, 3, (len(DIGITS), 2)).astype(np.float32)
  ours = np.asarray(jax.jit(augmentations.transform)(DIGITS, angle, scale, offset))
  centre = 13.5
  for i, digit in enumerate(DIGITS):
    c, s = math.cos(angle[i]), math.sin(angle[i])
    matrix = np.array([[c, -s], [s, c]]) / scale[i]
    # SciPy maps output (r, c) to input matrix @ (r, c) + offset; "grid-constant" pads with 0.
    theirs = ndimage.affine_transform(digit.reshape(28, 28).astype(np.float64), matrix,
                                      offset=centre - matrix @ (centre + offset[i].astype(np.float64)),
                                      order=1, mode="grid-constant", cval=0.0)
    np.testing.assert_allclose(ours[i], theirs.reshape(-1), atol=1e-5, rtol=0)


def test_whole_pixel_moves_are_exact_and_zero_ranges_are_the_identity():
  n = len(DIGITS)
  moved = augmentations.transform(DIGITS, jnp.zeros(n), jnp.ones(n), jnp.tile(jnp.array([[2.0, -3.0]]), (n, 1)))
  expected = np.zeros((n, 28, 28), np.float32)
  expected[:, 2:, :25] = DIGITS.reshape(n, 28, 28)[:, :-2, 3:]    # 2 rows down, 3 columns left
  np.testing.assert_array_equal(np.asarray(moved), expected.reshape(n, -1))
  zero = {k: jnp.float32(0.0) for k in SETTINGS}
  np.testing.assert_array_equal(np.asarray(augmentations.affine(jax.random.key(0), DIGITS, zero)), DIGITS)


def test_affine_draws_per_digit_within_its_ranges():
  key = jax.random.key(1)
  out = augmentations.affine(key, DIGITS, SETTINGS)
  chex.assert_trees_all_equal(out, augmentations.affine(key, DIGITS, SETTINGS))
  assert not np.allclose(out, augmentations.affine(jax.random.key(2), DIGITS, SETTINGS))
  assert float(out.min()) >= 0 and float(out.max()) <= 1
  # Shifts alone, drawn within +-1.5 pixels: each digit's centre of mass moves by at most that.
  shift_only = {**{k: jnp.float32(0.0) for k in SETTINGS}, "shift": jnp.float32(1.5)}
  moved = np.asarray(augmentations.affine(key, DIGITS, shift_only)).reshape(-1, 28, 28)
  grid = np.arange(28)
  def centre(images):
    mass = images.sum((1, 2))
    return np.stack([(images.sum(2) * grid).sum(1) / mass, (images.sum(1) * grid).sum(1) / mass], 1)
  moves = centre(moved) - centre(DIGITS.reshape(-1, 28, 28))
  assert np.all(np.abs(moves) <= 1.5 + 1e-4) and np.abs(moves).max() > 0.5, moves


def test_affine_draws_angles_and_sizes_within_their_ranges(monkeypatch):
  drawn = {}
  def record(pixels, angle, scale, offset):
    drawn.update(angle=np.asarray(angle), scale=np.asarray(scale), offset=np.asarray(offset))
    return pixels
  monkeypatch.setattr(augmentations, "transform", record)
  many = np.zeros((2000, 784), np.float32)
  augmentations.affine(jax.random.key(4), many, SETTINGS)
  # Uniform within +-10 degrees (in radians), 1 +- 0.1 and +-1.5 pixels: the extremes are near the bounds.
  for name, bound, centre in (("angle", math.radians(10), 0.0), ("scale", 0.1, 1.0), ("offset", 1.5, 0.0)):
    spread = np.abs(drawn[name] - centre)
    assert spread.max() <= bound and spread.max() > 0.99 * bound, (name, spread.max())
    assert abs(float(np.mean(drawn[name] - centre))) < 0.05 * bound, name


def test_the_step_trains_on_the_augmented_digit_as_input_and_target():
  batch = jnp.asarray(DIGITS)
  key = jax.random.key(3)
  hparams = {k: float(v) for k, v in SETTINGS.items()}
  make = lambda augmentation, **kw: train.create_train_state(
      models.AutoEncoder(widths=(16,)), jax.random.key(0), train.make_optimizer(),
      corruption="gaussian", noise=0.3, hparams=kw.get("hparams", hparams), augmentation=augmentation)
  state = make("affine")
  _, metrics = jax.jit(train.train_step)(state, batch, key)
  augmented = augmentations.affine(jax.random.fold_in(key, 3), batch, state.hparams)
  noisy = corruptions.gaussian(key, augmented, 0.3)
  outputs = state.apply_fn({"params": state.params}, 2 * noisy - 1)
  chex.assert_trees_all_close(metrics["loss"], jnp.mean((outputs - (2 * augmented - 1)) ** 2), rtol=1e-5)
  # Zero ranges give the plain step to the last bit; evaluation never augments.
  zero = make("affine", hparams={k: 0.0 for k in SETTINGS})
  (zero_state, zero_metrics), (plain_state, plain_metrics) = (
      jax.jit(train.train_step)(zero, batch, key), jax.jit(train.train_step)(make("none"), batch, key))
  chex.assert_trees_all_equal((zero_state.params, zero_state.opt_state, zero_metrics),
                              (plain_state.params, plain_state.opt_state, plain_metrics))
  chex.assert_trees_all_equal(train.evaluate(state, batch, key), train.evaluate(make("none"), batch, key))
