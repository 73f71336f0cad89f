"""The reproduction scripts of experiments/reproduce at a tiny budget: each runs its
paper's setting and prints the paper's figure beside its own, in the paper's units."""
import importlib.util
import json
import math
import os
import re

import jax.numpy as jnp
from conftest import ROOT

from aejax import data, train
from aejax.data import augmentations, binarize
from aejax.run import experiment


def reproduction(name):
  spec = importlib.util.spec_from_file_location(
      name, os.path.join(ROOT, "experiments", "reproduce", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def printed(out, what):
  """(paper, aejax) figures printed under the claim line ending in `what`."""
  block = out[out.index(what):]
  paper, ours = re.search(r"paper (\S+), aejax (\S+ ?\S*) \(", block).groups()
  return float(paper), (None if ours == "not measured" else float(ours))


def test_hinton_and_salakhutdinovs_autoencoder_against_pca_in_squared_error_per_image(
    mnist_dir, tmp_path, capsys):
  script = reproduction("hinton2006")
  summary = script.main(["--data-dir", mnist_dir, "--workdir", str(tmp_path / "run"), "--epochs", "3"])
  out = capsys.readouterr().out
  assert summary["epochs"] == 3 and summary["pca_test_mse"] > 0
  ae, pca = summary["test_mse"] * 784, summary["pca_test_mse"] * 784
  assert printed(out, "deep autoencoder, test squared error per image") == (3.00, float(f"{ae:.5g}"))
  assert printed(out, "PCA with 30 components, test squared error per image") == (13.87, float(f"{pca:.5g}"))
  assert printed(out, "as a fraction of PCA's")[1] == float(f"{ae / pca:.5g}")
  assert "aejax measured on: idx:" in out and "256 training and 64 test images, 3 epochs" in out


def test_the_flax_examples_vae_on_binarised_digits_against_its_negative_elbo(mnist_dir, tmp_path, capsys):
  """The Flax example's VAE, here on digits binarised anew at every step (--binarize
  dynamic, the test split drawn once): the paper's figures beside the run's negative
  ELBO, and its importance-weighted NLL, which lies below it."""
  script, workdir = reproduction("flax_vae"), str(tmp_path / "run")
  script.main(["--data-dir", mnist_dir, "--workdir", workdir, "--epochs", "10", "--nll-samples", "16",
               "--binarize", "dynamic", "--no-analysis"])
  assert printed(capsys.readouterr().out, "after 10 epochs") == (104.0, None)   # no analysis: not measured
  summary = script.main(["--data-dir", mnist_dir, "--workdir", workdir, "--resume"])
  out = capsys.readouterr().out
  assert printed(out, "after 30 epochs") == (100.86, None)
  assert printed(out, "after 10 epochs") == (104.0, float(f"{summary['test_negative_elbo']:.5g}"))
  assert f"aejax's test NLL: {summary['test_nll']:.2f} nats per image (importance-weighted, k = 16)" in out
  assert 0 < summary["test_nll"] <= summary["test_negative_elbo"] and summary["nll_samples"] == 16
  assert summary["test_nll_bits_per_dim"] == summary["test_nll"] / (784 * math.log(2))
  saved = json.load(open(os.path.join(workdir, "config.json")))
  assert (saved["binarize"], saved["widths"], saved["latent_dim"]) == ("dynamic", "500", 20)
  # trained on a new draw at every step, and scored on the test split drawn once
  _, state, eval_key, _ = experiment.load_run(workdir)
  assert state.augmentation == augmentations.Then(augmentations.identity, binarize.bernoulli)
  scored, grey = (train.evaluate(state, jnp.asarray(data.load(mnist_dir, binarize=mode).test_images),
                                 eval_key) for mode in ("dynamic", "none"))
  assert summary["test_mse"] == float(scored["mse"]) != float(grey["mse"])
