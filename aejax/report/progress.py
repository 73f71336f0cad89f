"""What a run records while it trains for the pictures drawn after it
(aejax.report.pictures): progress.npz, the reconstructions of the grid images at
the epochs of `progress_epochs`, and which test images the grids show. Nothing
here draws: a run that records only this needs no plotting library."""
import os

import numpy as np

PROGRESS_FILE = "progress.npz"
GRID_COLUMNS = 10   # test images in a row of the grids


def grid_indices(labels, n_test=None):
  """The test examples of the grids, GRID_COLUMNS at most: the first of each
  class present, in class order (of more classes, those of GRID_COLUMNS classes
  spread evenly over them); without labels (None) the first of the `n_test`
  test examples (None: as many as there are columns)."""
  if labels is None:
    return np.arange(min(GRID_COLUMNS, GRID_COLUMNS if n_test is None else n_test))
  labels = np.asarray(labels)
  classes = np.unique(labels)
  if len(classes) > GRID_COLUMNS:
    classes = classes[np.linspace(0, len(classes) - 1, GRID_COLUMNS).round().astype(int)]
  return np.array([np.flatnonzero(labels == c)[0] for c in classes])


def progress_epochs(total):
  """1, 2, 5, 10, 20, 50, ... up to `total`, and `total` itself."""
  marks = {m * 10 ** e for e in range(7) for m in (1, 2, 5)}
  return sorted(m for m in marks if m < total) + [total]


def read_progress(workdir):
  """{epoch: reconstructions} of progress.npz ({} without it)."""
  path = os.path.join(workdir, PROGRESS_FILE)
  return {int(k.split("_")[1]): v for k, v in np.load(path).items()} if os.path.exists(path) else {}


def _write_progress(workdir, by_epoch):
  path = os.path.join(workdir, PROGRESS_FILE)
  np.savez(path + ".tmp.npz", **{f"epoch_{e}": v for e, v in by_epoch.items()})
  os.replace(path + ".tmp.npz", path)


def record_progress(workdir, epoch, reconstructions):
  """Adds `reconstructions` ([n, H, W, C] pixels in [0, 1], those of the grid
  images after `epoch`) to progress.npz."""
  by_epoch = read_progress(workdir)
  by_epoch[epoch] = np.asarray(reconstructions)
  _write_progress(workdir, by_epoch)


def truncate_progress(workdir, last_epoch):
  """Drops the epochs after `last_epoch` from progress.npz: a resumed run redoes them."""
  by_epoch = read_progress(workdir)
  _write_progress(workdir, {e: v for e, v in by_epoch.items() if e <= last_epoch})
