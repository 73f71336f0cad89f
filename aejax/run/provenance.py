"""Where and how a run was made: time, device, code and package versions.

`collect` returns a JSON-ready dict; a run stores it in summary.json under
"provenance", and the report and TensorBoard show it.
"""
import datetime
import importlib.metadata
import os
import platform
import subprocess

import jax

PACKAGES = ("jax", "jaxlib", "flax", "optax", "orbax-checkpoint", "chex", "numpy")


def now():
  """The current local time, ISO 8601 with its UTC offset, to the second."""
  return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def git_commit(path=None):
  """The commit checked out where the code of `path` (default: this package) lies,
  with '+dirty' if tracked files differ from it; None outside a git checkout."""
  folder = path or os.path.dirname(os.path.abspath(__file__))
  try:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True,
                            text=True, timeout=10, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                           capture_output=True, text=True, timeout=10, check=True).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return None
  return commit + ("+dirty" if dirty else "")


def versions():
  """{package: version} of Python and the packages a run's numbers depend on."""
  out = {"python": platform.python_version()}
  for name in PACKAGES:
    try:
      out[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      out[name] = None
  return out


def device_description(devices):
  """'2 x cpu (TFRT_CPU_0 ...)'-style one-liner: count, platform and kind of `devices`."""
  devices = list(devices)
  kinds = sorted({d.device_kind for d in devices})
  return f"{len(devices)} x {devices[0].platform} ({', '.join(kinds)})"


def collect(started, finished, seconds, devices):
  """Provenance of a run that started and finished at the given ISO times and
  took `seconds` wall-clock seconds on `devices`."""
  return {
      "started": started,
      "finished": finished,
      "seconds": seconds,
      "host": platform.node(),
      "processes": jax.process_count(),
      "device": device_description(devices),
      "git_commit": git_commit(),
      "versions": versions(),
  }
