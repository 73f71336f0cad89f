"""TensorBoard event files: a resumed run's scalars replace, never repeat, the epochs after its checkpoint;
the analysis's images and projector embedding hold images of any shape, grey or colour."""
import io
import os
import re

import numpy as np
from conftest import colour_images, read_scalars
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from aejax.report import tensorboard_log


def record(epoch, mse):
  return {"epoch": epoch, "train_loss": 4 * mse, "train_mse": mse, "grad_norm": 1.0,
          "test_loss": None, "test_mse": mse if epoch % 2 == 0 else None, "samples_per_s": 1000.0}


def test_resume_purges_the_epochs_after_its_checkpoint(tmp_path):
  workdir = str(tmp_path)
  first = tensorboard_log.ScalarLog(workdir)
  for epoch in range(1, 6):            # the first process reached epoch 5, its checkpoint holds epoch 3
    first.write(record(epoch, 0.1 / epoch))
  first.close()
  resumed = tensorboard_log.ScalarLog(workdir, resumed_from=3)
  for epoch in range(4, 8):
    resumed.write(record(epoch, 0.5 / epoch))
  resumed.close()
  assert len([f for f in os.listdir(tensorboard_log.folder(workdir)) if f.startswith("events")]) == 2
  train = read_scalars(workdir, "per_pixel_mse/train")
  assert [s for s, _ in train] == [1, 2, 3, 4, 5, 6, 7]
  assert np.allclose([v for _, v in train], [0.1, 0.05, 0.1 / 3, 0.125, 0.1, 0.5 / 6, 0.5 / 7])
  assert [s for s, _ in read_scalars(workdir, "per_pixel_mse/test")] == [2, 4, 6]   # only evaluated epochs


def test_a_new_analysis_replaces_the_previous_one(tmp_path):
  workdir = str(tmp_path)
  digits = np.random.default_rng(0).random((4, 28, 28, 1))
  codes = np.random.default_rng(1).normal(size=(4, 3))
  for step in (3, 5):
    tensorboard_log.write_analysis(workdir, step, {"reconstructions": {"a": digits, "b": digits}}, digits,
                                   {1: digits, step: digits}, codes, [0, 1, 2, 3], digits, [0.1] * 4, "| a | b |")
  board = tensorboard_log.folder(workdir)
  events = EventAccumulator(board, size_guidance={"images": 0})
  events.Reload()
  assert [e.step for e in events.Images("reconstructions")] == [5]
  assert [e.step for e in events.Images("progress")] == [1, 5]
  with open(os.path.join(board, "projector_config.pbtxt")) as f:
    assert f.read().count("embeddings {") == 1
  assert sorted(d for d in os.listdir(board) if os.path.isdir(os.path.join(board, d))) == ["00005"]


def read_images(workdir, tag):
  """[(step, [H, W, 3] uint8)] of an image tag, as TensorBoard reads them."""
  events = EventAccumulator(tensorboard_log.folder(workdir), size_guidance={"images": 0})
  events.Reload()
  return [(e.step, np.asarray(Image.open(io.BytesIO(e.encoded_image_string)).convert("RGB")))
          for e in events.Images(tag)]


def projector_files(workdir):
  """(sprite [S, S, 3] uint8, single image side, metadata lines) of the analysis's embedding."""
  board = tensorboard_log.folder(workdir)
  with open(os.path.join(board, "projector_config.pbtxt")) as f:
    config = f.read()
  folder = re.search(r'tensor_path: "(.*)/tensors.tsv"', config).group(1)
  sides = {int(v) for v in re.findall(r"single_image_dim: (\d+)", config)}
  with open(os.path.join(board, folder, "metadata.tsv")) as f:
    metadata = f.read().splitlines()
  sprite = np.asarray(Image.open(os.path.join(board, folder, "sprite.png")).convert("RGB"))
  return sprite, sides, metadata


def test_colour_images_and_their_projector_sprite(tmp_path):
  workdir, rng = str(tmp_path), np.random.default_rng(2)
  labels = np.array([0, 1, 2, 2, 1])
  images = colour_images(labels) / 255.0
  codes = rng.normal(size=(5, 3))
  tensorboard_log.write_analysis(workdir, 4, {"reconstructions": {"original": images[:3], "again": images[:3]}},
                                 images[:3], {2: images[:3] * 0.5}, codes, labels, images, [0.1] * 5, "| a |",
                                 ("china", "flower", "cat"))
  ((step, grid),) = read_images(workdir, "reconstructions")
  assert step == 4 and grid.shape == (2 * 24 + 4, 3 * 42 - 2, 3)   # 24 x 40 at scale 1, 2 px and 4 px gaps
  for c in range(3):
    assert np.abs(grid[:24, c * 42:c * 42 + 40] / 255.0 - images[c]).max() <= 1 / 255
    assert np.abs(grid[28:, c * 42:c * 42 + 40] / 255.0 - images[c]).max() <= 1 / 255
  ((_, progress),) = read_images(workdir, "progress")
  assert np.abs(progress[28:52, 42:82] / 255.0 - images[1] * 0.5).max() <= 1 / 255
  sprite, sides, metadata = projector_files(workdir)
  assert sides == {40} and sprite.shape == (3 * 40, 3 * 40, 3)   # 24 x 40 centred on 40 x 40 white squares
  for k in range(5):
    top, left = (k // 3) * 40, (k % 3) * 40
    assert np.abs(sprite[top + 8:top + 32, left:left + 40] / 255.0 - images[k]).max() <= 1 / 255, k
    margins = np.concatenate([sprite[top:top + 8, left:left + 40], sprite[top + 32:top + 40, left:left + 40]])
    assert np.all(margins == 255), k
  assert metadata[0].split("\t") == ["class", "label", "reconstruction_mse"]
  assert [line.split("\t")[:2] for line in metadata[1:]] == [
      ["china", "0"], ["flower", "1"], ["cat", "2"], ["cat", "2"], ["flower", "1"]]


def test_grey_images_and_unlabelled_embedding(tmp_path):
  workdir, rng = str(tmp_path), np.random.default_rng(3)
  grey = rng.random((6, 8, 8, 1))
  tensorboard_log.write_analysis(workdir, 2, {"traversals": {"z1": grey}}, grey[:2], {}, rng.normal(size=(6, 2)),
                                 None, grey, np.arange(6) / 10, "| a |")
  ((_, grid),) = read_images(workdir, "traversals")
  assert grid.shape == (8 * 7, (6 * 10 - 2) * 7, 3)   # 8 x 8 enlarged 7 times
  assert np.all(grid[..., 0] == grid[..., 1]) and np.all(grid[..., 1] == grid[..., 2])
  assert np.abs(grid[::7, :8 * 7:7, 0] / 255.0 - grey[0, ..., 0]).max() <= 1 / 255
  sprite, sides, metadata = projector_files(workdir)
  assert sides == {8} and metadata == [f"{m:.4f}" for m in np.arange(6) / 10]   # one column, no header
  assert np.abs(sprite[8:16, 8:16, 0] / 255.0 - grey[4, ..., 0]).max() <= 1 / 255


def test_projector_thumbnails_are_square_and_fit_tensorboard(monkeypatch):
  many = np.random.default_rng(4).random((100, 100, 60, 3)).astype(np.float32)
  square = tensorboard_log.sprite_images(many)
  assert square.shape == (100, 3, 50, 50)   # halved to fit SPRITE_SIDE, then squared
  assert np.all(square[:, :, :, :10] == 1) and np.allclose(square[0, :, 0, 10], many[0, :2, :2].mean((0, 1)))
  monkeypatch.setattr(tensorboard_log, "MAX_SPRITE", 340)   # 10 thumbnails a row: at most 34 pixels
  side = tensorboard_log.sprite_images(many).shape[2]
  assert side == 34 and 10 * side <= tensorboard_log.MAX_SPRITE
  assert tensorboard_log.sprite_images(many[:3, :28, :28]).shape == (3, 3, 28, 28)
