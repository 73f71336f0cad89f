"""Orbax checkpoints of a training run: parameters, optimizer state, step and run key.

A checkpoint is numbered by the epoch it ends. Writes are asynchronous (training
goes on while one is written) and atomic: an unfinished one is never restored.
"""
import contextlib
import gc
import inspect
import logging
import os
import sys
import time
import types
import warnings

import jax
import numpy as np
import orbax.checkpoint as ocp

from aejax.errors import UserError


class CheckpointError(UserError):
  """No usable checkpoint where one was asked for."""


def manager(workdir, max_to_keep=3, create=True):
  """A CheckpointManager keeping the newest `max_to_keep` checkpoints in
  WORKDIR/checkpoints, created if absent (with `create`). A `checkpoints` that
  is not a folder raises CheckpointError naming it."""
  path = os.path.join(os.path.abspath(workdir), "checkpoints")
  if os.path.lexists(path) and not os.path.isdir(path):
    raise CheckpointError(f"{path}: not a folder of checkpoints")
  return ocp.CheckpointManager(
      path, options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=create))


def _item(state, key):
  return {"params": state.params, "opt_state": state.opt_state, "step": state.step,
          "key": np.asarray(jax.random.key_data(key))}  # on the host: the same in every process


def save(mngr, epoch, state, key):
  """Starts writing the checkpoint of `epoch` (state after that epoch, run key)."""
  mngr.save(epoch, args=ocp.args.StandardSave(_item(state, key)))


def restore(mngr, state, key):
  """(state, key, epoch) from the newest usable checkpoint, in the shapes and
  shardings of `state` and `key`. An unreadable or non-finite checkpoint is
  skipped with a warning that names it; unfinished writes are never listed."""
  target = jax.tree.map(ocp.utils.to_shape_dtype_struct, _item(state, key))
  for epoch in sorted(mngr.all_steps(), reverse=True):
    try:
      with _stderr_held_back():
        item = mngr.restore(epoch, args=ocp.args.StandardRestore(target))
      if not all(np.all(np.isfinite(x)) for x in jax.tree.leaves((item["params"], item["opt_state"]))):
        raise ValueError("non-finite values")
    except Exception as e:  # pylint: disable=broad-except  (any failure: try an older one)
      print(f"warning: checkpoint {os.path.join(str(mngr.directory), str(epoch))} is unusable "
            f"({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}); "
            "trying an older one", file=sys.stderr, flush=True)
      continue
    opt_state = item["opt_state"]
    if hasattr(state.opt_state, "hyperparams"):  # lr and weight decay: the config's in force
      opt_state = opt_state._replace(hyperparams=state.opt_state.hyperparams)
    state = state.replace(params=item["params"], opt_state=opt_state, step=item["step"])
    return state, jax.random.wrap_key_data(np.asarray(item["key"])), epoch
  raise CheckpointError(f"{mngr.directory}: no usable checkpoint to resume from")


_ORBAX_READ = "_read_array_index_and_device_put"   # the coroutine that reads one array


def _echo(raised):
  """Whether an unraisable exception is an echo of a failed restore: TensorStore's
  callback into Orbax's closed event loop, or an abandoned array read finalised."""
  return ((isinstance(raised.exc_value, RuntimeError) and str(raised.exc_value) == "Event loop is closed")
          or (inspect.iscoroutine(raised.object) and raised.object.cr_code.co_name == _ORBAX_READ))


def _close_abandoned_reads():
  """Closes the array reads a failed Orbax restore left suspended (or never started) in its closed
  event loop. Each would otherwise raise its read error when Python finalises it,
  at whatever later moment, as an "Exception ignored in" report of some 60 lines."""
  coroutine = types.CoroutineType   # compared by type: the heap of a large process holds millions of objects
  for thing in gc.get_objects():
    if (type(thing) is coroutine and thing.cr_frame is not None and not thing.cr_running
        and thing.cr_code.co_name == _ORBAX_READ):
      try:
        thing.close()
      except Exception:  # pylint: disable=broad-except  (its read error: already reported)
        pass


@contextlib.contextmanager
def _stderr_held_back(settle_s=0.3):
  """Orbax's restore with the process's stderr (file descriptor 2) sent to the void,
  and, if it fails, for `settle_s` after. A failed restore closes Orbax's event loop
  while TensorStore still reads the other arrays: each read then prints a "RuntimeError:
  Event loop is closed" traceback from TensorStore's threads, and asyncio logs its
  unawaited tasks (and Python's unraisable hook hears the same error), dozens of
  lines in all. The failure itself is reported by `restore`'s one warning line;
  its echoes are not."""
  sys.stderr.flush()
  saved = os.dup(2)
  try:
    with open(os.devnull, "w", encoding="utf-8") as void:
      os.dup2(void.fileno(), 2)
      log = logging.getLogger("asyncio")
      disabled, log.disabled = log.disabled, True
      hook = sys.unraisablehook
      sys.unraisablehook = lambda raised: None if _echo(raised) else hook(raised)
      try:
        yield
      except Exception:
        time.sleep(settle_s)
        with warnings.catch_warnings():
          # a read Orbax made but never started says, when finalised, that it was never awaited:
          # each is closed before the collection finalises any
          warnings.filterwarnings("ignore", f"coroutine '{_ORBAX_READ}' was never awaited", RuntimeWarning)
          _close_abandoned_reads()
          gc.collect()
          _close_abandoned_reads()
        raise
      finally:
        log.disabled = disabled
        sys.unraisablehook = hook
  finally:
    os.dup2(saved, 2)
    os.close(saved)


def set_aside_newer(mngr, epoch):
  """Renames the checkpoints newer than `epoch` (those `restore` found unusable)
  to `unusable-<epoch>`: their epochs are trained again, and Orbax writes no
  checkpoint over an existing one. Nothing is deleted."""
  newer = [s for s in mngr.all_steps() if s > epoch]
  for step in newer:
    old = os.path.join(str(mngr.directory), str(step))
    new, n = f"{os.path.join(str(mngr.directory), 'unusable')}-{step}", 1
    while os.path.exists(new):
      n += 1
      new = f"{os.path.join(str(mngr.directory), 'unusable')}-{step}-{n}"
    os.rename(old, new)
    print(f"warning: the unusable checkpoint {old} is kept as {new}", file=sys.stderr, flush=True)
  if newer:
    mngr.reload()
