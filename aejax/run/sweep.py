"""Sweeps: many autoencoders trained at once in one compiled program.

A sweep (config.SweepConfig) is every combination of lists of traced settings
(noise level, learning rate, weight decay, augmentation ranges, the variant's
regulariser weights) times seeds; each member is the config of a single run of
the sweep's variant, built by `experiment.build` exactly as that run builds it: its
own initialisation, shuffling and noise keys. The members' states are stacked
into one state with a leading model axis [N, ...]; the swept values are traced
per-model arrays (`state.hparams["noise"]`, the optimizer's
`opt_state.hyperparams`), so all models share one program. An epoch of all of
them is `lax.map` over the model axis of the single run's epoch function,
`chunk` models vectorised (vmap) at a time. With chunk 1 (the default on CPU)
each model is computed by exactly the operations of its single run, bit for
bit; a larger chunk (the default on GPU: all models) batches the products,
faster, and equal to the single runs only within rounding, which the chaotic
training amplifies over the epochs.

Devices: a 2-d mesh (model, data); the model axis is split over devices
(shard_map), each device training its share of the models.

The run itself is `experiment.prepare`, `train_loop` (checkpoints of the
stacked state, --resume, SIGTERM) and this module's `finish`, which analyses
every model as a single run's summary does (`analysis.summary_metrics`, no
pictures) and writes sweep.json, sweep.csv, the plots and sweep.html
(aejax.report.sweep_page).
"""
import functools
import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P

from aejax import train, variants
from aejax.errors import UserError
from aejax.report import sweep_page
from aejax.run import analysis, experiment, provenance
from aejax.run.workdir import write_json


def stack(trees):
  """One pytree whose leaves are the leaves of `trees` stacked on a new leading
  axis: host arrays, stacked by NumPy with no program to compile (PRNG keys, which
  have no host form, by jnp.stack)."""
  def one(*xs):
    xs = [jnp.asarray(x) for x in xs]   # a Python number as jnp.stack takes it
    if jax.dtypes.issubdtype(xs[0].dtype, jax.dtypes.prng_key):
      return jnp.stack(xs)
    return np.stack(jax.device_get(xs))
  return jax.tree.map(one, *trees)


def model(tree, i):
  """Model `i` of a stacked pytree (the leading axis sliced away)."""
  return jax.tree.map(lambda x: x[i], tree)


def on_host(run):
  """(stacked states, eval keys [N]) of every model, the states as host arrays
  (the keys, which have no host form, on one device), to slice with `model`
  without a program on the mesh: on a mesh that splits the models,
  slicing a leaf on the devices is a gather with a collective across the model
  axis, and XLA:CPU can deadlock when more than about 32 collective programs
  queue on a device (a sweep's per-leaf slices of several models do)."""
  return jax.device_get((run.state, run.eval_key))


def build(config, dataset=None):
  """(stacked state, run keys [N], eval keys [N]) of every member of `config`,
  each built by experiment.build as its single run (on `dataset`). The members
  differ only in traced values, so they share the first member's optimizer (its
  update reads the learning rate and weight decay from each model's optimizer state)."""
  built = [experiment.build(member, dataset) for member in config.members()]
  tx = built[0][0].tx
  states = [state.replace(tx=tx) for state, _, _ in built]
  return stack(states), stack([k for _, k, _ in built]), stack([k for _, _, k in built])


def build_placed(config, mesh, dataset=None):
  """`build`, the model axis split over the mesh's `model` axis."""
  state, run_keys, eval_keys = build(config, dataset)
  return jax.device_put((state, run_keys, eval_keys), NamedSharding(mesh, P("model")))


def make_mesh(config):
  """A (model, data) mesh over --devices devices (0: all) of this process (a
  sweep of several processes is refused): --model-devices of them (0: as many
  as divide both) split the models, the rest the batch."""
  if jax.process_count() > 1:
    raise UserError(f"a sweep trains in one process, on that process's devices, and this run has "
                    f"{jax.process_count()} processes: start one sweep per machine, each with its "
                    "own --workdir")
  available = jax.devices()
  n_models = len(config.members())
  n = config.run.devices or len(available)
  if n > len(available):
    raise UserError(f"--devices {n}: only {len(available)} {available[0].platform} devices present")
  k = config.run.model_devices or math.gcd(n, n_models)
  if n % k or n_models % k:
    raise UserError(f"--model-devices {k} must divide both the {n} devices and the {n_models} models")
  if config.optimiser.batch_size % (n // k):
    raise UserError(f"--batch-size {config.optimiser.batch_size} does not divide by the {n // k} devices "
                    "that split each batch")
  return jax.make_mesh((k, n // k), ("model", "data"), devices=available[:n],
                       axis_types=(jax.sharding.AxisType.Auto,) * 2)


def default_chunk(platform):
  """Models vectorised together: 1 on CPU (bit-identical to single runs), all elsewhere."""
  return 1 if platform == "cpu" else 0


def over_models(fn, states, keys, shared, mesh, chunk):
  """fn(state, key, *shared) of every model: `lax.map` over the leading axis
  of `states` and `keys`, `chunk` models vectorised at a time (0: all of a
  device's models; 1: a plain loop), the model axis split over the mesh's
  `model` axis; `shared` (a tuple of arrays) is the same for every model."""
  def local(states, keys, *shared):
    n = jax.tree.leaves(states)[0].shape[0]
    size = n if chunk == 0 else min(chunk, n)
    one = lambda args: fn(*args, *shared)
    return jax.lax.map(one, (states, keys), batch_size=None if size == 1 else size)
  if mesh is None or mesh.shape["model"] == 1:
    return local(states, keys, *shared)
  return jax.shard_map(local, mesh=mesh, in_specs=(P("model"), P("model")) + (P(),) * len(shared),
                       out_specs=P("model"), axis_names={"model"}, check_vma=False)(
                           states, keys, *shared)


@functools.partial(jax.jit, static_argnames=("batch_size", "chunk", "mesh"),
                   donate_argnames=("states",))
def train_epoch(states, images, keys, epoch, *, batch_size, chunk=1, mesh=None):
  """`train.train_epoch` of every model of the stacked `states` ([N, ...]),
  with its run key (keys: [N]); returns the states and metrics of shape [N]."""
  data_split = mesh is not None and mesh.shape["data"] > 1
  fn = lambda state, key, images, epoch: train.train_epoch.__wrapped__(
      state, images, key, epoch, batch_size=batch_size,
      batch_sharding=P("data") if data_split else None)
  return over_models(fn, states, keys, (images, epoch), mesh, chunk)


@functools.partial(jax.jit, static_argnames=("chunk", "mesh"))
def evaluate(states, images, keys, *, chunk=1, mesh=None):
  """`train.evaluate` of every model with its eval key: each measurement of shape [N]."""
  return over_models(lambda state, key, images: train.evaluate.__wrapped__(state, images, key),
                     states, keys, (images,), mesh, chunk)


def chunk_of(run):
  return run.config.run.chunk or default_chunk(run.mesh.devices.flat[0].platform)


def epoch_fn(run, epoch):
  return train_epoch(run.state, run.train_images, run.run_key, epoch,
                     batch_size=run.config.optimiser.batch_size, chunk=chunk_of(run), mesh=run.mesh)


def evaluate_fn(run, images):
  """The per-epoch evaluation of every model: with chunk 1, each by its single
  run's own program on its slice (the same figures, bit for bit); else
  vectorised (`evaluate`), equal within rounding."""
  if chunk_of(run) != 1:
    return evaluate(run.state, images, run.eval_key, chunk=chunk_of(run), mesh=run.mesh)
  states, keys = on_host(run)
  return stack([train.evaluate(model(states, i), images, keys[i]) for i in range(run.models)])


def rows(run):
  """A row per model: its swept values and seed, then every figure of a single
  run's summary.json (its final train loss and analysis.summary_metrics; with
  --no-analysis the test figures alone), the final evaluation made by the
  single run's own program on the model's slice."""
  config, dataset = run.config, run.dataset
  axes = config.values()
  test_images = jnp.asarray(dataset.test_images)
  shared = {}   # the PCA baseline, the same for every model
  out = []
  states, keys = on_host(run)
  for i, member in enumerate(config.members()):
    state, eval_key = model(states, i), keys[i]
    test = jax.device_get(train.evaluate(state, test_images, eval_key))
    figures, _ = analysis.summary_metrics(member, dataset, state, eval_key, test, shared,
                                          cheap_only=config.run.no_analysis)
    flags = member.flags()
    row = {name: flags[name] for name in axes}
    row["final_train_loss"] = run.history[-1]["train_loss"][i] if run.history else None
    out.append({**row, **figures})
  return out


def finish(run):
  """Analyses every model (no pictures), writes summary.json (the training
  figures of all models together and provenance), sweep.json, sweep.csv, the
  plots (unless --no-pictures) and sweep.html; returns the sweep.json object."""
  config = run.config
  tic = time.perf_counter()
  if not config.run.no_analysis:
    print(f"analysis: {run.models} models: kNN, linear probe, trustworthiness, continuity, PCA" +
          (", denoising table" if variants.denoising(config) else ""), flush=True)
  table = rows(run)
  if not config.run.no_analysis:
    print(f"analysis: done in {time.perf_counter() - tic:.1f} s", flush=True)
  record = provenance.collect(run.started, provenance.now(), time.perf_counter() - run.clock,
                              run.mesh.devices.flat)
  summary = {**experiment.training_summary(run.dataset, run.history), "devices": run.mesh.size,
             "models": run.models, "chunk": chunk_of(run), "provenance": record}
  summary.pop("final_train_loss")
  run.records.write_summary(summary)
  first = config.members()[0]
  result = {"variant": config.model.variant, "variant_name": variants.VARIANTS[config.model.variant].name,
            "own_figure": variants.own_figure(first)[0],
            "axes": {k: list(v) for k, v in config.values().items()}, "rows": table,
            "samples_per_s": summary["samples_per_s"], "epochs": summary["epochs"],
            "data_source": summary["data_source"]}
  if run.records.writer:
    write_json(os.path.join(run.workdir, sweep_page.SWEEP_FILE), result)
    sweep_page.write(run.workdir, config, result, draw=not config.run.no_pictures)
  print(sweep_page.headline(result, run.workdir), flush=True)
  return result


def run(config, given=None):
  """Trains every model of the sweep `config` at once and writes the workdir;
  returns the sweep.json object."""
  with experiment.prepare(config, given, "sweep", make_mesh=make_mesh, build_state=build_placed,
                          count_models=lambda c: len(c.members())) as r:
    experiment.train_loop(r, epoch_fn=epoch_fn, evaluate_fn=evaluate_fn, observers=[])
    return finish(r)
