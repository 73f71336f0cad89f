"""The benchmark's arithmetic (its timings are measured by running it, not in tests)."""
import importlib.util
import os

from conftest import ROOT

spec = importlib.util.spec_from_file_location("benchmark", os.path.join(ROOT, "experiments", "benchmark.py"))
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def test_layer_shapes_mirror_the_encoder():
  assert benchmark.layer_shapes(benchmark.REFERENCE) == [
      (1, 784, 128), (1, 128, 64), (1, 64, 12), (1, 12, 3), (1, 3, 12), (1, 12, 64), (1, 64, 128),
      (1, 128, 784)]


def test_flops_per_sample_by_hand():
  # Sum of in x out over the 8 layers: 2 * (100352 + 8192 + 768 + 36) = 218696. Forward and
  # weight gradients for every layer, input gradients for all but the first (784 x 128).
  assert benchmark.flops_per_sample(benchmark.REFERENCE) == 2 * (3 * 218696 - 784 * 128)


def test_training_images_repeat_the_real_digits():
  images = benchmark.training_images(9000)
  assert images.shape == (9000, 784)
  assert (images[4000:8000] == images[:4000]).all()
