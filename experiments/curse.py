"""The curse of dimensionality: distances concentrate as the dimension grows.

  python experiments/curse.py                       # about 20 s on 2 CPU cores
  python experiments/curse.py --workdir runs/ae-... # use that run's trained code
  python experiments/curse.py --data images.npz     # other images (as experiments/ae.py's --data)

For uniform points in [0, 1]^d, the relative contrast (max - min) / min of the
distances from a query to n points falls towards 0 as d grows: near and far
neighbours become alike. The same measure is taken in the images' pixel space
(784-d for MNIST) and in the 3-d code space of a trained autoencoder (that of
--workdir, or one trained here for 20 epochs and not saved). Writes curse.png,
curse.pdf and curse.json into --out (default runs/curse) and says where.
"""
import json
import os

import jax
import numpy as np

from aejax import config, errors, train
from aejax.evaluators import metrics
from aejax.report import plots
from aejax.run import cli, experiment

DIMS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 784, 1000)


def relative_contrast(points, n_queries=100, seed=0):
  """Median over queries (up to `n_queries` drawn from `points`) of (max - min) / min
  of the distances from the query to every other point."""
  rng = np.random.default_rng(seed)
  n_queries = min(n_queries, len(points))
  queries = rng.choice(len(points), n_queries, replace=False)
  d = np.sqrt(metrics.squared_distances(points[queries], points))
  d[np.arange(n_queries), queries] = np.nan
  lo, hi = np.nanmin(d, axis=1), np.nanmax(d, axis=1)
  return float(np.median((hi - lo) / lo))


def trained_state(workdir, dataset):
  if workdir:
    cfg, state, _, _ = experiment.load_run(workdir)
    experiment.check_shape(cfg, dataset)
    return state, workdir
  cfg = config.AEConfig.from_flags(epochs=20, image_shape="x".join(map(str, dataset.image_shape)))
  state, key, _ = experiment.build(cfg)
  images = jax.device_put(dataset.train_images)
  for epoch in range(cfg.optimiser.epochs):
    state, _ = train.train_epoch(state, images, key, epoch, batch_size=cfg.optimiser.batch_size)
  return state, "reference AE trained here for 20 epochs"


def run(args):
  rng = np.random.default_rng(0)
  contrasts = [relative_contrast(rng.random((args.data.points, d))) for d in DIMS]
  dataset = experiment.load_data(args)
  print(dataset.describe(), flush=True)
  if len(dataset.test_images) < 10 or (not args.run.workdir and len(dataset.train_images) < 128):
    raise errors.UserError(f"{dataset.source}: {len(dataset.test_images)} test and "
                           f"{len(dataset.train_images)} training images; curse.py needs at least 10 "
                           "test images, and 128 training images to train its autoencoder")
  pixels = np.asarray(train.as_pixels(dataset.test_images[: args.data.points]), np.float64)
  pixels = pixels.reshape(len(pixels), -1)
  state, source = trained_state(args.run.workdir, dataset)
  codes = np.asarray(train.encode(state, dataset.test_images[: args.data.points]), np.float64)
  points = {f"{dataset.name} pixels ({pixels.shape[1]}-d)": (pixels.shape[1], relative_contrast(pixels)),
            f"AE codes ({codes.shape[1]}-d, {source})": (codes.shape[1], relative_contrast(codes))}
  out_dir = args.run.out
  os.makedirs(out_dir, exist_ok=True)
  plots.save(plots.curse(DIMS, contrasts, points), os.path.join(out_dir, "curse.png"))
  result = {"dims": list(DIMS), "uniform_relative_contrast": contrasts,
            "points": {k: {"dim": d, "relative_contrast": v} for k, (d, v) in points.items()}}
  with open(os.path.join(out_dir, "curse.json"), "w") as f:
    json.dump(result, f, indent=2)
  for d, c in zip(DIMS, contrasts):
    print(f"uniform d={d:<5} (max - min) / min = {c:8.3f}")
  for k, (d, v) in points.items():
    print(f"{k:<52} {v:8.3f}")
  print(f"wrote curse.png, curse.pdf and curse.json in {out_dir}", flush=True)
  return result


def main(argv=None):
  return cli.main(config.CurseConfig, lambda args, given: run(args), argv)


if __name__ == "__main__":
  main()
