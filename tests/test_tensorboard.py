"""TensorBoard event files: a resumed run's scalars replace, never repeat, the epochs after its checkpoint."""
import os

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from aejax import tensorboard_log


def read_scalars(workdir, tag):
  events = EventAccumulator(tensorboard_log.folder(workdir), size_guidance={"scalars": 0})
  events.Reload()
  return [(e.step, e.value) for e in events.Scalars(tag)]


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
  digits = np.random.default_rng(0).random((4, 784))
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
