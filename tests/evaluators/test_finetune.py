"""Supervised fine-tuning of an encoder with a softmax head (aejax.evaluators.finetune),
on scikit-learn's real 8x8 digits."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import small_digits

from aejax import config, models, optim, train
from aejax.evaluators import finetune, metrics
from aejax.run import workdir


def test_fine_tuning_trains_the_encoder_with_the_head_and_counts_errors_exactly():
  """From a random 2-d code, on which a softmax regression alone is weak, training
  the encoder with the head classifies the held-out digits far better; the error is
  the share of argmax mistakes of the classifier's logits; the run's parameters are
  left as they were, and the same key gives the same classifier."""
  images, labels = small_digits()
  images = images[..., None]
  train_x, train_y, test_x, test_y = images[:1400], labels[:1400], images[1400:], labels[1400:]
  model = models.AutoEncoder(widths=(64,), latent_dim=2, image_shape=(8, 8, 1))
  state = train.create_train_state(model, jax.random.key(0), optim.make_optimizer())
  before = jax.tree.map(np.array, state.params)
  codes = [np.asarray(train.encode(state, x), np.float64) for x in (train_x, test_x)]
  probe_error = 1 - metrics.linear_probe_accuracy(codes[0], train_y, codes[1], test_y)

  params, losses = finetune.finetune(state, train_x, train_y, 10, jax.random.key(1), epochs=30,
                                     lr=3e-3, batch_size=128)
  error = finetune.error(state, params, test_x, test_y)
  assert error < 0.4 and error < probe_error - 0.3, (error, probe_error)
  assert losses.shape == (30,) and losses[-1] < losses[0] / 3
  predicted = np.argmax(np.asarray(finetune.logits(state, params, jnp.asarray(test_x))), axis=-1)
  assert error == np.mean(predicted != test_y)
  jax.tree.map(np.testing.assert_array_equal, jax.tree.map(np.array, state.params), before)
  again, _ = finetune.finetune(state, train_x, train_y, 10, jax.random.key(1), epochs=30, lr=3e-3,
                               batch_size=128)
  jax.tree.map(np.testing.assert_array_equal, again, params)


def test_a_stacked_run_written_before_fine_tuning_existed_reads_as_none(tmp_path):
  """config.json of an SDAE run lacking --finetune-epochs (and the newer --strides,
  and possibly the groups before it) reads with 0: what that version did; one lacking
  an earlier group but not it is damaged."""
  saved = {"experiment": "sdae", **config.SDAEConfig().flags(), "resumptions": []}
  groups = config.SDAEConfig.ADDED_LATER
  assert groups[-2:] == (("finetune_epochs",), ("strides",))
  newer = groups[-1]
  for missing, readable in ((groups[-2] + newer, True), (groups[-3] + groups[-2] + newer, True),
                            (groups[-2], False), (groups[-3] + newer, False)):
    with open(tmp_path / "config.json", "w") as f:
      json.dump({k: v for k, v in saved.items() if k not in missing}, f)
    if readable:
      assert workdir.read_config(str(tmp_path))[1]["finetune_epochs"] == 0
    else:
      with pytest.raises(workdir.WorkdirError, match="not a config this version can read"):
        workdir.read_config(str(tmp_path))
