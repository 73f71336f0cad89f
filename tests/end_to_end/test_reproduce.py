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
  summary = script.main(["--data-dir", mnist_dir, "--workdir", str(tmp_path / "run"), "--epochs", "3",
                         "--no-pictures"])
  out = capsys.readouterr().out
  assert summary["epochs"] == 3 and summary["pca_test_mse"] > 0
  ae, pca = summary["test_mse"] * 784, summary["pca_test_mse"] * 784
  assert printed(out, "deep autoencoder, test squared error per image") == (3.00, float(f"{ae:.5g}"))
  assert printed(out, "PCA with 30 components, test squared error per image") == (13.87, float(f"{pca:.5g}"))
  assert printed(out, "as a fraction of PCA's")[1] == float(f"{ae / pca:.5g}")
  assert "aejax measured on: idx:" in out and "256 training and 64 test images, 3 epochs" in out
  # --no-pictures: analysed, not drawn, and the run says how to draw it
  assert f"pictures and report not drawn: python experiments/analyze.py {tmp_path / 'run'}" in out
  assert not os.path.exists(tmp_path / "run" / "report.html")


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
  assert os.path.getsize(os.path.join(workdir, "prior_samples.png")) > 1000   # the VAE's own picture
  assert summary["test_nll_bits_per_dim"] == summary["test_nll"] / (784 * math.log(2))
  saved = json.load(open(os.path.join(workdir, "config.json")))
  assert (saved["binarize"], saved["widths"], saved["latent_dim"]) == ("dynamic", "500", 20)
  # trained on a new draw at every step, and scored on the test split drawn once
  _, state, eval_key, _ = experiment.load_run(workdir)
  assert state.augmentation == augmentations.Then(augmentations.identity, binarize.bernoulli)
  scored, grey = (train.evaluate(state, jnp.asarray(data.load(mnist_dir, binarize=mode).test_images),
                                 eval_key) for mode in ("dynamic", "none"))
  assert summary["test_mse"] == float(scored["mse"]) != float(grey["mse"])


def test_vincents_stacked_denoising_autoencoder_against_plain_autoencoders_fine_tuned(
    mnist_dir, tmp_path, capsys):
  """Vincent et al.'s comparison: two stacked runs, plain (sae) and masked 25 %
  (sdae), each fine-tuned with a softmax head; the paper's test errors beside
  the runs', in %, and their ratio."""
  script, workdir = reproduction("vincent2010"), tmp_path / "runs"
  tiny = ["--widths", "16", "--latent-dim", "16", "--pretrain-epochs", "1", "--finetune-epochs", "3",
          "--no-pictures"]
  summaries = script.main(["--data-dir", mnist_dir, f"--workdir={workdir}", *tiny])
  out = capsys.readouterr().out
  sae, sdae = summaries["sae"], summaries["sdae"]
  configs = {name: json.load(open(workdir / name / "config.json")) for name in summaries}
  assert [(c["corruption"], c["noise"]) for c in configs.values()] == [("none", 0.25), ("masking", 0.25)]
  assert (configs["sdae"]["widths"], configs["sdae"]["latent_dim"], configs["sdae"]["loss"]) == ("16", 16, "bce")
  for s in summaries.values():
    assert s["finetune_epochs"] == 3 and 0 <= s["finetuned_test_error"] <= 1
    assert [r["epochs"] for r in s["stages"][:2]] == [1, 1]
  errors = 100 * sdae["finetuned_test_error"], 100 * sae["finetuned_test_error"]
  assert printed(out, "SDAE-3 (masking 25 %)") == (1.28, float(f"{errors[0]:.5g}"))
  assert printed(out, "SAE-3 (plain autoencoders)") == (1.40, float(f"{errors[1]:.5g}"))
  ratio = printed(out, "the SDAE's error as a fraction")[1]
  assert ratio is None if errors[1] == 0 else ratio == float(f"{errors[0] / errors[1]:.5g}")
  assert "256 training and 64 test images, 1 pretraining epochs per layer, 3 epochs of fine-tuning" in out
