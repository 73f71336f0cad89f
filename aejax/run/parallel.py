"""Data parallelism: a 1-d device mesh with a `data` axis; batches are split along
it, parameters and optimizer state are replicated, and XLA inserts the gradient
all-reduce. The same program runs on one CPU, many GPUs or many processes.

Several processes (on one machine or many) form one run through JAX's own
distributed runtime: each process runs the same program over all the devices of
all processes (multi-controller SPMD). `initialize_distributed` joins them.
"""
import contextlib
import itertools
import os
import threading
import time
import traceback

import jax
import numpy as np
from jax._src import distributed as jax_distributed  # its client, as Orbax reaches it
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding, PartitionSpec as P

from aejax.errors import PeerError, RunError, UserError, abandon

DISTRIBUTED_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")
JOIN_TIMEOUT_ENV = "AEJAX_JOIN_TIMEOUT"
JOIN_TIMEOUT_S = 120     # how long process 0 waits for every peer to join, and they for it
PEER_TIMEOUT_ENV = "AEJAX_PEER_TIMEOUT"
PEER_TIMEOUT_S = 30      # a peer not heard from for this long ends the run (`PeerWatch`)
LAST_STATE = "the newest checkpoint holds the last finished state"   # where a lost peer leaves the run


def _cluster_detected():
  """A cluster that jax.distributed can describe itself: SLURM or Open MPI with more
  than one task."""
  for name in ("SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
    value = os.environ.get(name, "")
    if value.isdigit() and int(value) > 1:
      return name.split("_")[0].lower()
  return None


def _env_int(name, minimum):
  text = os.environ[name]
  try:
    value = int(text)
  except ValueError:
    raise UserError(f"{name}={text!r} is not an integer") from None
  if value < minimum:
    raise UserError(f"{name}={value} must be at least {minimum}")
  return value


def join_timeout():
  """Seconds to wait for every process to join: AEJAX_JOIN_TIMEOUT, else JOIN_TIMEOUT_S."""
  if os.environ.get(JOIN_TIMEOUT_ENV):
    return _env_int(JOIN_TIMEOUT_ENV, 1)
  return JOIN_TIMEOUT_S


def peer_timeout():
  """Seconds after which a peer not heard from ends the run: AEJAX_PEER_TIMEOUT, else PEER_TIMEOUT_S."""
  if os.environ.get(PEER_TIMEOUT_ENV):
    return _env_int(PEER_TIMEOUT_ENV, 1)
  return PEER_TIMEOUT_S


def distributed_settings():
  """The keyword arguments of `jax.distributed.initialize` the environment asks
  for, or None for a single process. Either all three of DISTRIBUTED_ENV are
  set (a half-given set is an error naming the missing variable), or none, and
  then a SLURM or Open MPI job of several tasks is detected by JAX itself."""
  given = [name for name in DISTRIBUTED_ENV if os.environ.get(name)]
  if given and len(given) < len(DISTRIBUTED_ENV):
    missing = [name for name in DISTRIBUTED_ENV if name not in given]
    raise UserError(f"{', '.join(given)} set but not {', '.join(missing)}: a run of several "
                    f"processes needs all of {', '.join(DISTRIBUTED_ENV)}")
  # JAX's own heartbeat check aborts the process (a C++ stack, exit 134): a backstop well behind
  # `PeerWatch`, which ends it with one line.
  timeouts = {"initialization_timeout": join_timeout(),
              "heartbeat_timeout_seconds": 3 * peer_timeout()}
  if given:
    n = _env_int("JAX_NUM_PROCESSES", 1)
    pid = _env_int("JAX_PROCESS_ID", 0)
    if pid >= n:
      raise UserError(f"JAX_PROCESS_ID={pid} must be below JAX_NUM_PROCESSES={n}")
    if n == 1:
      return None
    return {"coordinator_address": os.environ["JAX_COORDINATOR_ADDRESS"], "num_processes": n,
            "process_id": pid, **timeouts}
  if _cluster_detected():
    return {"cluster_detection_method": None, **timeouts}
  return None


def initialize_distributed():
  """Joins a run of several processes when the environment describes one
  (`distributed_settings`); call it before anything touches a device. A peer
  that does not join within `join_timeout()` seconds ends the wait with a
  PeerError. Returns the number of processes."""
  settings = distributed_settings()
  if settings is None or jax.distributed.is_initialized():
    return jax.process_count() if settings else 1
  settings = {k: v for k, v in settings.items() if v is not None}
  timeout = settings["initialization_timeout"]
  where = settings.get("coordinator_address", "the cluster's coordinator")
  failure = PeerError(f"could not join the run at {where} within {timeout} s; is every process "
                      "started, with the same JAX_COORDINATOR_ADDRESS and JAX_NUM_PROCESSES?")
  # JAX aborts the process when its own limit passes; ours comes first, with one line.
  settings["initialization_timeout"] = timeout + 60
  joined = threading.Event()
  threading.Thread(target=lambda: joined.wait(timeout) or abandon(failure), daemon=True).start()
  try:
    jax.distributed.initialize(**settings)
  except Exception as e:  # pylint: disable=broad-except  (any failure to join)
    abandon(PeerError(f"{failure} ({type(e).__name__}: {first_line(e)})"))
  finally:
    joined.set()
  return jax.process_count()


def peer_failure(error):
  """The PeerError of a collective that failed because another process is gone."""
  return PeerError(f"a process of this run failed or was killed ({type(error).__name__}: "
                   f"{first_line(error)}); {LAST_STATE}")


def first_line(error):
  text = str(error).strip()
  return text.splitlines()[0][:300] if text else ""


def is_writer():
  """Whether this process writes the run's files: process 0 alone."""
  return jax.process_index() == 0


def any_process(flag):
  """True on every process if `flag` is true on any: how processes agree to stop
  after the same epoch when a signal reaches some of them first."""
  if jax.process_count() == 1:
    return bool(flag)
  return bool(np.any(multihost_utils.process_allgather(np.asarray(bool(flag)))))


def same_on_every_process(text):
  """Process 0's `text` (a short string), on every process."""
  if jax.process_count() == 1:
    return text
  raw = np.zeros(1024, np.uint8)
  encoded = text.encode()[:1024]
  raw[:len(encoded)] = np.frombuffer(encoded, np.uint8)
  raw = np.asarray(multihost_utils.broadcast_one_to_all(raw))
  return bytes(raw[raw != 0]).decode()


@contextlib.contextmanager
def together(what):
  """Runs the block on every process and lets them agree on its outcome: if it
  fails on one process, it fails on all (its own error there, a UserError
  naming `what` on the others), so that none waits forever for the others."""
  if jax.process_count() == 1:
    yield
    return
  try:
    yield
  except BaseException:
    any_process(True)
    raise
  if any_process(False):
    raise UserError(f"another process of this run could not {what}; see the message of process 0")


class PeerWatch:
  """Notices a peer that is gone while this process waits for it. A collective
  with a dead peer can wait without end (Gloo's all-reduce on CPU does; its
  all-gather fails at once), until JAX's heartbeat check aborts the process with
  a C++ stack. So a thread ticks a counter of this process in the distributed
  runtime's key-value store every `period` s and reads every peer's: a peer whose
  counter stands still for `timeout` s (killed, frozen, cut off), or a store that
  does not answer for as long, ends this process through `lost` (errors.abandon:
  one line, exit 5). A silence counts only over as many of this thread's own
  rounds, so that a process that was itself held (SIGSTOP) does not blame its
  peers. `close()` marks this process done, and the peers stop expecting it."""

  def __init__(self, client, process, processes, timeout, period=1.0, lost=None, generation=0):
    self.client, self.timeout, self.period = client, timeout, period
    self.lost = lost or abandon
    self.prefix = f"aejax/alive/{generation}/"
    self.key = f"{self.prefix}{process}"
    self.rounds = 0
    # per peer: (its last value, when it changed, this thread's round then)
    self.heard = {p: (None, time.monotonic(), 0) for p in range(processes) if p != process}
    self.contact = (time.monotonic(), 0)
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._watch, daemon=True, name="aejax-peer-watch")

  def _silent_for(self, since, now):
    moment, at_round = since
    return now - moment >= self.timeout and (self.rounds - at_round) * self.period >= self.timeout

  def check(self, now):
    """One round: this process's tick, the peers' read; a PeerError if one is lost, else None."""
    self.rounds += 1
    try:
      self.client.key_value_set(self.key, str(self.rounds), allow_overwrite=True)
      values = dict(self.client.key_value_dir_get(self.prefix))
    except Exception as e:  # pylint: disable=broad-except  (an unreachable store, of any kind)
      if self._silent_for(self.contact, now):
        return PeerError(f"the run's coordinator (process 0) has not answered for {self.timeout} s "
                         f"({type(e).__name__}: {first_line(e)}); {LAST_STATE}")
      return None
    self.contact = (now, self.rounds)
    for peer, (last, moment, at_round) in list(self.heard.items()):
      value = values.get(f"{self.prefix}{peer}")
      if value == "done":
        del self.heard[peer]
      elif value != last:
        self.heard[peer] = (value, now, self.rounds)
      elif self._silent_for((moment, at_round), now):
        return PeerError(f"process {peer} of this run has not been heard from for {self.timeout} s "
                         f"(killed, frozen or cut off); {LAST_STATE}")
    return None

  def _watch(self):
    while not self._stop.wait(self.period):
      error = self.check(time.monotonic())
      if error is not None:
        self.lost(error)
        return

  def start(self):
    self._thread.start()
    return self

  def close(self):
    """Stops watching and tells the peers this process left on purpose."""
    self._stop.set()
    self._thread.join()
    try:
      self.client.key_value_set(self.key, "done", allow_overwrite=True)
    except Exception:  # pylint: disable=broad-except  (the peers then find it silent: the same end)
      pass


_WATCHES = itertools.count()   # the runs of this process, in order: the same on every process


@contextlib.contextmanager
def watching_peers():
  """In a run of several processes, a peer that is gone ends this process with
  one line and exit status 5 (errors.abandon), instead of a wait that would hang
  or abort: a `PeerWatch` runs through the block, and a collective that fails
  because a peer is gone ends it at once. So does any other exception but a
  RunError (which every process raises alike): a peer's death can surface as
  another error (a checkpoint's barrier, raised again while the run's files are
  closed), and the orderly shutdown after it would wait for the dead peer until
  the runtime aborts the process. Its traceback is printed first unless it is
  the failed collective itself."""
  if jax.process_count() == 1:
    yield
    return
  client = jax_distributed.global_state.client
  watch = client and PeerWatch(client, jax.process_index(), jax.process_count(), peer_timeout(),
                               generation=next(_WATCHES)).start()
  try:
    yield
  except RunError:
    raise
  except Exception as e:  # pylint: disable=broad-except  (see above)
    if not isinstance(e, jax.errors.JaxRuntimeError):
      traceback.print_exc()
    abandon(peer_failure(e))
  finally:
    if watch:
      watch.close()


def local(tree):
  """A replicated tree as arrays on this process's first device, so that one
  process can compute with it alone (the analysis, on process 0)."""
  if jax.process_count() == 1:
    return tree
  return jax.device_put(to_host(tree), jax.local_devices()[0])


def make_mesh(n_devices=0, batch_size=None):
  """A mesh over the first `n_devices` devices (0: all of them, in every process)
  with axis `data`. The global batch must divide by the number of devices."""
  available = jax.devices()
  n = n_devices or len(available)
  if n > len(available):
    raise UserError(f"--devices {n}: only {len(available)} {available[0].platform} "
                    f"device{'s' if len(available) > 1 else ''} present")
  if jax.process_count() > 1 and n != len(available):
    raise UserError(f"--devices {n}: a run of {jax.process_count()} processes trains on all "
                    f"{len(available)} devices (--devices 0)")
  if batch_size is not None and batch_size % n:
    raise UserError(f"--batch-size {batch_size} does not divide by the {n} device"
                    f"{'s' if n > 1 else ''}")
  return jax.make_mesh((n,), ("data",), devices=available[:n],
                       axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh):
  return NamedSharding(mesh, P())


def batch_sharding(mesh):
  """Split the leading (batch) axis across the `data` axis."""
  return NamedSharding(mesh, P("data"))


def to_host(tree):
  """A replicated tree (possibly spread over several processes) as numpy arrays
  on this host."""
  return jax.tree.map(lambda x: np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array)
                      else x, tree)
