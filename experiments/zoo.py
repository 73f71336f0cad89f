"""Every variant on the same split, seed and epoch budget, in one table beside PCA.

  python experiments/zoo.py --epochs 50 --latent-dim 3 --workdir runs/zoo-3d
  python experiments/zoo.py --epochs 50 --latent-dim 32 --workdir runs/zoo-32d
  python experiments/zoo.py --models ae,vae --epochs 5     # a subset

Each model of MODELS is a run of its experiment (a folder of --workdir, with its
summary.json and report.html), with evaluation and a checkpoint at the end only.
Writes zoo.json ({"rows": [...]}, PCA first), zoo.md and zoo.html. Per row:
test_mse (per-pixel MSE, [0, 1] units) and test_psnr (dB) of the clean test
digits; knn_accuracy, linear_probe_accuracy, trustworthiness and continuity of
the code (aejax.run.analysis); denoised_mse, the reconstruction of the test digits
under gaussian noise of std 0.5 against the clean ones (the same noise for every
model); seconds, the wall time of the run (pretraining, training and analysis;
for PCA the fit); parameters, the number of trained numbers.
"""
import html
import os
import shutil
import time

import jax
import jax.numpy as jnp
import numpy as np

from aejax import config, evaluators, train, units
from aejax.data import corruptions
from aejax.errors import UserError
from aejax.evaluators import pca
from aejax.run import cli, experiment

# id (its run folder and --models name): (row name, experiment, settings beyond the shared
# ones). A new model is one line.
MODELS = {
    "ae": ("AE", "ae", {}),
    "dae": ("DAE, gaussian 0.5", "dae", {"corruption": "gaussian", "noise": 0.5}),
    "sparse": ("sparse AE", "sparse", {}),
    "contractive": ("contractive AE", "contractive", {}),
    "vae": ("VAE", "vae", {}),
    "sdae": ("stacked DAE", "sdae", {}),
}
DENOISING = ("gaussian", 0.5)
# The summary's figures of every model: the columns the evaluators declare for any
# model (a DAE's or VAE's own ones too, n/a elsewhere); the zoo's denoising column
# is its own, the same corruption for every model. The zoo fine-tunes no encoder.
SUMMARY = [c for c in evaluators.columns() if not c.key.startswith(("pca_", "validation_"))
           and c.key not in ("noisy_input_mse", "denoised_mse", "finetuned_test_error")]
OWN = [evaluators.Column("denoised_mse", "denoised MSE", "denoised MSE",
                         "gaussian noise of std 0.5 undone, [0, 1] units", units="[0, 1] units"),
       evaluators.Column("seconds", "seconds", "seconds", "wall time of the run", fmt=".0f"),
       evaluators.Column("parameters", "parameters", "parameters", "trained numbers", fmt=",")]
COLUMNS = [*SUMMARY, *OWN]


def model_config(zoo, experiment_name, settings, workdir):
  """The config of one model: the zoo's shared settings, then the model's own."""
  cls = experiment.CONFIGS[experiment_name]
  names = cls.settings()
  shared = {k: v for k, v in zoo.flags().items() if k in names and k not in ("workdir", "overwrite")}
  return cls.from_flags(**{**shared, "eval_every": 0, "checkpoint_every": 0, **settings, "workdir": workdir})


def pca_row(summary, dataset, k, clean, noisy):
  tic = time.perf_counter()
  baseline = pca.fit(train.as_pixels(dataset.train_images), k)
  seconds = time.perf_counter() - tic
  denoised = np.clip(baseline.decode(baseline.encode(noisy)), 0, 1).reshape(clean.shape)
  row = {"name": f"PCA, {k} components", **{c.key: summary.get("pca_" + c.key) for c in SUMMARY}}
  row.update(denoised_mse=float(np.mean(np.square(denoised - clean))), seconds=seconds,
             parameters=int(baseline.components.size + baseline.mean.size))
  return row


def model_row(name, summary, state, clean, noisy, seconds):
  denoised = train.reconstruct(state, jnp.asarray(noisy))
  return {"name": name, **{c.key: summary.get(c.key) for c in SUMMARY},
          "denoised_mse": float(jnp.mean(units.per_pixel_mse(denoised, jnp.asarray(clean)))),
          "seconds": seconds, "parameters": int(sum(p.size for p in jax.tree.leaves(state.params)))}


def cell(value, spec):
  """A figure as shown in the tables; n/a where it was not measured (no labels)."""
  return "n/a" if value is None else format(value, spec)


def markdown(rows, zoo):
  head = "| model | " + " | ".join(c.short for c in COLUMNS) + " |\n" + "| --- " * (len(COLUMNS) + 1) + "|\n"
  return head + "".join(
      f"| {r['name']} | " + " | ".join(cell(r.get(c.key), c.fmt) for c in COLUMNS) + " |\n" for r in rows) + (
      f"\n{zoo.model.latent_dim}-d code, hidden widths {zoo.model.widths}, {zoo.optimiser.epochs} epochs "
      f"(the stacked DAE after {zoo.optimiser.pretrain_epochs} epochs of pretraining per layer), "
      f"batch {zoo.optimiser.batch_size}, seed "
      f"{zoo.run.seed}; MSE per pixel in [0, 1] units; denoised MSE under {DENOISING[0]} noise of std "
      f"{DENOISING[1]}; seconds: wall time of the run.\n")


def page(rows, zoo, source, links):
  esc = html.escape
  head = "".join(f'<th title="{esc(c.unit)}">{esc(c.short)}</th>' for c in COLUMNS)
  body = "".join(
      "<tr><td>" + (f'<a href="{esc(links[r["name"]])}">{esc(r["name"])}</a>' if r["name"] in links
                    else esc(r["name"])) + "</td>" +
      "".join(f"<td>{cell(r.get(c.key), c.fmt)}</td>" for c in COLUMNS) +
      "</tr>" for r in rows)
  return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>autoencoder zoo</title>
<style>body{{font-family:sans-serif;max-width:1300px;margin:2em auto}} td,th{{padding:2px 6px;text-align:right}}
table{{font-size:0.9em}}
td:first-child{{text-align:left}}</style></head><body>
<h1>Autoencoders, {zoo.model.latent_dim}-d code, {zoo.optimiser.epochs} epochs</h1>
<p>Test split of {esc(source)}, seed {zoo.run.seed}. MSE per pixel in [0, 1] units, PSNR in dB; denoised_mse:
reconstruction under {DENOISING[0]} noise of std {DENOISING[1]} against the clean digits; seconds: wall time
of the run; each model links to its report.</p>
<table><tr><th>model</th>{head}</tr>{body}</table></body></html>
"""


def chosen(zoo):
  """The ids of MODELS that --models names, in MODELS' order."""
  if zoo.model.models == "all":
    return list(MODELS)
  ids = [m.strip() for m in zoo.model.models.split(",")]
  unknown = [m for m in ids if m not in MODELS]
  if unknown or not ids:
    raise UserError(f"--models must be all or some of {', '.join(MODELS)}, separated by commas; "
                    f"got {zoo.model.models!r}")
  return [m for m in MODELS if m in ids]


def run(zoo):
  ids = chosen(zoo)
  for i in ids:   # every flag checked before anything is written
    model_config(zoo, MODELS[i][1], MODELS[i][2], None).check()
  workdir = zoo.run.workdir or experiment.new_workdir("zoo")
  dataset = experiment.load_data(zoo)   # bad data ends the zoo before an earlier one is replaced
  print(dataset.describe(), flush=True)
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise UserError(f"--workdir {workdir}: not a folder")
  held = set(os.listdir(workdir)) if os.path.isdir(workdir) else set()
  if held:
    ours = {"zoo.json", "zoo.md", "zoo.html", *MODELS}
    if not zoo.run.overwrite or not held <= ours:
      raise UserError(f"{workdir}: holds " + ("an earlier zoo; pass --overwrite to replace it" if held <= ours
                      else "files that are not a zoo's") + ", or choose another --workdir")
    shutil.rmtree(workdir)
  clean = train.as_pixels(dataset.test_images)
  noisy, rows, links = None, [], {}
  for i in ids:
    name, experiment_name, settings = MODELS[i]
    run_dir = os.path.join(workdir, i)
    tic = time.perf_counter()
    summary = experiment.run(model_config(zoo, experiment_name, settings, run_dir), name=experiment_name)
    seconds = time.perf_counter() - tic
    _, state, eval_key, _ = experiment.load_run(run_dir)
    if noisy is None:   # the same draw for every model: the same seed gives the same eval key
      noisy = np.asarray(corruptions.CORRUPTIONS[DENOISING[0]](eval_key, jnp.asarray(clean), DENOISING[1]))
    rows.append(model_row(name, summary, state, clean, noisy, seconds))
    if not zoo.run.no_pictures:
      links[name] = os.path.join(os.path.basename(run_dir), "report.html")
  rows.insert(0, pca_row(summary, dataset, zoo.model.latent_dim, clean, noisy))
  experiment.write_json(os.path.join(workdir, "zoo.json"),
                        {"rows": rows, "settings": zoo.flags(), "data_source": dataset.source})
  table = markdown(rows, zoo)
  with open(os.path.join(workdir, "zoo.md"), "w") as f:
    f.write(table)
  with open(os.path.join(workdir, "zoo.html"), "w") as f:
    f.write(page(rows, zoo, dataset.source, links))
  print(table, flush=True)
  return rows


def main(argv=None):
  return cli.main(config.ZooConfig, lambda zoo, given: run(zoo), argv)


if __name__ == "__main__":
  main()
