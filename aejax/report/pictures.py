"""The pictures of a trained state (each a PNG and a PDF), report.html and
TensorBoard's images and embedding. aejax.run.analysis computes the metrics they
show; aejax.report.progress holds what training recorded for them.
"""
import os

import jax
import jax.numpy as jnp
import numpy as np

from aejax import config as config_lib, train, variants
from aejax.evaluators import metrics
from aejax.objectives import variational
from aejax.report import plots, run_page, tensorboard_log
from aejax.report.progress import GRID_COLUMNS, grid_indices, read_progress

PICTURES = {  # each also as PDF (plots.vector_path)
    "reconstructions.png": "Test images (one per class, of up to ten classes; the first ten without labels) and "
                           "their reconstructions; for a DAE also the corrupted images and their reconstruction "
                           "(denoised).",
    "progress.png": "The same test images reconstructed at several epochs through training.",
    "latent.png": "The codes of the test images, coloured by class: the 3-d view beside the 2-d "
                  "projections on each pair of its axes (z1, z2, z3; for a longer code, its first "
                  "three principal axes), every axis on the same scale.",
    "traversals.png": "Each row sweeps one code axis across the range the test codes occupy "
                      "(2nd to 98th percentile), the other axes held at the median code; of a code "
                      "longer than 16, the 16 axes along which the test codes spread widest.",
    "interpolation.png": "Decoded points on the straight line between the codes of two test images, "
                         "with the two real images at its ends.",
    "curves.png": "Per-pixel MSE ([0, 1] units) of train and test over the epochs with PCA's as a "
                  "reference, and the training objective in its own units.",
}
TRAVERSED_AXES = 16   # the most code axes the traversals show


def traversed_axes(lo, hi):
  """The code axes the traversals sweep, in axis order: every axis of a code of at
  most TRAVERSED_AXES, else the TRAVERSED_AXES whose range hi - lo ([d] each) is widest."""
  spread = np.asarray(hi) - np.asarray(lo)
  if len(spread) <= TRAVERSED_AXES:
    return list(range(len(spread)))
  return sorted(np.argsort(-spread, kind="stable")[:TRAVERSED_AXES].tolist())


# The pictures a variant declares (aejax.variants.pictures): {file name: caption}.
VARIANT_PICTURES = {"prior_samples.png": "Images decoded from codes drawn from the prior N(0, I) "
                                         "(variational models)."}


def pictures(config):
  """{file name: caption} of the pictures of a run of `config` (None: those of every run)."""
  own = variants.pictures(config) if config is not None else ()
  return {**PICTURES, **{name: VARIANT_PICTURES[name] for name in own}}


def outputs(config=None):
  """Names of what `draw` writes into a workdir: each picture, its PDF,
  report.html and the TensorBoard folder."""
  names = pictures(config)
  return [*names, *(os.path.basename(plots.vector_path(p)) for p in names), "report.html",
          tensorboard_log.FOLDER]


@jax.jit
def grid_rows(state, pixels, key):
  """(corrupted pixels, their reconstruction, the reconstruction of the clean ones)."""
  noisy = state.corruption(key, pixels, state.noise)
  return noisy, train.reconstruct(state, noisy), train.reconstruct(state, pixels)


def _named(class_names):
  """Whether class names say more than the class index ("cat", not "3")."""
  return tuple(class_names) != tuple(str(c) for c in range(len(class_names)))


def draw(workdir, config, dataset, state, eval_key, test_pixels, test_codes, history, out,
         provenance=None):
  """Every picture of PICTURES (PNG and PDF), report.html, and TensorBoard's
  images and embedding. dataset: test_images [N, H, W, C] (uint8, or float in
  [0, 1]), test_labels [N] or None, class_names, image_shape (H, W, C), source;
  test_pixels [N, H, W, C] in [0, 1]; test_codes [N, d]. `provenance` None: what
  summary.json records, if anything."""
  path = lambda name: os.path.join(workdir, name)
  images = lambda x: np.asarray(x).reshape(-1, *dataset.image_shape)
  kind = run_page.run_kind(config)
  labels = dataset.test_labels
  names = plots.class_names_of(labels, dataset.class_names) if labels is not None else ()
  idx = grid_indices(labels, len(test_pixels))
  originals = test_pixels[idx]
  noisy, denoised, reconstruction = map(images, grid_rows(state, jnp.asarray(originals), eval_key))
  columns = [names[labels[i]] for i in idx] if labels is not None and _named(names) else None
  rows = {"original": originals}
  if variants.denoising(config):
    rows["corrupted"] = noisy
    rows["denoised"] = denoised
  rows["reconstruction"] = reconstruction
  plots.save(plots.image_grid(rows, title=f"{kind}\n{run_page.headline(config, out)}",
                              col_labels=columns), path("reconstructions.png"))

  by_epoch = {e: images(v) for e, v in sorted(read_progress(workdir).items())}
  plots.save(plots.image_grid({"original": originals, **{f"epoch {e}": v for e, v in by_epoch.items()}},
                              title=f"{kind}: the clean test images reconstructed through training",
                              col_labels=columns), path("progress.png"))

  plots.save(plots.latent_scatter(test_codes, labels, f"{kind}: {len(test_codes)} test codes, "
                                  "equal scale on every axis (code units)", names), path("latent.png"))

  lo, mid, hi = np.percentile(test_codes, [2, 50, 98], axis=0)
  steps = np.linspace(0.0, 1.0, 10)
  traversal_rows = {}
  axes = traversed_axes(lo, hi)
  for axis in axes:
    z = np.repeat(mid[None, :], len(steps), axis=0)
    z[:, axis] = lo[axis] + steps * (hi[axis] - lo[axis])
    traversal_rows[f"z{axis + 1}: {lo[axis]:.1f}..{hi[axis]:.1f}"] = images(train.decode(state, z))
  which = ("one row per code axis" if len(axes) == config.model.latent_dim else
           f"one row for each of the {len(axes)} of {config.model.latent_dim} code axes of widest spread")
  plots.save(plots.image_grid(traversal_rows, title=f"{kind}: latent traversals, {which}"),
             path("traversals.png"))

  a, b = idx[0], idx[1] if len(idx) > 1 else min(1, len(test_pixels) - 1)
  za, zb = test_codes[a], test_codes[b]
  line = za[None, :] + steps[:, None] * (zb - za)[None, :]
  decoded = images(train.decode(state, line))
  ends = (f"a test {names[labels[a]]} to that of a test {names[labels[b]]}" if labels is not None
          else f"test image {a + 1} to that of test image {b + 1}")
  plots.save(plots.image_grid(
      {"decoded": np.concatenate([test_pixels[a][None], decoded, test_pixels[b][None]])},
      title=f"{kind}: decoded points on the line from the code of {ends}, the two real images at its ends",
      col_labels=["real"] + ["t = 0"] + [""] * (len(steps) - 2) + ["t = 1", "real"]),
      path("interpolation.png"))

  plots.save(plots.loss_curves(history, config.objective.loss, f"{kind}: training curves",
                               pca_mse=out.get("pca_test_mse"), pca_components=config.model.latent_dim,
                               denoising=variants.denoising(config),
                               regularised=bool(config_lib.regularisers(config))),
             path("curves.png"))
  if "prior_samples.png" in variants.pictures(config):
    plots.save(plots.image_grid({"decoded": images(train.decode(
        state, variational.prior_samples(eval_key, GRID_COLUMNS, config.model.latent_dim)))},
        title=f"{kind}: decoded from codes drawn from the prior N(0, I)"), path("prior_samples.png"))

  if provenance is None:
    provenance = run_page.read_recorded_provenance(workdir)
  shown = metrics.subset(len(test_codes), metrics.N_NEIGHBOURHOOD)
  shown_labels = None if labels is None else labels[shown]
  view = run_page.view_data(test_codes[shown], shown_labels, dataset.test_images[shown],
                          images(train.reconstruct(state, jnp.asarray(test_pixels[shown]))), names)
  run_page.write(path("report.html"), config, dataset.source, out, pictures(config), workdir, view,
               provenance, history)

  step = history[-1]["epoch"] if history else config.optimiser.epochs
  tensorboard_log.write_analysis(
      workdir, step, {"reconstructions": rows, "traversals": traversal_rows},
      originals, by_epoch, test_codes[shown], shown_labels, test_pixels[shown], np.array(view["mse"]),
      "| | |\n| --- | --- |\n" + "".join(f"| {k} | {v} |\n"
                                          for k, v in run_page.provenance_rows(config, provenance, history)),
      names)
