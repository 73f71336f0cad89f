"""The analysis of a trained state: metrics of the learned manifold beside PCA,
then the pictures and report.html (aejax.report.pictures) that show them. A training run
ends with it, and experiments/analyze.py repeats it from a checkpoint with the
same result.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from aejax import stacked, train, units, variants
from aejax.data import corruptions
from aejax.evaluators import metrics, pca
from aejax.objectives import variational
from aejax.report import pictures

DENOISING_LEVELS = (0.1, 0.3, 0.5, 0.7)


@functools.partial(jax.jit, static_argnames=("corruption",))
def denoising_errors(state, pixels, key, level, *, corruption):
  """(corrupted-input MSE, denoised MSE), per pixel in [0, 1] units, of `pixels`
  corrupted by `corruption` at `level` (traced: no recompilation per level)."""
  noisy = corruptions.CORRUPTIONS[corruption](key, pixels, level)
  denoised = train.reconstruct(state, noisy)
  return (jnp.mean(units.per_pixel_mse(noisy, pixels)),
          jnp.mean(units.per_pixel_mse(denoised, pixels)))


UNLABELLED = "no labels: the kNN accuracy and the linear probe are not measured"


def code_metrics(train_codes, test_codes, dataset, neighbourhood, test_pixels):
  """kNN and linear-probe accuracy (labelled data only), trustworthiness and
  continuity of a code; test_pixels: [N, H, W, C] in [0, 1]."""
  near = test_pixels[neighbourhood].reshape(len(neighbourhood), -1)
  out = {}
  if dataset.labelled:
    out["knn_accuracy"] = metrics.knn_accuracy(train_codes, dataset.train_labels, test_codes,
                                               dataset.test_labels, k=5)
  if dataset.labelled and len(np.unique(dataset.train_labels)) > 1:
    out["linear_probe_accuracy"] = metrics.linear_probe_accuracy(
        train_codes, dataset.train_labels, test_codes, dataset.test_labels)
  if len(near) > 2 * metrics.NEIGHBOURS:
    out["trustworthiness"] = metrics.trustworthiness(near, test_codes[neighbourhood])
    out["continuity"] = metrics.continuity(near, test_codes[neighbourhood])
  return out


def notes(dataset):
  """What the analysis of `dataset` leaves out, and why."""
  out = [UNLABELLED] if not dataset.labelled else []
  if dataset.labelled and len(np.unique(dataset.train_labels)) < 2:
    out.append("one class in the training split: the linear probe is not measured")
  if len(dataset.test_images) <= 2 * metrics.NEIGHBOURS:
    out.append(f"{len(dataset.test_images)} test images: trustworthiness and continuity need "
               f"more than {2 * metrics.NEIGHBOURS}")
  return out


def test_metrics(config, test):
  """The summary's figures of a test evaluation (`train.evaluate`'s means)."""
  test = jax.device_get(test)
  out = {"test_mse": float(test["mse"]), "test_psnr": units.psnr(test["mse"]),
         "test_loss": float(test["loss"])}
  if variants.denoising(config):
    out.update(corruption=config.corruption, noise=config.noise,
               noisy_input_mse=float(test["noisy_input_mse"]),
               denoised_mse=float(test["denoised_mse"]),
               denoised_psnr=units.psnr(test["denoised_mse"]))
  return out


def validation_metrics(config, dataset, state, eval_key):
  """validation_mse (for a DAE also validation_denoised_mse) of the validation
  split, per-pixel MSE in [0, 1] units; {} without one."""
  if dataset.validation_images is None:
    return {}
  measured = jax.device_get(train.evaluate(state, jnp.asarray(dataset.validation_images), eval_key))
  return {f"validation_{k}": float(measured[k]) for k in variants.figures(config)}


def analyze(workdir, config, dataset, state, eval_key, history, test=None, provenance=None):
  """Writes the pictures and report.html into `workdir`; returns the metrics for
  summary.json. Deterministic in (config, dataset, state, eval_key).

  test: `train.evaluate(state, test_images, eval_key)` if the caller has it
  already (the final epoch's evaluation), else computed here. provenance: the
  dict of aejax.run.provenance.collect, shown in the report."""
  out, test_codes = summary_metrics(config, dataset, state, eval_key, test)
  if variants.pretrains(config):
    out.update(stacked.read_records(workdir))
  test_pixels = train.as_pixels(dataset.test_images)
  pictures.draw(workdir, config, dataset, state, eval_key, test_pixels, test_codes, history, out, provenance)
  return out


def pca_metrics(latent_dim, dataset):
  """The PCA baseline's figures (pca_test_mse, pca_knn_accuracy, ...) with
  `latent_dim` components: the same for every model of a sweep."""
  train_pixels = train.as_pixels(dataset.train_images)
  test_pixels = train.as_pixels(dataset.test_images)
  neighbourhood = metrics.subset(len(test_pixels), metrics.N_NEIGHBOURHOOD)
  baseline = pca.fit(train_pixels, latent_dim)
  pca_train, pca_test = baseline.encode(train_pixels), baseline.encode(test_pixels)
  flat = test_pixels.reshape(len(test_pixels), -1)
  pca_mse = float(np.mean(np.square(np.clip(baseline.decode(pca_test), 0, 1) - flat)))
  out = {"pca_test_mse": pca_mse, "pca_test_psnr": units.psnr(pca_mse)}
  out.update({f"pca_{k}": v for k, v in
              code_metrics(pca_train, pca_test, dataset, neighbourhood, test_pixels).items()})
  return out


def summary_metrics(config, dataset, state, eval_key, test=None, pca_figures=None):
  """(the metrics of `analyze`, the test codes [N, latent_dim]), without pictures:
  what a sweep reports for each of its models. pca_figures: `pca_metrics` if
  the caller has them already."""
  test_pixels = train.as_pixels(dataset.test_images)
  if test is None:
    test = train.evaluate(state, jnp.asarray(dataset.test_images), eval_key)
  out = test_metrics(config, test)
  if variants.scored_by_elbo(config):
    out["test_negative_elbo"] = float(variational.negative_elbo(state, jnp.asarray(test_pixels), eval_key))

  train_codes = np.asarray(train.encode(state, dataset.train_images), np.float64)
  test_codes = np.asarray(train.encode(state, dataset.test_images), np.float64)
  neighbourhood = metrics.subset(len(test_codes), metrics.N_NEIGHBOURHOOD)
  out.update(code_metrics(train_codes, test_codes, dataset, neighbourhood, test_pixels))
  out.update(pca_figures or pca_metrics(config.latent_dim, dataset))
  out.update(validation_metrics(config, dataset, state, eval_key))
  left_out = notes(dataset)
  if left_out:
    out["notes"] = left_out

  if variants.denoising(config):
    table = []
    for name in sorted(corruptions.NOISY):
      trained = name == config.corruption
      for level in sorted({*DENOISING_LEVELS, *([config.noise] if trained else [])}):
        if trained and level == config.noise:   # the headline's own evaluation
          noisy_mse, denoised_mse = out["noisy_input_mse"], out["denoised_mse"]
        else:
          noisy_mse, denoised_mse = map(float, denoising_errors(
              state, jnp.asarray(test_pixels), eval_key, level, corruption=name))
        table.append({"corruption": name, "level": level, "noisy_input_mse": noisy_mse,
                      "denoised_mse": denoised_mse,
                      "psnr_gain_db": units.psnr(denoised_mse) - units.psnr(noisy_mse)})
    out["denoising"] = table
  return out, test_codes
