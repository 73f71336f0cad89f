"""The benchmark's arithmetic (its timings are measured by running it, not in tests)."""
import importlib.util
import math
import os

import jax
import jax.numpy as jnp
from conftest import ROOT

from aejax import models

spec = importlib.util.spec_from_file_location("benchmark", os.path.join(ROOT, "experiments", "benchmark.py"))
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def test_layer_shapes_mirror_the_encoder():
  assert benchmark.layer_shapes(benchmark.REFERENCE) == [
      (1, 784, 128), (1, 128, 64), (1, 64, 12), (1, 12, 3), (1, 3, 12), (1, 12, 64), (1, 64, 128),
      (1, 128, 784)]
  # Convolutions: a row per output position (14x14, 7x7) of 3x3 patches; transposed ones a row
  # per input position (7x7, 14x14) giving 3x3 taps of each output channel.
  assert benchmark.layer_shapes(benchmark.CONV) == [
      (196, 9, 32), (49, 288, 64), (1, 3136, 256), (1, 256, 3), (1, 3, 256), (1, 256, 3136),
      (49, 64, 288), (196, 32, 9)]


def test_layer_shapes_hold_the_models_weights():
  for spec in (benchmark.REFERENCE, benchmark.DEEP, benchmark.CONV):
    fields = {k: v for k, v in spec.items() if k != "architecture"}
    model = models.ARCHITECTURES[spec["architecture"]](**fields)
    params = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 28, 28, 1)))["params"]
    kernels = sorted(math.prod(layer["kernel"].shape) for layer in params.values())
    assert kernels == sorted(i * o for _, i, o in benchmark.layer_shapes(spec))


def test_flops_per_sample_by_hand():
  # Sum of in x out over the 8 layers: 2 * (100352 + 8192 + 768 + 36) = 218696. Forward and
  # weight gradients for every layer, input gradients for all but the first (784 x 128).
  assert benchmark.flops_per_sample(benchmark.REFERENCE) == 2 * (3 * 218696 - 784 * 128)
  # Multiply-adds: 196*9*32 + 49*288*64 + 3136*256 + 256*3 twice each (the mirror) = 3526400;
  # the first convolution's input gradient 196*9*32 = 56448 is not computed.
  assert benchmark.flops_per_sample(benchmark.CONV) == 2 * (3 * 3526400 - 56448)


def test_training_images_repeat_the_real_digits():
  images = benchmark.training_images(9000)
  assert images.shape == (9000, 28, 28, 1)
  assert (images[4000:8000] == images[:4000]).all()
