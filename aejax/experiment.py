"""The training run behind every experiment script: data, model, loop, files.

A run's workdir holds config.json, metrics.jsonl (a line per epoch),
summary.json, checkpoints/, progress.npz, and what aejax.analysis draws: the
pictures and report.html. Reconstruction errors are per-pixel MSE in [0, 1]
pixel units whatever the objective.
"""
import contextlib
import dataclasses
import datetime
import json
import os
import shutil
import signal
import statistics
import threading
import time

import jax
import jax.numpy as jnp
import tqdm

from aejax import analysis, checkpoints, data, losses, models, parallel, train
from aejax import config as config_lib
from aejax import errors
from aejax.errors import UserError


class WorkdirError(UserError):
  """A workdir that cannot be used as asked."""


@contextlib.contextmanager
def deferred_signals(signals=(signal.SIGTERM, signal.SIGINT)):
  """SIGTERM and SIGINT are recorded, not raised: the loop finishes the epoch in
  flight, writes a checkpoint and stops. Yields the list of received signals."""
  received = []
  if threading.current_thread() is not threading.main_thread():
    yield received  # signals reach the main thread only
    return
  previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in signals}
  try:
    yield received
  finally:
    for s, handler in previous.items():
      signal.signal(s, handler)


CONFIGS = {"ae": config_lib.AEConfig, "dae": config_lib.DAEConfig}


def new_workdir(name):
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  path = os.path.join("runs", f"{name}-{stamp}")
  suffix = 1
  while os.path.exists(path):
    suffix += 1
    path = os.path.join("runs", f"{name}-{stamp}-{suffix}")
  return path


def resolve_config(config, given, name):
  """The config to run with; touches no file. A resumed run takes its saved
  config, with only the given flags changed, and only those in RESUMABLE. A new
  run may not land in a workdir that holds a run, unless --overwrite."""
  if config.resume:
    name_saved, saved = read_config(config.workdir, "no run to resume")
    if name_saved != name:
      raise WorkdirError(f"{config.workdir}: a run of {name_saved}.py, not of {name}.py")
    changed = sorted(k for k, v in given.items() if k not in config.RESUMABLE and v != saved[k])
    if changed:
      raise WorkdirError("--resume cannot change " + ", ".join(
          f"--{k.replace('_', '-')} (was {saved[k]!r}, now {given[k]!r})" for k in changed))
    config = dataclasses.replace(config, **{k: v for k, v in saved.items() if k not in given})
    config.check()
    return config
  workdir = config.workdir or new_workdir(name)
  if os.path.isdir(workdir) and os.listdir(workdir) and not config.overwrite:
    raise WorkdirError(f"{workdir}: holds an earlier run; pass --resume to continue it, "
                       "--overwrite to replace it, or choose another --workdir")
  return dataclasses.replace(config, workdir=workdir)


def read_config(workdir, missing="not a run folder"):
  """(experiment name, saved config fields) of the run in `workdir`."""
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise WorkdirError(f"{workdir}: {missing} (no config.json)")
  with open(path) as f:
    saved = json.load(f)
  name = saved.pop("experiment", None)
  if name not in CONFIGS or set(saved) != {f.name for f in dataclasses.fields(CONFIGS[name])}:
    raise WorkdirError(f"{path}: not a config this version can read")
  return name, saved


def create_workdir(config, name):
  """Empties (with --overwrite) and creates the workdir of a new run; writes config.json."""
  if os.path.isdir(config.workdir) and config.overwrite:
    shutil.rmtree(config.workdir)
  os.makedirs(config.workdir, exist_ok=True)
  write_json(os.path.join(config.workdir, "config.json"),
             {"experiment": name, **dataclasses.asdict(config)})


def write_json(path, obj):
  """Writes atomically: a reader sees the old file or the new one, never half of one."""
  with open(path + ".tmp", "w") as f:
    json.dump(obj, f, indent=2)
    f.write("\n")
  os.replace(path + ".tmp", path)


def read_metrics(path, up_to_epoch):
  """The lines of metrics.jsonl for epochs 1..up_to_epoch."""
  if not os.path.isfile(path):
    return []
  with open(path) as f:
    records = [json.loads(line) for line in f if line.strip()]
  return [r for r in records if r["epoch"] <= up_to_epoch]


def build(config):
  """(initial state, run key, eval key) of a config; the run key drives
  shuffling and training noise, the eval key the test corruptions."""
  objective = losses.OBJECTIVES[config.loss]
  model = models.ARCHITECTURES[config.architecture](
      widths=config.hidden_widths, latent_dim=config.latent_dim, output=objective.output,
      dtype=jnp.dtype(config.dtype))
  init_key, run_key, eval_key = jax.random.split(jax.random.key(config.seed), 3)
  tx = train.make_optimizer(config.lr, config.weight_decay, config.decoupled)
  state = train.create_train_state(model, init_key, tx, objective=objective,
                                   corruption=config.corruption, noise=config.noise)
  return state, run_key, eval_key


def load_run(workdir):
  """(config, state, eval key, epoch) of the newest usable checkpoint of a run."""
  name, saved = read_config(workdir)
  config = CONFIGS[name](**saved)
  state, key, eval_key = build(config)
  mngr = checkpoints.manager(workdir)
  try:
    state, _, epoch = checkpoints.restore(mngr, state, key)
  finally:
    mngr.close()
  return config, state, eval_key, epoch


def run(config, given=None, name="ae"):
  """Trains as `config` says and writes the workdir; returns the summary dict."""
  parallel.initialize_distributed()
  config = resolve_config(config, given or {}, name)
  mesh = parallel.make_mesh(config.devices, config.batch_size)
  workdir = config.workdir
  dataset = data.load_mnist(config.data_source, config.data_dir)
  print(dataset.describe(), flush=True)
  if len(dataset.train_images) < config.batch_size:
    raise UserError(f"--batch-size {config.batch_size} exceeds the {len(dataset.train_images)} "
                    "training examples")
  if not config.resume:
    create_workdir(config, name)
  state, run_key, eval_key = build(config)
  state = jax.device_put(state, parallel.replicated(mesh))
  mngr = checkpoints.manager(workdir, config.keep_checkpoints)
  start = 0
  if config.resume:
    state, run_key, start = checkpoints.restore(mngr, state, run_key)
    print(f"resumed from the checkpoint of epoch {start}", flush=True)
  metrics_path = os.path.join(workdir, "metrics.jsonl")
  history = read_metrics(metrics_path, start)
  with open(metrics_path, "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in history)

  grid_pixels = jnp.asarray(dataset.test_images[analysis.grid_indices(dataset.test_labels)] / 255.0,
                            jnp.float32)
  if config.resume:
    analysis.truncate_progress(workdir, start)
  progress_epochs = set(analysis.progress_epochs(config.epochs))
  train_images = jax.device_put(dataset.train_images, parallel.replicated(mesh))
  test_images = jax.device_put(dataset.test_images, parallel.replicated(mesh))
  print(f"devices: {mesh.size} x {mesh.devices.flat[0].platform}", flush=True)
  n_steps = len(dataset.train_images) // config.batch_size
  rates = []
  bar = tqdm.tqdm(range(start, config.epochs), initial=start, total=config.epochs,
                  desc=name, unit="epoch", dynamic_ncols=True)
  try:
    with deferred_signals() as received:
      for epoch in bar:
        tic = time.perf_counter()
        state, train_metrics = train.run_epoch(state, train_images, run_key, epoch,
                                               batch_size=config.batch_size,
                                               batch_sharding=parallel.batch_sharding(mesh))
        train_metrics = jax.device_get(train_metrics)
        seconds = time.perf_counter() - tic
        done = epoch + 1
        if not train_metrics["finite"]:
          newest = mngr.latest_step()
          raise errors.Diverged(
              f"the loss or the parameters became NaN or infinite in epoch {done}; " +
              (f"the checkpoint of epoch {newest} holds the last good state" if newest
               else "no checkpoint was written"))
        rates.append(n_steps * config.batch_size / seconds)
        record = {"epoch": done, "train_loss": float(train_metrics["loss"]),
                  "train_mse": float(train_metrics["mse"]),
                  "grad_norm": float(train_metrics["grad_norm"]),
                  "test_loss": None, "test_mse": None,
                  "seconds": seconds, "samples_per_s": rates[-1]}
        if done == config.epochs or (config.eval_every and done % config.eval_every == 0):
          test = jax.device_get(train.evaluate(state, test_images, eval_key))
          record.update(test_loss=float(test["loss"]), test_mse=float(test["mse"]))
        if done in progress_epochs:
          analysis.record_progress(workdir, done, state, grid_pixels)
        history.append(record)
        with open(metrics_path, "a") as f:
          f.write(json.dumps(record) + "\n")
        every = config.checkpoint_every
        if done == config.epochs or (every and done % every == 0) or received:
          checkpoints.save(mngr, done, state, run_key)
        bar.set_postfix(loss=f"{record['train_loss']:.4f}",
                        test_mse=f"{record['test_mse']:.4f}" if record["test_mse"] else "-")
        if received and done < config.epochs:
          mngr.wait_until_finished()
          raise errors.Interrupted(
              f"{signal.Signals(received[0]).name} after epoch {done}; checkpoint written, continue "
              f"with: --resume --workdir {workdir}")
  finally:
    bar.close()
    mngr.wait_until_finished()
    mngr.close()

  summary = {
      "data_source": dataset.source, "n_train": len(dataset.train_images),
      "n_test": len(dataset.test_images), "epochs": config.epochs, "devices": mesh.size,
      "final_train_loss": history[-1]["train_loss"] if history else None,
      "samples_per_s": statistics.median(rates[1:] or rates) if rates else None,
  }
  summary.update(analysis.analyze(workdir, config, dataset, state, eval_key, history))
  write_json(os.path.join(workdir, "summary.json"), summary)
  print(f"test per-pixel MSE {summary['test_mse']:.5f} ([0, 1] units; PCA with "
        f"{config.latent_dim} components: {summary['pca_test_mse']:.5f}); report: "
        f"{os.path.join(workdir, 'report.html')}", flush=True)
  return summary
