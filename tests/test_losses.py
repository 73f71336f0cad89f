import math

import chex
import jax.numpy as jnp
import numpy as np

from aejax import objectives, units


def test_per_pixel_mse_and_psnr_by_hand():
  # two 2x2 one-channel images: one figure per image, the mean over its pixel values
  a = jnp.array([[0.0, 0.5, 1.0, 1.0], [0.2, 0.2, 0.2, 0.2]]).reshape(2, 2, 2, 1)
  b = jnp.array([[0.0, 0.0, 0.0, 1.0], [0.2, 0.2, 0.2, 0.0]]).reshape(2, 2, 2, 1)
  mse = units.per_pixel_mse(a, b)
  chex.assert_shape(mse, (2,))
  chex.assert_trees_all_close(mse, jnp.array([(0.25 + 1.0) / 4, 0.04 / 4]))
  chex.assert_trees_all_close(units.psnr(jnp.array(0.01)), 20.0, rtol=1e-6)


def test_mse_objective_scores_in_minus_one_to_one_units():
  obj = objectives.MSE
  pixels = jnp.array([[0.0, 1.0, 0.5]])
  chex.assert_trees_all_close(obj.to_model(pixels), jnp.array([[-1.0, 1.0, 0.0]]))
  outputs = jnp.array([[-1.0, 0.0, 0.5]])   # targets -1, 1, 0
  chex.assert_trees_all_close(obj.per_example(outputs, pixels), jnp.array([(0 + 1 + 0.25) / 3]))
  chex.assert_trees_all_close(obj.to_pixels(outputs), jnp.array([[0.0, 0.5, 0.75]]))


def test_bce_by_hand_and_stable_for_large_logits():
  obj = objectives.BCE
  logits = jnp.array([[0.0, 2.0, -3.0]])
  pixels = jnp.array([[1.0, 0.25, 0.0]])
  sig = lambda t: 1 / (1 + math.exp(-t))
  expected = -np.mean([math.log(sig(0.0)),
                       0.25 * math.log(sig(2.0)) + 0.75 * math.log(1 - sig(2.0)),
                       math.log(1 - sig(-3.0))])
  chex.assert_trees_all_close(obj.per_example(logits, pixels), jnp.array([expected]), rtol=1e-6)
  huge = obj.per_example(jnp.array([[1e4, -1e4]]), jnp.array([[0.0, 1.0]]))
  chex.assert_tree_all_finite(huge)
  chex.assert_trees_all_close(huge, jnp.array([1e4]), rtol=1e-6)
