"""TensorBoard event files of a run, in WORKDIR/tensorboard, written with
tensorboardX (no TensorFlow needed); `tensorboard --logdir runs` shows every run.

During training, `ScalarLog` writes a scalar per metric and epoch (step = epoch).
A resumed run purges the steps after its checkpoint, so no step appears twice.
The analysis (`write_analysis`) adds the digit grids as images, the progress
reconstructions at their epochs, the run's settings as text, and the test codes
as an embedding for the projector (digit thumbnails as its sprite; the class and
each digit's reconstruction MSE as metadata). Those live in their own event file
(suffix ANALYSIS_SUFFIX) and projector files, replaced by a new analysis.
"""
import glob
import os
import re
import shutil

import numpy as np


def summary_writer(logdir, **kwargs):
  """tensorboardX's SummaryWriter, imported when first needed: tensorboardX imports
  PyTorch when it is installed (over a second), which a run without TensorBoard
  output (a sweep, a failed start, --help) need not pay."""
  from tensorboardX import SummaryWriter  # pylint: disable=import-outside-toplevel
  return SummaryWriter(logdir, **kwargs)


FOLDER = "tensorboard"
ANALYSIS_SUFFIX = ".analysis"
EMBEDDING_TAG = "test_codes"
SCALARS = {  # metrics.jsonl key -> tag; per-pixel MSE in [0, 1] units, the objective in its own
    "train_mse": "per_pixel_mse/train",
    "test_mse": "per_pixel_mse/test",
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


def tile(images, side=28, gap=2, scale=2):
  """[n, side*side] pixels in [0, 1] -> [H, W] one row of digits, enlarged `scale` times."""
  images = np.clip(np.asarray(images, np.float32), 0, 1).reshape(-1, side, side)
  row = np.ones((side, len(images) * (side + gap) - gap), np.float32)
  for i, image in enumerate(images):
    row[:, i * (side + gap):i * (side + gap) + side] = image
  return np.kron(row, np.ones((scale, scale), np.float32))


def stack(rows, gap=4):
  """Rows of `tile`, one above the other, white between them."""
  width = max(r.shape[1] for r in rows)
  padded = [np.pad(r, ((0, gap), (0, width - r.shape[1])), constant_values=1.0) for r in rows]
  return np.concatenate(padded)[:-gap]


def _clear_analysis(logdir):
  for path in glob.glob(os.path.join(logdir, f"events.out.tfevents.*{ANALYSIS_SUFFIX}")):
    os.remove(path)
  config = os.path.join(logdir, "projector_config.pbtxt")
  if os.path.exists(config):
    os.remove(config)
  for path in glob.glob(os.path.join(logdir, "*")):
    if os.path.isdir(path) and re.fullmatch(r"\d{5}", os.path.basename(path)):
      shutil.rmtree(path)


def write_analysis(workdir, step, grids, originals, progress, codes, labels, thumbnails, mse, text):
  """Writes the analysis of a run at `step` (its last epoch), replacing an earlier one.

  grids: {tag: {row label: [n, 784] pixels in [0, 1]}}, each an image; progress:
  {epoch: [n, 784]} reconstructions of `originals` [n, 784], an image per epoch
  at that step; codes [N, d], labels [N], thumbnails [N, 784] in
  [0, 1] and mse [N] (per-pixel, [0, 1] units) make the projector's embedding;
  text: markdown shown under 'run'."""
  logdir = folder(workdir)
  os.makedirs(logdir, exist_ok=True)
  _clear_analysis(logdir)
  writer = summary_writer(logdir, filename_suffix=ANALYSIS_SUFFIX)
  try:
    for tag, rows in grids.items():
      writer.add_image(tag, stack([tile(r) for r in rows.values()]), step, dataformats="HW")
    for epoch, reconstruction in sorted(progress.items()):
      writer.add_image("progress", stack([tile(originals), tile(reconstruction)]), epoch, dataformats="HW")
    writer.add_text("run", text, step)
    labels = np.asarray(labels)
    writer.add_embedding(
        np.asarray(codes, np.float32),
        metadata=[[int(l), f"{m:.4f}"] for l, m in zip(labels, np.asarray(mse))],
        metadata_header=["digit", "reconstruction_mse"],
        label_img=np.clip(np.asarray(thumbnails, np.float32), 0, 1).reshape(-1, 1, 28, 28),
        global_step=step, tag=EMBEDDING_TAG)
  finally:
    writer.close()
