"""Orbax checkpoints of a training run: parameters, optimizer state, step and run key.

A checkpoint is numbered by the epoch it ends. Writes are asynchronous (training
goes on while one is written) and atomic: an unfinished one is never restored.
"""
import os

import jax
import numpy as np
import orbax.checkpoint as ocp

from aejax.errors import UserError


class CheckpointError(UserError):
  """No usable checkpoint where one was asked for."""


def manager(workdir, max_to_keep=3):
  """A CheckpointManager keeping the newest `max_to_keep` checkpoints in WORKDIR/checkpoints."""
  return ocp.CheckpointManager(
      os.path.join(os.path.abspath(workdir), "checkpoints"),
      options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True))


def _item(state, key):
  return {"params": state.params, "opt_state": state.opt_state, "step": state.step,
          "key": jax.random.key_data(key)}


def save(mngr, epoch, state, key):
  """Starts writing the checkpoint of `epoch` (state after that epoch, run key)."""
  mngr.save(epoch, args=ocp.args.StandardSave(_item(state, key)))


def restore(mngr, state, key, epoch=None):
  """(state, key, epoch) from checkpoint `epoch` (default: the newest) in the
  shapes and shardings of `state` and `key`."""
  epoch = mngr.latest_step() if epoch is None else epoch
  if epoch is None:
    raise CheckpointError(f"{mngr.directory}: no checkpoint to resume from")
  target = jax.tree.map(ocp.utils.to_shape_dtype_struct, _item(state, key))
  item = mngr.restore(epoch, args=ocp.args.StandardRestore(target))
  state = state.replace(params=item["params"], opt_state=item["opt_state"], step=item["step"])
  return state, jax.random.wrap_key_data(np.asarray(item["key"])), epoch
