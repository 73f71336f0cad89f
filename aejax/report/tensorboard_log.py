"""TensorBoard event files of a run, in WORKDIR/tensorboard, written with
tensorboardX (no TensorFlow needed); `tensorboard --logdir runs` shows every run.

During training, `ScalarLog` writes a scalar per metric and epoch (step = epoch).
A resumed run purges the steps after its checkpoint, so no step appears twice.
The analysis (`write_analysis`) adds the image grids as images, the progress
reconstructions at their epochs, the run's settings as text, and the test codes
as an embedding for the projector (image thumbnails as its sprite; the class and
each image's reconstruction MSE as metadata). Those live in their own event file
(suffix ANALYSIS_SUFFIX) and projector files, replaced by a new analysis.
"""
import glob
import os
import re
import shutil

import numpy as np


def _plots():
  """aejax.report.plots, imported when images are logged: it imports matplotlib (half a
  second), which a run that logs its scalars alone need not pay."""
  from aejax.report import plots  # pylint: disable=import-outside-toplevel
  return plots


def summary_writer(logdir, **kwargs):
  """tensorboardX's SummaryWriter, imported when first needed: tensorboardX imports
  PyTorch when it is installed (over a second), which a run without TensorBoard
  output (a sweep, a failed start, --help) need not pay."""
  from tensorboardX import SummaryWriter  # pylint: disable=import-outside-toplevel
  return SummaryWriter(logdir, **kwargs)


FOLDER = "tensorboard"
ANALYSIS_SUFFIX = ".analysis"
EMBEDDING_TAG = "test_codes"
TILE_HEIGHT = 56        # pixels: images are enlarged by a whole factor towards it
SPRITE_SIDE = 64        # pixels: the longest side of a projector thumbnail
MAX_SPRITE = 8192       # pixels: the side of the largest sprite TensorBoard loads
SCALARS = {  # metrics.jsonl key -> tag; per-pixel MSE in [0, 1] units, the objective in its own
    "train_mse": "per_pixel_mse/train",
    "test_mse": "per_pixel_mse/test",
    "validation_mse": "per_pixel_mse/validation",
    "train_loss": "objective/train",
    "test_loss": "objective/test",
    "grad_norm": "train/grad_norm",
    "samples_per_s": "train/samples_per_s",
}


def folder(workdir):
  return os.path.join(workdir, FOLDER)


class ScalarLog:
  """The per-epoch scalars of a training run. `resumed_from`: the epoch of the
  checkpoint a resumed run starts from (0 for a new run); events of later
  epochs from an earlier process are purged. The file name ends with the first
  epoch it holds, so that two files started in the same second stay apart."""

  def __init__(self, workdir, resumed_from=0):
    self.writer = summary_writer(folder(workdir), purge_step=resumed_from + 1 if resumed_from else None,
                                 filename_suffix=f".epoch{resumed_from + 1:06d}")

  def write(self, record):
    """Writes the scalars of one metrics.jsonl record at step record["epoch"]."""
    for key, tag in SCALARS.items():
      if record.get(key) is not None:
        self.writer.add_scalar(tag, record[key], record["epoch"])
    self.writer.flush()

  def close(self):
    self.writer.close()


def tile(images, gap=2, scale=None):
  """[n, H, W, C] pixels in [0, 1] (or uint8) -> [H', W', C] one row of images,
  `gap` pixels of white between them, enlarged `scale` times (None: the whole
  factor nearest TILE_HEIGHT / the longer side, at least 1)."""
  images = _plots().as_images(images)
  n, h, w, c = images.shape
  scale = scale or max(1, round(TILE_HEIGHT / max(h, w)))
  row = np.pad(images, ((0, 0), (0, 0), (0, gap), (0, 0)), constant_values=1.0)
  row = row.transpose(1, 0, 2, 3).reshape(h, n * (w + gap), c)[:, :n * (w + gap) - gap]
  return row.repeat(scale, axis=0).repeat(scale, axis=1)


def stack(rows, gap=4):
  """Rows of `tile`, one above the other, white between them: [H, W, C]."""
  width = max(r.shape[1] for r in rows)
  padded = [np.pad(r, ((0, gap), (0, width - r.shape[1]), (0, 0)), constant_values=1.0) for r in rows]
  return np.concatenate(padded)[:-gap]


def sprite_images(thumbnails):
  """[N, H, W, C] pixels -> [N, C, S, S] in [0, 1] as the projector takes them:
  shrunk by the least whole factor that brings the longer side to SPRITE_SIDE
  or less and the sprite to MAX_SPRITE or less, then centred on white squares
  (the projector's thumbnails are square)."""
  images = _plots().as_images(thumbnails)
  n, h, w, _ = images.shape
  longest = min(SPRITE_SIDE, MAX_SPRITE // int(np.ceil(np.sqrt(n))))
  images = _plots().shrink(images, int(np.ceil(max(h, w) / longest)))
  h, w = images.shape[1:3]
  side = max(h, w)
  top, left = (side - h) // 2, (side - w) // 2
  square = np.pad(images, ((0, 0), (top, side - h - top), (left, side - w - left), (0, 0)), constant_values=1.0)
  return square.transpose(0, 3, 1, 2)


def _clear_analysis(logdir):
  for path in glob.glob(os.path.join(logdir, f"events.out.tfevents.*{ANALYSIS_SUFFIX}")):
    os.remove(path)
  config = os.path.join(logdir, "projector_config.pbtxt")
  if os.path.exists(config):
    os.remove(config)
  for path in glob.glob(os.path.join(logdir, "*")):
    if os.path.isdir(path) and re.fullmatch(r"\d{5}", os.path.basename(path)):
      shutil.rmtree(path)


def write_analysis(workdir, step, grids, originals, progress, codes, labels, thumbnails, mse, text,
                   class_names=None):
  """Writes the analysis of a run at `step` (its last epoch), replacing an earlier one.

  grids: {tag: {row label: [n, H, W, C] pixels in [0, 1]}}, each an image;
  progress: {epoch: [n, H, W, C]} reconstructions of `originals` [n, H, W, C],
  an image per epoch at that step; codes [N, d], labels [N] (or None),
  thumbnails [N, H, W, C] in [0, 1] and mse [N] (per-pixel, [0, 1] units) make
  the projector's embedding, its metadata the class name, the label and the MSE
  (the MSE alone without labels), its sprite as `sprite_images` makes it;
  class_names: class index -> name (None: the label values); text: markdown
  shown under 'run'."""
  logdir = folder(workdir)
  os.makedirs(logdir, exist_ok=True)
  _clear_analysis(logdir)
  writer = summary_writer(logdir, filename_suffix=ANALYSIS_SUFFIX)
  try:
    for tag, rows in grids.items():
      writer.add_image(tag, stack([tile(r) for r in rows.values()]), step, dataformats="HWC")
    for epoch, reconstruction in sorted(progress.items()):
      writer.add_image("progress", stack([tile(originals), tile(reconstruction)]), epoch, dataformats="HWC")
    writer.add_text("run", text, step)
    mse = [f"{m:.4f}" for m in np.asarray(mse)]
    if labels is None:
      metadata, header = mse, None
    else:
      labels = np.asarray(labels).astype(int)
      names = [" ".join(name.split()) for name in _plots().class_names_of(labels, class_names)]
      metadata = [[names[c], int(c), m] for c, m in zip(labels, mse)]
      header = ["class", "label", "reconstruction_mse"]
    with np.errstate(invalid="ignore", over="ignore"):   # tensorboardX leaves the sprite's unused corner uninitialised
      writer.add_embedding(np.asarray(codes, np.float32), metadata=metadata, metadata_header=header,
                           label_img=sprite_images(thumbnails), global_step=step, tag=EMBEDDING_TAG)
  finally:
    writer.close()
