"""A run's folder: one writer at a time, and records that survive damage.

A process that trains, resumes or analyses a run holds an exclusive OS lock on
its workdir (`.lock`, holding the process id), released however the process
ends, SIGKILL included. The records (config.json, metrics.jsonl, summary.json)
are read so that damage ends in one line naming the file (WorkdirError, exit
status 2), never a traceback; JSON files are written atomically, and in a run
of several processes only process 0 writes (`Records.writer`).
"""
import contextlib
import fcntl
import json
import os
import shutil
import sys
import zipfile

import jax
import numpy as np

from aejax import config as config_lib, variants
from aejax.errors import UserError

LOCK_FILE = ".lock"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
SUMMARY_FILE = "summary.json"
# The config class of each experiment a workdir can hold, by config.json's "experiment".
CONFIGS = {**{script: v.config for script, v in variants.VARIANTS.items()}, "sweep": config_lib.SweepConfig}
# Flags of one invocation: recorded as False, and False where a config.json written before one
# existed lacks it.
ACTIONS = ("resume", "overwrite", "no_analysis", "no_pictures")


class WorkdirError(UserError):
  """A workdir that cannot be used as asked, or a damaged record in it."""


def lock(path, create=False):
  """Holds PATH/.lock exclusively (fcntl.flock) and writes this process's id
  into it; returns the open file: closing it, or the end of the process however
  it ends, releases the lock. `create` makes the folder first. Raises
  WorkdirError naming the holder's process id when another process holds it."""
  if create:
    try:
      os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
      raise WorkdirError(f"{path}: exists and is not a folder") from None
  if not os.path.isdir(path):
    raise WorkdirError(f"{path}: not a folder")
  lock_path = os.path.join(path, LOCK_FILE)
  try:
    f = open(lock_path, "a+", errors="replace")  # pylint: disable=consider-using-with  (held for the run)
  except OSError as e:
    raise WorkdirError(f"{lock_path}: cannot be opened ({e.strerror})") from None
  try:
    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except OSError:
    f.seek(0)
    holder = f.read(32).strip()
    f.close()
    holder = f"process {holder}" if holder.isdigit() else "another process"
    raise WorkdirError(f"{path}: in use by {holder} (a run, resume or analysis); wait for it to "
                       "end or stop it") from None
  f.seek(0)
  f.truncate()
  f.write(f"{os.getpid()}\n")
  f.flush()
  return f


def write_json(path, obj):
  """Writes atomically: a reader sees the old file or the new one, never half of one."""
  with open(path + ".tmp", "w") as f:
    json.dump(obj, f, indent=2)
    f.write("\n")
  os.replace(path + ".tmp", path)


def read_json(path):
  """The JSON object in `path`; WorkdirError naming the file if it is damaged."""
  try:
    with open(path, encoding="utf-8") as f:
      obj = json.load(f)
  except FileNotFoundError:
    raise
  except (OSError, ValueError) as e:  # ValueError: JSON or UTF-8 damage
    raise WorkdirError(f"{path}: damaged, not readable as JSON ({e})") from None
  if not isinstance(obj, dict):
    raise WorkdirError(f"{path}: damaged, not a JSON object")
  return obj


def _setting_ok(setting, value):
  kind = setting.type
  if setting.metadata.get("listed"):   # a list of numbers (text in folders written before it had a type)
    try:
      config_lib.as_floats(value, setting.name)
      return True
    except UserError:
      return False
  if value is None:
    return setting.default is None
  if kind is float:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
  if kind is int:
    return isinstance(value, int) and not isinstance(value, bool)
  return isinstance(value, kind)


def _added(setting, base):
  """The value of a setting that a config.json written before it existed ran with: the
  plain AE's setting of that name (a sweep's list of it: the one value), else its default."""
  if setting.name not in base:
    return setting.default
  value = base[setting.name]
  return (float(value),) if setting.metadata.get("listed") else type(setting.default)(value)


def read_config(workdir, missing="not a run folder"):
  """(experiment name, saved settings {flag name: value}, resumptions) of the run in
  `workdir`; `CONFIGS[name].from_flags(**saved)` is its config. A config.json that is
  missing, damaged or not of this project raises WorkdirError."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.isfile(path):
    raise WorkdirError(f"{workdir}: {missing} (no {CONFIG_FILE})")
  saved = read_json(path)
  name = saved.pop("experiment", None)
  resumptions = saved.pop("resumptions", [])
  if name not in CONFIGS:
    raise WorkdirError(f"{path}: not a config of an aejax run (experiment {name!r})")
  cls = CONFIGS[name]
  settings = cls.settings()
  groups = cls.ADDED_LATER
  saved.update({action: False for action in ACTIONS if action in settings and action not in saved})
  missing = set(settings) - set(saved)
  if missing in [set().union(*groups[i:]) for i in range(len(groups))]:   # written before they existed
    base = {n: s.default for n, s in config_lib.AEConfig.settings().items()}
    saved.update({added: _added(settings[added], base) for added in missing})
  if set(saved) != set(settings) or not isinstance(resumptions, list):
    raise WorkdirError(f"{path}: not a config this version can read")
  bad = sorted(k for k, v in saved.items() if not _setting_ok(settings[k], v))
  if bad:
    raise WorkdirError(f"{path}: damaged, wrong type of " + ", ".join(bad))
  saved.update({k: config_lib.as_floats(saved[k], k) for k, f in settings.items() if f.metadata.get("listed")})
  try:
    cls.from_flags(**saved).check()
  except UserError as e:
    raise WorkdirError(f"{path}: damaged, {e}") from None
  return name, saved, resumptions


def holds_files(path):
  """Whether `path` is a folder with anything in it besides the lock file."""
  return os.path.isdir(path) and bool(set(os.listdir(path)) - {LOCK_FILE})


def read_metrics(path, up_to_epoch=None):
  """The records of metrics.jsonl for epochs 1..up_to_epoch (None: all it holds), in order.

  A torn last line (what a kill or a full disk during the append leaves) is
  dropped with a warning: its epoch comes after the newest checkpoint. Other
  damage, or lines missing for epochs up to `up_to_epoch`, raise WorkdirError."""
  if not os.path.isfile(path):
    if up_to_epoch:
      raise WorkdirError(f"{path}: missing; the checkpoint of epoch {up_to_epoch} needs its lines")
    return []
  try:
    with open(path, encoding="utf-8") as f:
      lines = f.read().splitlines()
  except (OSError, ValueError) as e:
    raise WorkdirError(f"{path}: cannot be read ({e})") from None
  records = []
  for number, line in enumerate(lines, 1):
    if not line.strip():
      continue
    try:
      record = json.loads(line)
      if not isinstance(record, dict) or type(record.get("epoch")) is not int:
        raise ValueError("no epoch")
    except ValueError:
      if number == len(lines):
        print(f"warning: {path}: its last line (line {number}) is cut short and is ignored",
              file=sys.stderr, flush=True)
        break
      raise WorkdirError(f"{path}: damaged at line {number}") from None
    records.append(record)
  if up_to_epoch is None:   # every epoch recorded (a finished run, for reading only)
    up_to_epoch = records[-1]["epoch"] if records else 0
  records = [r for r in records if r["epoch"] <= up_to_epoch]
  if [r["epoch"] for r in records] != list(range(1, up_to_epoch + 1)):
    raise WorkdirError(f"{path}: holds epochs {[r['epoch'] for r in records][:8]}..., not 1 to "
                       f"{up_to_epoch} as the checkpoint of epoch {up_to_epoch} needs")
  return records


def check_progress(path):
  """Raises WorkdirError naming `path` unless it is absent or a readable
  progress.npz (arrays named epoch_<n>); aejax.run.analysis reads and extends it."""
  if not os.path.exists(path):
    return
  try:
    with np.load(path) as arrays:
      for name in arrays.files:
        int(name.split("_", 1)[1])
        arrays[name]  # pylint: disable=pointless-statement  (reads and checks the array)
  except (OSError, ValueError, EOFError, IndexError, KeyError, zipfile.BadZipFile) as e:
    raise WorkdirError(f"{path}: damaged ({type(e).__name__}); delete it to go on without the "
                       "earlier progress pictures") from None


class Records:
  """The records of the run in `path`, written by process 0 alone (`writer`):
  config.json, metrics.jsonl and summary.json. Checkpoints go through Orbax,
  which coordinates the processes itself."""

  def __init__(self, path):
    self.path = path
    self.writer = jax.process_index() == 0

  def file(self, name):
    return os.path.join(self.path, name)

  def lock(self, create=False):
    """The workdir's lock (see `lock`), held by the writer alone; a context
    manager that releases it."""
    return lock(self.path, create) if self.writer else contextlib.nullcontext()

  def check_new(self, overwrite):
    """Raises WorkdirError unless a new run may start here: the folder is absent
    or empty, or, with `overwrite`, holds a run of this project."""
    if not self.writer:
      return  # process 0 decides, and the others learn its answer (parallel.together)
    if os.path.exists(self.path) and not os.path.isdir(self.path):
      raise WorkdirError(f"{self.path}: exists and is not a folder")
    if not holds_files(self.path):
      return
    if not overwrite:
      raise WorkdirError(f"{self.path}: holds an earlier run; pass --resume to continue it, "
                         "--overwrite to replace it, or choose another --workdir")
    try:
      name = read_json(self.file(CONFIG_FILE)).get("experiment")
    except (FileNotFoundError, WorkdirError):
      name = None
    if name not in CONFIGS:
      raise WorkdirError(f"{self.path}: --overwrite refused: the folder holds files and no "
                         f"{CONFIG_FILE} of an aejax run; nothing was deleted")

  def clear(self):
    """Deletes everything in the workdir but its lock (a new run replaces an old one)."""
    if not self.writer:
      return
    for entry in os.listdir(self.path):
      if entry != LOCK_FILE:
        target = self.file(entry)
        if os.path.isdir(target) and not os.path.islink(target):
          shutil.rmtree(target)
        else:
          os.remove(target)

  def write_config(self, name, config, resumptions):
    """config.json: the settings in force (ACTIONS recorded False) and the resumptions."""
    if self.writer:
      fields = {**config.flags(), **{k: False for k in ACTIONS}}
      write_json(self.file(CONFIG_FILE), {"experiment": name, **fields, "resumptions": resumptions})

  def write_metrics(self, history):
    """Replaces metrics.jsonl with the records of `history` (a resumed run's epochs so far)."""
    if self.writer:
      path = self.file(METRICS_FILE)
      with open(path + ".tmp", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in history)
      os.replace(path + ".tmp", path)

  def append_metrics(self, record):
    if self.writer:
      with open(self.file(METRICS_FILE), "a") as f:
        f.write(json.dumps(record) + "\n")

  def read_summary(self, damaged=None):
    """summary.json, or {} if there is none; if it is damaged, `damaged` if
    given, else WorkdirError."""
    try:
      return read_json(self.file(SUMMARY_FILE))
    except FileNotFoundError:
      return {}
    except WorkdirError:
      if damaged is None:
        raise
      return damaged

  def write_summary(self, summary):
    if self.writer:
      write_json(self.file(SUMMARY_FILE), summary)
