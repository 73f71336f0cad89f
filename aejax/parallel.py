"""Data parallelism: a 1-d device mesh with a `data` axis; batches are split along
it, parameters and optimizer state are replicated, and XLA inserts the gradient
all-reduce. The same program runs on one CPU, many GPUs or many hosts."""
import os

import jax
from jax.sharding import NamedSharding, PartitionSpec as P

from aejax.errors import UserError

DISTRIBUTED_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def initialize_distributed():
  """Joins a multi-host run when the environment describes one (JAX_COORDINATOR_ADDRESS,
  JAX_NUM_PROCESSES, JAX_PROCESS_ID, or a cluster jax.distributed detects itself)."""
  if os.environ.get("JAX_COORDINATOR_ADDRESS") and not jax.distributed.is_initialized():
    jax.distributed.initialize()


def make_mesh(n_devices=0, batch_size=None):
  """A mesh over the first `n_devices` devices (0: all of them) with axis `data`.
  The global batch must divide by the number of devices."""
  available = jax.devices()
  n = n_devices or len(available)
  if n > len(available):
    raise UserError(f"--devices {n}: only {len(available)} {available[0].platform} devices present")
  if batch_size is not None and batch_size % n:
    raise UserError(f"--batch-size {batch_size} does not divide by the {n} devices")
  return jax.make_mesh((n,), ("data",), devices=available[:n],
                       axis_types=(jax.sharding.AxisType.Auto,))


def replicated(mesh):
  return NamedSharding(mesh, P())


def batch_sharding(mesh):
  """Split the leading (batch) axis across the `data` axis."""
  return NamedSharding(mesh, P("data"))
