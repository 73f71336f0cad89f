import chex
import jax
import numpy as np

from aejax import models, optim, train
from aejax.run import checkpoints


def make_state(seed):
  return train.create_train_state(models.AutoEncoder(), jax.random.key(seed), optim.make_optimizer(),
                                  corruption="gaussian", noise=0.3)


def test_round_trip_restores_params_optimizer_step_and_key(tmp_path):
  images = jax.numpy.asarray(np.random.default_rng(0).integers(0, 256, (256, 28, 28, 1)), jax.numpy.uint8)
  state, _ = train.train_epoch(make_state(0), images, jax.random.key(1), 0, batch_size=64)
  mngr = checkpoints.manager(str(tmp_path), max_to_keep=2)
  for epoch in (1, 2, 3):
    checkpoints.save(mngr, epoch, state, jax.random.key(7))
  mngr.wait_until_finished()
  assert mngr.all_steps() == [2, 3]
  restored, key, epoch = checkpoints.restore(mngr, make_state(5), jax.random.key(0))
  assert epoch == 3 and int(restored.step) == 4
  chex.assert_trees_all_equal(restored.params, state.params)
  chex.assert_trees_all_equal(restored.opt_state, state.opt_state)
  chex.assert_trees_all_equal(jax.random.key_data(key), jax.random.key_data(jax.random.key(7)))


def test_exact_resume_of_the_fused_loop(tmp_path):
  images = jax.numpy.asarray(np.random.default_rng(0).integers(0, 256, (256, 28, 28, 1)), jax.numpy.uint8)
  key = jax.random.key(3)
  straight = make_state(0)
  for epoch in range(3):
    straight, _ = train.train_epoch(straight, images, key, epoch, batch_size=64)

  interrupted = make_state(0)
  interrupted, _ = train.train_epoch(interrupted, images, key, 0, batch_size=64)
  mngr = checkpoints.manager(str(tmp_path))
  checkpoints.save(mngr, 1, interrupted, key)
  mngr.wait_until_finished()
  resumed, key2, start = checkpoints.restore(mngr, make_state(9), jax.random.key(0))
  for epoch in range(start, 3):
    resumed, _ = train.train_epoch(resumed, images, key2, epoch, batch_size=64)
  chex.assert_trees_all_equal(resumed.params, straight.params)
  chex.assert_trees_all_equal(resumed.opt_state, straight.opt_state)
