"""Binarised images, as the likelihood literature uses them: each pixel a Bernoulli
draw with its grey level in [0, 1] as the probability of white, so that a Bernoulli
decoder's log-likelihood is a log-probability of the data (in nats) and comparable
with papers' figures on binarised MNIST.

  static    every split drawn once at load time with a fixed seed (one binary dataset;
            TFDS's binarized_mnist is one such draw, made by Larochelle and Murray)
  dynamic   the training images drawn anew at every step, input and target alike
            (`bernoulli`, composed after any augmentation); the test and validation
            splits drawn once with a fixed seed, so that every evaluation scores the
            same binary images

Binary images are stored as uint8 0 or 255 ([0, 1] pixels 0 or 1).
"""
import dataclasses

import jax
import numpy as np

MODES = ("none", "dynamic", "static")
SEED = 2016   # of the draws made once (numpy's generator, the same on every machine)


def draw(images, seed):
  """[N, H, W, C] images (uint8 0..255, or floats in [0, 1]) -> uint8 0/255 images,
  pixel p white with probability p, from numpy's generator seeded with `seed`."""
  pixels = images / 255.0 if images.dtype == np.uint8 else np.asarray(images, np.float64)
  return np.where(np.random.default_rng(seed).random(images.shape) < pixels, 255, 0).astype(np.uint8)


def binarized(dataset, mode):
  """`dataset` as the mode asks: "static": every split drawn once; "dynamic": the
  test and validation splits drawn once (training images stay grey, drawn at every
  step by the train state's `bernoulli`); "none": unchanged. Each split has its own
  seed (SEED + 0, 1, 2 for train, test, validation)."""
  if mode not in MODES:
    raise ValueError(f"binarisation {mode!r}, expected one of {MODES}")
  if mode == "none":
    return dataset
  drawn = {"test_images": draw(dataset.test_images, SEED + 1)}
  if dataset.validation_images is not None:
    drawn["validation_images"] = draw(dataset.validation_images, SEED + 2)
  if mode == "static":
    drawn["train_images"] = draw(dataset.train_images, SEED)
  return dataclasses.replace(dataset, **drawn)


def bernoulli(key, pixels, settings):
  """[B, H, W, C] pixels in [0, 1] -> 0/1 pixels of the same dtype, each white with
  probability its grey level: dynamic binarisation, as an augmentation."""
  del settings
  return jax.random.bernoulli(key, pixels).astype(pixels.dtype)
