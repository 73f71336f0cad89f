"""The analysis of a trained state: metrics of the learned manifold beside PCA,
the pictures, and report.html. A training run ends with it, and
experiments/analyze.py repeats it from a checkpoint with the same result.
"""
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

from aejax import corruptions, losses, metrics, pca, plots, report, stacked, tensorboard_log, train
from aejax.objectives import variational

PROGRESS_FILE = "progress.npz"
DENOISING_LEVELS = (0.1, 0.3, 0.5, 0.7)
N_NEIGHBOURHOOD = 2000   # test digits for trustworthiness and continuity
PICTURES = {  # each also as PDF (plots.vector_path)
    "reconstructions.png": "Test digits (one per class) and their reconstructions; for a DAE also "
                           "the corrupted digits and their reconstruction (denoised).",
    "progress.png": "The same test digits reconstructed at several epochs through training.",
    "latent.png": "The codes of the test digits, coloured by class: the 3-d view beside the 2-d "
                  "projections z1-z2, z1-z3 and z2-z3, every axis on the same scale.",
    "traversals.png": "Each row sweeps one code axis across the range the test codes occupy "
                      "(2nd to 98th percentile), the other axes held at the median code.",
    "interpolation.png": "Decoded points on the straight line between the codes of two test digits, "
                         "with the two real digits at its ends.",
    "curves.png": "Per-pixel MSE ([0, 1] units) of train and test over the epochs with PCA's as a "
                  "reference, and the training objective in its own units.",
}


PRIOR_SAMPLES = {"prior_samples.png": "Digits decoded from codes drawn from the prior N(0, I) "
                                      "(variational models)."}


def pictures(config):
  """{file name: caption} of the pictures of a run of `config`."""
  return {**PICTURES, **(PRIOR_SAMPLES if getattr(config, "variational", False) else {})}


def outputs(config=None):
  """Names of what `draw` writes into a workdir: each picture, its PDF,
  report.html and the TensorBoard folder."""
  names = pictures(config)
  return [*names, *(os.path.basename(plots.vector_path(p)) for p in names), "report.html",
          tensorboard_log.FOLDER]


def grid_indices(labels):
  """The first test example of each digit class, in class order."""
  return np.array([np.flatnonzero(labels == c)[0] for c in np.unique(labels)])


def progress_epochs(total):
  """1, 2, 5, 10, 20, 50, ... up to `total`, and `total` itself."""
  marks = {m * 10 ** e for e in range(7) for m in (1, 2, 5)}
  return sorted(m for m in marks if m < total) + [total]


def _read_progress(workdir):
  path = os.path.join(workdir, PROGRESS_FILE)
  return {int(k.split("_")[1]): v for k, v in np.load(path).items()} if os.path.exists(path) else {}


def _write_progress(workdir, by_epoch):
  path = os.path.join(workdir, PROGRESS_FILE)
  np.savez(path + ".tmp.npz", **{f"epoch_{e}": v for e, v in by_epoch.items()})
  os.replace(path + ".tmp.npz", path)


def record_progress(workdir, epoch, reconstructions):
  """Adds `reconstructions` ([n, P] pixels in [0, 1], those of the grid digits after
  `epoch`) to progress.npz."""
  by_epoch = _read_progress(workdir)
  by_epoch[epoch] = np.asarray(reconstructions)
  _write_progress(workdir, by_epoch)


def truncate_progress(workdir, last_epoch):
  """Drops the epochs after `last_epoch` from progress.npz: a resumed run redoes them."""
  by_epoch = _read_progress(workdir)
  _write_progress(workdir, {e: v for e, v in by_epoch.items() if e <= last_epoch})


@functools.partial(jax.jit, static_argnames=("corruption",))
def denoising_errors(state, pixels, key, level, *, corruption):
  """(corrupted-input MSE, denoised MSE), per pixel in [0, 1] units, of `pixels`
  corrupted by `corruption` at `level` (traced: no recompilation per level)."""
  noisy = corruptions.CORRUPTIONS[corruption](key, pixels, level)
  denoised = train.reconstruct(state, noisy)
  return (jnp.mean(losses.per_pixel_mse(noisy, pixels)),
          jnp.mean(losses.per_pixel_mse(denoised, pixels)))


@jax.jit
def grid_rows(state, pixels, key):
  """(corrupted pixels, their reconstruction, the reconstruction of the clean ones)."""
  noisy = state.corruption(key, pixels, state.noise)
  return noisy, train.reconstruct(state, noisy), train.reconstruct(state, pixels)


def code_metrics(train_codes, test_codes, dataset, neighbourhood, test_pixels):
  """kNN and linear-probe accuracy, trustworthiness and continuity of a code."""
  return {
      "knn_accuracy": metrics.knn_accuracy(train_codes, dataset.train_labels, test_codes,
                                           dataset.test_labels, k=5),
      "linear_probe_accuracy": metrics.linear_probe_accuracy(
          train_codes, dataset.train_labels, test_codes, dataset.test_labels),
      "trustworthiness": metrics.trustworthiness(test_pixels[neighbourhood], test_codes[neighbourhood]),
      "continuity": metrics.continuity(test_pixels[neighbourhood], test_codes[neighbourhood]),
  }


def test_metrics(config, test):
  """The summary's figures of a test evaluation (`train.evaluate`'s means)."""
  test = jax.device_get(test)
  out = {"test_mse": float(test["mse"]), "test_psnr": losses.psnr(test["mse"]),
         "test_loss": float(test["loss"])}
  if config.corruption != "none":
    out.update(corruption=config.corruption, noise=config.noise,
               noisy_input_mse=float(test["noisy_input_mse"]),
               denoised_mse=float(test["denoised_mse"]),
               denoised_psnr=losses.psnr(test["denoised_mse"]))
  return out


def analyze(workdir, config, dataset, state, eval_key, history, test=None, provenance=None):
  """Writes the pictures and report.html into `workdir`; returns the metrics for
  summary.json. Deterministic in (config, dataset, state, eval_key).

  test: `train.evaluate(state, test_images, eval_key)` if the caller has it
  already (the final epoch's evaluation), else computed here. provenance: the
  dict of aejax.provenance.collect, shown in the report."""
  out, test_codes = summary_metrics(config, dataset, state, eval_key, test)
  out.update(stacked.read_records(workdir))
  test_pixels = dataset.test_images.astype(np.float32) / 255.0
  draw(workdir, config, dataset, state, eval_key, test_pixels, test_codes, history, out, provenance)
  return out


def pca_metrics(latent_dim, dataset):
  """The PCA baseline's figures (pca_test_mse, pca_knn_accuracy, ...) with
  `latent_dim` components: the same for every model of a sweep."""
  train_pixels = dataset.train_images.astype(np.float32) / 255.0
  test_pixels = dataset.test_images.astype(np.float32) / 255.0
  neighbourhood = metrics.subset(len(test_pixels), N_NEIGHBOURHOOD)
  baseline = pca.fit(train_pixels, latent_dim)
  pca_train, pca_test = baseline.encode(train_pixels), baseline.encode(test_pixels)
  pca_mse = float(np.mean(np.square(np.clip(baseline.decode(pca_test), 0, 1) - test_pixels)))
  out = {"pca_test_mse": pca_mse, "pca_test_psnr": losses.psnr(pca_mse)}
  out.update({f"pca_{k}": v for k, v in
              code_metrics(pca_train, pca_test, dataset, neighbourhood, test_pixels).items()})
  return out


def summary_metrics(config, dataset, state, eval_key, test=None, pca_figures=None):
  """(the metrics of `analyze`, the test codes [N, latent_dim]), without pictures:
  what a sweep reports for each of its models. pca_figures: `pca_metrics` if
  the caller has them already."""
  test_pixels = dataset.test_images.astype(np.float32) / 255.0
  if test is None:
    test = train.evaluate(state, jnp.asarray(dataset.test_images), eval_key)
  out = test_metrics(config, test)
  if config.variational and config.loss == "bce":
    out["test_negative_elbo"] = float(variational.negative_elbo(state, jnp.asarray(test_pixels), eval_key))

  train_codes = np.asarray(train.encode(state, dataset.train_images), np.float64)
  test_codes = np.asarray(train.encode(state, dataset.test_images), np.float64)
  neighbourhood = metrics.subset(len(test_codes), N_NEIGHBOURHOOD)
  out.update(code_metrics(train_codes, test_codes, dataset, neighbourhood, test_pixels))
  out.update(pca_figures or pca_metrics(config.latent_dim, dataset))

  if config.corruption != "none":
    table = []
    for name in sorted(c for c in corruptions.CORRUPTIONS if c != "none"):
      trained = name == config.corruption
      for level in sorted({*DENOISING_LEVELS, *([config.noise] if trained else [])}):
        if trained and level == config.noise:   # the headline's own evaluation
          noisy_mse, denoised_mse = out["noisy_input_mse"], out["denoised_mse"]
        else:
          noisy_mse, denoised_mse = map(float, denoising_errors(
              state, jnp.asarray(test_pixels), eval_key, level, corruption=name))
        table.append({"corruption": name, "level": level, "noisy_input_mse": noisy_mse,
                      "denoised_mse": denoised_mse,
                      "psnr_gain_db": losses.psnr(denoised_mse) - losses.psnr(noisy_mse)})
    out["denoising"] = table
  return out, test_codes


def draw(workdir, config, dataset, state, eval_key, test_pixels, test_codes, history, out,
         provenance=None):
  """Every picture of PICTURES (PNG and PDF), report.html, and TensorBoard's
  images and embedding. `provenance` None: what summary.json records, if anything."""
  path = lambda name: os.path.join(workdir, name)
  kind = report.run_kind(config)
  labels = dataset.test_labels
  idx = grid_indices(labels)
  originals = test_pixels[idx]
  noisy, denoised, reconstruction = map(np.asarray, grid_rows(state, jnp.asarray(originals), eval_key))
  rows = {"original": originals}
  if config.corruption != "none":
    rows["corrupted"] = noisy
    rows["denoised"] = denoised
  rows["reconstruction"] = reconstruction
  plots.save(plots.image_grid(rows, title=f"{kind}\n{report.headline(config, out)} (per-pixel MSE, [0, 1] units)"),
             path("reconstructions.png"))

  by_epoch = dict(sorted(_read_progress(workdir).items()))
  plots.save(plots.image_grid({"original": originals, **{f"epoch {e}": v for e, v in by_epoch.items()}},
                              title=f"{kind}: the clean test digits reconstructed through training"),
             path("progress.png"))

  plots.save(plots.latent_scatter(test_codes, labels, f"{kind}: {len(test_codes)} test codes, "
                                  "equal scale on every axis (code units)"), path("latent.png"))

  lo, mid, hi = np.percentile(test_codes, [2, 50, 98], axis=0)
  steps = np.linspace(0.0, 1.0, 10)
  traversal_rows = {}
  for axis in range(config.latent_dim):
    z = np.repeat(mid[None, :], len(steps), axis=0)
    z[:, axis] = lo[axis] + steps * (hi[axis] - lo[axis])
    traversal_rows[f"z{axis + 1}: {lo[axis]:.1f}..{hi[axis]:.1f}"] = np.asarray(train.decode(state, z))
  plots.save(plots.image_grid(traversal_rows, title=f"{kind}: latent traversals, one row per code axis"),
             path("traversals.png"))

  a, b = idx[0], idx[1]
  za, zb = test_codes[a], test_codes[b]
  line = za[None, :] + steps[:, None] * (zb - za)[None, :]
  decoded = np.asarray(train.decode(state, line))
  plots.save(plots.image_grid(
      {"decoded": np.concatenate([test_pixels[a][None], decoded, test_pixels[b][None]])},
      title=f"{kind}: decoded points on the line from the code of a test {labels[a]} to that of a "
            f"test {labels[b]}, the two real digits at its ends",
      col_labels=["real"] + ["t = 0"] + [""] * (len(steps) - 2) + ["t = 1", "real"]),
      path("interpolation.png"))

  plots.save(plots.loss_curves(history, config.loss, f"{kind}: training curves",
                               pca_mse=out.get("pca_test_mse"), pca_components=config.latent_dim),
             path("curves.png"))
  if config.variational:
    plots.save(plots.image_grid({"decoded": np.asarray(train.decode(
        state, variational.prior_samples(eval_key, 10, config.latent_dim)))},
        title=f"{kind}: decoded from codes drawn from the prior N(0, I)"), path("prior_samples.png"))

  if provenance is None:
    provenance = report.read_recorded_provenance(workdir)
  shown = metrics.subset(len(test_codes), N_NEIGHBOURHOOD)
  view = report.view_data(test_codes[shown], labels[shown], dataset.test_images[shown],
                          np.asarray(train.reconstruct(state, jnp.asarray(test_pixels[shown]))))
  report.write(path("report.html"), config, dataset.source, out, pictures(config), workdir, view,
               provenance, history)

  step = history[-1]["epoch"] if history else config.epochs
  tensorboard_log.write_analysis(
      workdir, step, {"reconstructions": rows, "traversals": traversal_rows},
      originals, by_epoch, test_codes[shown], labels[shown], test_pixels[shown], np.array(view["mse"]),
      "| | |\n| --- | --- |\n" + "".join(f"| {k} | {v} |\n"
                                          for k, v in report.provenance_rows(config, provenance, history)))
