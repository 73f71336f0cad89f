"""The training run behind every experiment script, in three steps that other
drivers (a sweep, a run of several processes) reuse: `prepare` claims the
workdir and sets up data, mesh and state; `train_loop` trains, checkpoints and
records; `finish` evaluates, analyses and writes summary.json. `run` is the three.

A run's workdir holds config.json, metrics.jsonl (a line per epoch),
summary.json, checkpoints/, progress.npz, and what aejax.report.pictures draws: the
pictures and report.html; aejax.run.workdir reads and writes them. Reconstruction
errors are per-pixel MSE in [0, 1] pixel units whatever the objective.
"""
import contextlib
import dataclasses
import datetime
import os
import signal
import statistics
import sys
import threading
import time
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np
import tqdm

from aejax import config as config_lib, data, errors, models, objectives, optim, stacked, train, variants
from aejax.data import augmentations, binarize
from aejax.errors import UserError
from aejax.report import progress, tensorboard_log
from aejax.run import analysis, checkpoints, parallel, provenance
from aejax.run.workdir import (  # pylint: disable=unused-import
  ACTIONS,
  CONFIGS,
  METRICS_FILE,
  Records,
  WorkdirError,
  check_progress,
  read_config,
  read_metrics,
  write_json,
)


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


def new_workdir(name):
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  path = os.path.join("runs", f"{name}-{stamp}")
  suffix = 1
  while os.path.exists(path):
    suffix += 1
    path = os.path.join("runs", f"{name}-{stamp}-{suffix}")
  return path


def resumed_config(config, given, name):
  """(config in force, its changes from the saved one, the earlier resumptions) of
  a resumption: the saved config with only the given flags changed, and only
  those in RESUMABLE (compared as the config holds them: `--strides 2,2` is `2`)."""
  name_saved, saved, resumptions = read_config(config.run.workdir, "no run to resume")
  if name_saved != name:
    raise WorkdirError(f"{config.run.workdir}: a run of {name_saved}.py, not of {name}.py")
  before = type(config).from_flags(**saved).flags()
  kept = {k: v for k, v in saved.items() if k not in ACTIONS}   # this invocation's own, as given
  config = type(config).from_flags(**{**kept, **given})
  flags = config.flags()
  refused = sorted(k for k in given if k not in config.RESUMABLE and flags[k] != before[k])
  typed = lambda v: config_lib.shown(v) if isinstance(v, tuple) else repr(v)   # a sweep's list as its flag
  if refused:
    raise WorkdirError("--resume cannot change " + ", ".join(
        f"--{k.replace('_', '-')} (was {typed(saved[k])}, now {typed(given[k])})" for k in refused))
  config.check()
  changes = {k: [before[k], flags[k]] for k in config.RESUMABLE
             if k not in ACTIONS and k != "workdir" and before[k] != flags[k]}
  return config, changes, resumptions


def load_data(config):
  """The Dataset that the config's data flags name."""
  return data.load(config.data.name, **config.data.load_kwargs())


def check_shape(config, dataset):
  """Raises DataError unless `dataset` holds images of the run's shape."""
  shape = "x".join(map(str, dataset.image_shape))
  if shape != config.data.image_shape:
    raise data.DataError(f"{dataset.source} holds {shape} images, but the run in {config.run.workdir} "
                         f"was trained on {config.data.image_shape} images")


def make_model(config):
  """The config's architecture for its images, as its variant wraps it
  (aejax.variants.model); settings of other architectures are not passed."""
  arch = config.model
  cls = models.ARCHITECTURES[arch.architecture]
  own = {"channels": arch.conv_channels, "strides": arch.conv_strides, "kernel_size": arch.kernel_size}
  model = cls(image_shape=config.data.image_dims, widths=arch.hidden_widths,
              latent_dim=variants.latent_dim(config),
              output=objectives.OBJECTIVES[config.objective.loss].output, dtype=jnp.dtype(arch.dtype),
              activation=arch.activation,
              **{k: v for k, v in own.items() if k in cls.__dataclass_fields__})
  return variants.model(config, model)


def augmentation(config):
  """The train state's augmentation: the config's, then with --binarize dynamic a
  Bernoulli draw of every pixel (aejax.data.binarize.bernoulli)."""
  chosen = augmentations.AUGMENTATIONS[config.objective.augmentation]
  return augmentations.Then(chosen, binarize.bernoulli) if config.data.binarize == "dynamic" else chosen


def build(config, dataset=None):
  """(initial state, run key, eval key) of a config; the run key drives
  shuffling and training noise, the eval key the test corruptions.

  The model is `make_model`'s; the loss the config's objective, corruption and
  regularisers (aejax.config.regularisers). A variant that pretrains
  (aejax.variants.pretrains) is pretrained on `dataset` (loaded if not given)
  when its workdir holds no pretraining record yet, which it then writes;
  otherwise the checkpoint supplies the parameters. The optimizer follows
  config.optimiser.lr_schedule over the epochs of `dataset` (`optimizer`; without a dataset,
  a state to restore into, at the configured rate); the pretraining keeps the
  configured rate throughout."""
  objective = objectives.OBJECTIVES[config.objective.loss]
  model = make_model(config)
  init_key, run_key, eval_key = jax.random.split(jax.random.key(config.run.seed), 3)
  state = train.create_train_state(model, init_key, optimizer(config), objective=objective,
                                   corruption=config.objective.corruption, noise=config.objective.noise,
                                   regularisers=config_lib.regularisers(config),
                                   hparams=config_lib.hparams(config), augmentation=augmentation(config))
  records = config.run.workdir and os.path.join(config.run.workdir, stacked.RECORDS)
  if variants.pretrains(config) and not (records and os.path.isfile(records)):
    dataset = dataset or load_data(config)
    state, stages = variants.pretrain(config, state, jax.random.fold_in(init_key, 1), dataset)
    if records and os.path.isdir(config.run.workdir) and jax.process_index() == 0:
      write_json(records, stages)
  return state.replace(tx=optimizer(config, dataset)), run_key, eval_key


def optimizer(config, dataset=None):
  """The config's optimizer: its learning rate follows --lr-schedule over --epochs of
  len(dataset.train_images) // batch_size steps; without `dataset` (a state to
  restore a checkpoint into) the schedule is left out, as the state's structure
  is the same."""
  steps = None if dataset is None else len(dataset.train_images) // config.optimiser.batch_size
  return optim.make_optimizer(**config.optimiser.schedule_kwargs(steps))


def build_placed(config, mesh, dataset=None):
  """`build`, the state replicated over the devices of `mesh`."""
  state, run_key, eval_key = build(config, dataset)
  return jax.device_put(state, parallel.replicated(mesh)), run_key, eval_key


def load_run(workdir):
  """(config, state, eval key, epoch) of the newest usable checkpoint of a run."""
  name, saved, _ = read_config(workdir)
  if name == "sweep":
    raise WorkdirError(f"{workdir}: a sweep; each model's figures are in its sweep.json")
  config = CONFIGS[name].from_flags(**saved)
  state, key, eval_key = build(config)
  mngr = checkpoints.manager(workdir, create=False)
  try:
    state, _, epoch = checkpoints.restore(mngr, state, key)
  finally:
    mngr.close()
  return config, state, eval_key, epoch


@dataclasses.dataclass
class Run:
  """A run between its steps: set up by `prepare`, advanced by `train_loop`,
  summarised by `finish`; `close` (or leaving a `with` block) releases the
  checkpoint manager and the workdir's lock."""
  name: str
  config: Any
  records: Records
  dataset: data.Dataset
  mesh: Any
  state: Any
  run_key: Any
  eval_key: Any
  train_images: Any        # [N, H, W, C] uint8 (or float32 pixels), on the mesh
  test_images: Any
  validation_images: Any   # the same, or None without a validation split
  checkpoints: Any         # an Orbax CheckpointManager
  history: list            # a metrics.jsonl record per epoch trained so far
  start: int               # the epoch this process started from (0: a new run)
  started: str             # ISO time this process started the run
  clock: float             # time.perf_counter() then
  resources: contextlib.ExitStack  # the checkpoint manager and the workdir's lock
  test: Optional[dict] = None  # train.evaluate of the final epoch, once trained
  models: Optional[int] = None  # a sweep: how many models the leading axis of the state holds

  @property
  def workdir(self):
    return self.records.path

  def close(self):
    self.resources.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


def claim(config, given, name, records, resources):
  """(config, its changes, the earlier resumptions): on --resume the saved
  config with the flags `given` changed, the workdir locked; a new run's
  config with its workdir, which must hold no run (unless --overwrite)."""
  if config.run.resume:
    read_config(records.path, "no run to resume")   # no lock file in a folder without a run
    resources.enter_context(records.lock())
    return resumed_config(config, given, name)
  config = config.replace(workdir=records.path)
  records.check_new(config.run.overwrite)
  return config, {}, []


def load_checked(config):
  """(config, dataset): the config's data, of a resumed run's image shape; a new
  run's config records the shape and where the images are from, so that the run
  reads them wherever it is read."""
  dataset = load_data(config)
  print(dataset.describe(), flush=True)
  if config.run.resume:
    check_shape(config, dataset)
  else:
    config = config.replace(image_shape="x".join(map(str, dataset.image_shape)),
                            data=data.recorded(config.data.name),
                            data_dir=config.data.data_dir and os.path.abspath(config.data.data_dir))
  if len(dataset.train_images) < config.optimiser.batch_size:
    raise UserError(f"--batch-size {config.optimiser.batch_size} exceeds the "
                    f"{len(dataset.train_images)} training examples")
  config.model.check_image(dataset.image_shape)
  return config, dataset


def begin(config, name, records, resources):
  """Writes a new run's config.json under the workdir's new lock, the folder
  checked again there (another run may have begun) and cleared by --overwrite."""
  resources.enter_context(records.lock(create=True))
  records.check_new(config.run.overwrite)
  if config.run.overwrite:
    records.clear()
  records.write_config(name, config, [])


def resume(config, name, records, mngr, state, run_key, *, earlier, changes, started):
  """(state, run key, metrics records, epoch) of the newest usable checkpoint.
  Adds this resumption (its epoch, the time it `started`, the `changes` of
  settings) to config.json after the `earlier` ones, and sets aside what the run
  wrote after that epoch: newer checkpoints, progress pictures."""
  state, run_key, start = checkpoints.restore(mngr, state, run_key)
  history = read_metrics(records.file(METRICS_FILE), start)
  check_progress(records.file(progress.PROGRESS_FILE))
  records.write_config(name, config, earlier + [{"epoch": start, "time": started, "changed": changes}])
  if records.writer:
    checkpoints.set_aside_newer(mngr, start)
    progress.truncate_progress(records.path, start)
  print(f"resumed from the checkpoint of epoch {start}", flush=True)
  return state, run_key, history, start


def prepare(config, given=None, name="ae", make_mesh=None, build_state=build_placed,
            count_models=None):
  """Claims the workdir (its lock: one process at a time), loads the data, and
  builds the state, restored from the newest usable checkpoint on --resume.
  A new run's config.json is written once the data loaded, so that a failed
  start leaves no folder; a resumption records its epoch and changes there.

  A sweep passes its own `make_mesh(config)` (default: parallel.make_mesh),
  `build_state(config, mesh, dataset)` -> (state placed on the mesh, run key, eval key)
  and `count_models(config)`, the length of the state's leading model axis, asked
  of the config the run settles on (on --resume, the resumed run's)."""
  parallel.initialize_distributed()
  started, clock = provenance.now(), time.perf_counter()
  records = Records(config.run.workdir or parallel.same_on_every_process(new_workdir(name)))
  resources = contextlib.ExitStack()
  try:
    with parallel.together("start the run"):  # process 0 decides about the workdir
      config, changes, resumptions = claim(config, given or {}, name, records, resources)
      mesh = (make_mesh(config) if make_mesh
              else parallel.make_mesh(config.run.devices, config.optimiser.batch_size))
      config, dataset = load_checked(config)
      if not config.run.resume:
        begin(config, name, records, resources)
    state, run_key, eval_key = build_state(config, mesh, dataset)
    mngr = checkpoints.manager(records.path, config.run.keep_checkpoints)
    resources.callback(mngr.close)
    resources.callback(mngr.wait_until_finished)
    history, start = [], 0
    if config.run.resume:
      state, run_key, history, start = resume(config, name, records, mngr, state, run_key,
                                              earlier=resumptions, changes=changes, started=started)
    records.write_metrics(history)
    print(f"devices: {mesh.size} x {mesh.devices.flat[0].platform}", flush=True)
    placed = lambda images: None if images is None else jax.device_put(images, parallel.replicated(mesh))
    return Run(name=name, config=config, records=records, dataset=dataset, mesh=mesh, state=state,
               run_key=run_key, eval_key=eval_key, train_images=placed(dataset.train_images),
               test_images=placed(dataset.test_images),
               validation_images=placed(dataset.validation_images),
               checkpoints=mngr, history=history, start=start, started=started, clock=clock,
               resources=resources,
               models=count_models(config) if count_models else None)
  except BaseException:
    resources.close()
    raise


class Progress:
  """What a person watching a run reads: on a terminal a tqdm bar; otherwise
  (a log file) one plain line every `every` epochs and at the last, with no
  carriage returns. Train and test figures shown side by side are both
  per-pixel MSE in [0, 1] units (of the denoised input, for a DAE)."""

  def __init__(self, run):
    self.name, self.epochs = run.name, run.config.optimiser.epochs
    self.every = run.config.run.log_every
    self.figures_of = variants.figures(run.config)
    self.bar = None
    if sys.stdout.isatty():
      self.bar = tqdm.tqdm(total=self.epochs, initial=run.start, desc=run.name, unit="epoch",
                           dynamic_ncols=True, file=sys.stdout)

  def figures(self, record):
    """[(label, per-pixel MSE or None)] of one metrics record: the training
    figure and the test split's of the same input (corrupted, for a denoising variant)."""
    shown = self.figures_of[-1]
    return [(f"train_{shown}", record["train_mse"]), (f"test_{shown}", record.get(f"test_{shown}"))]

  def update(self, record):
    shown = [(label, value) for label, value in self.figures(record) if value is not None]
    if self.bar is not None:
      self.bar.update(1)
      self.bar.set_postfix({label: shown_value(value, 4) for label, value in shown})
    elif record["epoch"] % self.every == 0 or record["epoch"] == self.epochs:
      print(f"{self.name} epoch {record['epoch']}/{self.epochs}: " +
            ", ".join(f"{label} {shown_value(value, 5)}" for label, value in shown) +
            f" (per-pixel MSE, [0, 1] units); {record['seconds']:.2f} s", flush=True)

  def close(self):
    if self.bar is not None:
      self.bar.close()


def shown_value(value, digits):
  """A figure as printed: a number, or for a sweep (a list, a value per model) its range."""
  if isinstance(value, list):
    return f"{min(value):.{digits}f}..{max(value):.{digits}f}"
  return f"{value:.{digits}f}"


def figure(value):
  """A metrics value for JSON: a float, or a list of floats (a value per model of a sweep)."""
  value = np.asarray(value)
  return float(value) if value.ndim == 0 else [float(v) for v in value]


def epoch_fn(run, epoch):
  """(state, metrics) after training `run` for the epoch numbered `epoch` (from 0)."""
  return train.run_epoch(run.state, run.train_images, run.run_key, epoch,
                         batch_size=run.config.optimiser.batch_size,
                         batch_sharding=parallel.batch_sharding(run.mesh))


def evaluate_fn(run, images):
  """train.evaluate of the run's state on `images` (the test or validation split)."""
  return train.evaluate(run.state, images, run.eval_key)


class Pictures:
  """Observes a single run's epochs: the test images' reconstructions at the
  epochs of progress.progress_epochs (progress.npz) and the TensorBoard scalars."""

  def __init__(self, run):
    self.run = run
    dataset = run.dataset
    self.grid_pixels = train.as_pixels(jax.device_put(
        dataset.test_images[progress.grid_indices(dataset.test_labels, len(dataset.test_images))],
        parallel.replicated(run.mesh)))
    self.epochs = set(progress.progress_epochs(run.config.optimiser.epochs))
    self.board = tensorboard_log.ScalarLog(run.workdir, run.start) if run.records.writer else None

  def write(self, record):
    done = record["epoch"]
    if done in self.epochs:
      reconstructions = parallel.to_host(train.reconstruct(self.run.state, self.grid_pixels))
      if self.run.records.writer:
        progress.record_progress(self.run.workdir, done, reconstructions)
    if self.board is not None:
      self.board.write(record)

  def close(self):
    if self.board is not None:
      self.board.close()


def check_finite(run, train_metrics, done):
  """Raises errors.Diverged if epoch `done` left the loss or the parameters non-finite."""
  if not np.all(train_metrics["finite"]):
    newest = run.checkpoints.latest_step()
    raise errors.Diverged(
        f"the loss or the parameters became NaN or infinite in epoch {done}; " +
        (f"the checkpoint of epoch {newest} holds the last good state" if newest
         else "no checkpoint was written"))


def epoch_record(run, done, train_metrics, seconds):
  """The metrics.jsonl record of trained epoch `done`, its evaluated figures None."""
  config, models_trained = run.config, run.models or 1
  n_steps = len(run.dataset.train_images) // config.optimiser.batch_size
  record = {"epoch": done, "train_loss": figure(train_metrics["loss"]),
            "train_mse": figure(train_metrics["mse"]),
            "grad_norm": figure(train_metrics["grad_norm"]),
            "test_loss": None, "test_mse": None, "seconds": seconds,
            "samples_per_s": models_trained * n_steps * config.optimiser.batch_size / seconds}
  record.update({f"test_{k}": None for k in variants.figures(config) if k != variants.CLEAN})
  if run.validation_images is not None:
    record.update({f"validation_{k}": None for k in variants.figures(config)})
  return record


def evaluates(config, done):
  """Whether epoch `done` is evaluated: every --eval-every epochs, and the last."""
  every = config.run.eval_every
  return done == config.optimiser.epochs or bool(every and done % every == 0)


def evaluate_into(run, record, evaluate_fn):
  """Fills `record`'s test (and validation) figures by `evaluate_fn`; returns the
  test evaluation."""
  test = jax.device_get(evaluate_fn(run, run.test_images))
  record.update(test_loss=figure(test["loss"]),
                **{f"test_{k}": figure(test[k]) for k in variants.figures(run.config)})
  if run.validation_images is not None:
    validation = jax.device_get(evaluate_fn(run, run.validation_images))
    record.update({f"validation_{k}": figure(validation[k]) for k in variants.figures(run.config)})
  return test


def interrupted(run, received, done):
  """errors.Interrupted after epoch `done`, with the command that continues the run."""
  return errors.Interrupted(
      f"{signal.Signals(received[0]).name if received else 'a signal to another process'} "
      f"after epoch {done}; checkpoint written, continue with: python experiments/{run.name}.py "
      f"--resume --workdir {run.workdir}")


def train_loop(run, on_epoch=None, epoch_fn=epoch_fn, evaluate_fn=evaluate_fn, observers=None):
  """Trains `run` from its epoch to config.optimiser.epochs: a metrics.jsonl line per
  epoch, checkpoints, and the final epoch's test evaluation in run.test.
  `observers` see each record (`write(record)`, then `close()`; default: a
  single run's `Pictures`); `on_epoch(run, record)` is called after each epoch.
  SIGTERM and SIGINT stop it after the epoch in flight with a checkpoint
  (errors.Interrupted); non-finite training stops it before anything non-finite
  is written (errors.Diverged). With a validation split, the evaluated epochs
  also record `validation_mse` (for a DAE `validation_denoised_mse`). A sweep
  passes its own `epoch_fn(run, epoch)` and `evaluate_fn(run, images)` (this
  module's are the single run's) and no observers; its records hold a list
  per figure, a value per model, and the samples per second of all models."""
  config, mngr = run.config, run.checkpoints
  observers = [Pictures(run)] if observers is None else observers
  display = Progress(run)
  try:
    with deferred_signals() as received:
      for epoch in range(run.start, config.optimiser.epochs):
        tic = time.perf_counter()
        run.state, train_metrics = epoch_fn(run, epoch)
        train_metrics = jax.device_get(train_metrics)
        done = epoch + 1
        check_finite(run, train_metrics, done)
        record = epoch_record(run, done, train_metrics, time.perf_counter() - tic)
        if evaluates(config, done):
          test = evaluate_into(run, record, evaluate_fn)
          if done == config.optimiser.epochs:
            run.test = test
        for observer in observers:
          observer.write(record)
        run.history.append(record)
        run.records.append_metrics(record)
        every = config.run.checkpoint_every
        stop = parallel.any_process(received)  # every process stops after the same epoch
        if done == config.optimiser.epochs or (every and done % every == 0) or stop:
          checkpoints.save(mngr, done, run.state, run.run_key)
        display.update(record)
        if on_epoch is not None:
          on_epoch(run, record)
        if stop and done < config.optimiser.epochs:
          mngr.wait_until_finished()
          raise interrupted(run, received, done)
  finally:
    display.close()
    for observer in observers:
      observer.close()
    mngr.wait_until_finished()


def training_summary(dataset, history):
  """The summary's training figures, from the data and the metrics records:
  samples per second is the median over the epochs after the first (compilation)."""
  rates = [r["samples_per_s"] for r in history[1:]] or [r["samples_per_s"] for r in history]
  validation = dataset.validation_images
  return {
      "data_source": dataset.source, "n_train": len(dataset.train_images),
      "n_test": len(dataset.test_images),
      **({"n_validation": len(validation)} if validation is not None else {}),
      "image_shape": list(dataset.image_shape), "epochs": history[-1]["epoch"] if history else 0,
      "final_train_loss": history[-1]["train_loss"] if history else None,
      "samples_per_s": statistics.median(rates) if rates else None,
  }


def analyse(workdir, config, dataset, state, eval_key, history, test=None, provenance_record=None,
            draw=True):
  """analysis.analyze, saying what it does and how long it took."""
  what = ("codes, kNN, linear probe, trustworthiness, continuity, PCA" +
          (", denoising table" if variants.denoising(config) else "") +
          (f", {config.run.finetune_epochs} epochs of supervised fine-tuning"
           if getattr(config.run, "finetune_epochs", 0) else "") + (", pictures, report" if draw else ""))
  print(f"analysis: {what}", flush=True)
  tic = time.perf_counter()
  out = analysis.analyze(workdir, config, dataset, state, eval_key, history, test=test,
                         provenance=provenance_record, draw=draw)
  print(f"analysis: done in {time.perf_counter() - tic:.1f} s", flush=True)
  return out


def headline(config, summary, workdir, drawn=True):
  """The last line a run or an analysis prints: the variant's figures
  (aejax.variants.headline), PCA's beside them, and where the report is (`drawn`
  False: that the pictures and report were not drawn)."""
  text = f"{variants.display_name(config)}: {variants.headline(config, summary)}"
  if "pca_test_mse" not in summary:
    return text + f"; no analysis: python experiments/analyze.py {workdir}"
  text += f"; PCA with {config.model.latent_dim} components: {summary['pca_test_mse']:.5f}; "
  if not drawn:
    return text + f"pictures and report not drawn: python experiments/analyze.py {workdir}"
  return text + f"report: {os.path.join(workdir, 'report.html')}"


def finish(run):
  """Summarises a trained run: the training figures, the final evaluation (the
  loop's; evaluated here only when nothing was left to train), provenance and,
  unless --no-analysis, the analysis (kept from summary.json when --no-analysis
  resumed a finished run). Writes summary.json and returns it."""
  config = run.config
  test = run.test
  if test is None:
    test = jax.device_get(train.evaluate(run.state, run.test_images, run.eval_key))
  record = provenance.collect(run.started, provenance.now(), time.perf_counter() - run.clock,
                              run.mesh.devices.flat)
  summary = {**training_summary(run.dataset, run.history), "devices": run.mesh.size,
             "provenance": record}
  if config.run.no_analysis or not run.records.writer:
    summary.update(analysis.summary_metrics(config, run.dataset, parallel.local(run.state), run.eval_key,
                                            test, cheap_only=True)[0])
    if run.start == config.optimiser.epochs:   # nothing trained: the earlier analysis still holds
      summary = {**run.records.read_summary(damaged={}), **summary}
  else:
    summary.update(analyse(run.workdir, config, run.dataset, parallel.local(run.state),
                           run.eval_key, run.history, test, record, draw=not config.run.no_pictures))
  run.records.write_summary(summary)
  if run.records.writer:
    print(headline(config, summary, run.workdir, drawn=not config.run.no_pictures), flush=True)
  else:
    print(f"process {jax.process_index()}: trained; process 0 writes the summary", flush=True)
  return summary


def run(config, given=None, name="ae"):
  """Trains as `config` says and writes the workdir; returns the summary dict."""
  parallel.initialize_distributed()
  with parallel.watching_peers(), prepare(config, given, name) as r:
    train_loop(r)
    return finish(r)
