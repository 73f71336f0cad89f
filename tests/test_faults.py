"""Faults with real processes: signals at chosen moments, hard kills, divergence,
fuzzed flags, determinism."""
import json
import os
import random
import signal
import subprocess
import sys
import time

import chex
import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st

from aejax import checkpoints, config, experiment
from conftest import ROOT, fake_mnist
from test_cli import expect_error, script

EPOCHS = 30
SCRIPT = os.path.join(ROOT, "experiments", "dae.py")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")))


def args(workdir, data_dir, *extra):
  return [sys.executable, SCRIPT, "--workdir", str(workdir), "--data-dir", data_dir, "--epochs", str(EPOCHS),
          "--batch-size", "32", "--checkpoint-every", "4", "--noise", "0.3", *extra]


def run(cmd):
  return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": ROOT})


@pytest.fixture(scope="module")
def straight(tmp_path_factory, data_dir):
  workdir = tmp_path_factory.mktemp("straight") / "run"
  done = run(args(workdir, data_dir))
  assert done.returncode == 0, done.stderr[-2000:]
  return workdir


def summary(workdir):
  with open(os.path.join(workdir, "summary.json")) as f:
    return json.load(f)


def final_params(workdir):
  state, key, _ = experiment.build(config.DAEConfig(noise=0.3))
  mngr = checkpoints.manager(str(workdir))
  state, _, epoch = checkpoints.restore(mngr, state, key)
  assert epoch == EPOCHS
  return state.params


def metrics_lines(workdir):
  try:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
      return sum(1 for _ in f)
  except FileNotFoundError:
    return 0


def finished_checkpoints(workdir):
  """Orbax renames a checkpoint to its epoch number only once it is complete."""
  try:
    return [d for d in os.listdir(os.path.join(workdir, "checkpoints")) if d.isdigit()]
  except FileNotFoundError:
    return []


def start_and_kill(workdir, data_dir, sig, after_lines, extra_delay=0.0, after_checkpoint=False):
  """Starts a run, waits for its `after_lines`-th metrics line (and a finished
  checkpoint, if asked), then `extra_delay` seconds, and sends `sig`."""
  proc = subprocess.Popen(args(workdir, data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
  deadline = time.time() + 200
  ready = lambda: metrics_lines(workdir) >= after_lines and (
      not after_checkpoint or finished_checkpoints(workdir))
  while not ready() and proc.poll() is None and time.time() < deadline:
    time.sleep(0.005)
  time.sleep(extra_delay)
  proc.send_signal(sig)
  out, err = proc.communicate(timeout=200)
  return proc.returncode, out, err


def assert_same_result(resumed, straight):
  a, b = summary(resumed), summary(straight)
  for key in ("final_train_loss", "test_mse", "denoised_mse", "noisy_input_mse", "knn_accuracy"):
    assert a[key] == b[key], key
  chex.assert_trees_all_equal(final_params(resumed), final_params(straight))
  progress = [dict(np.load(os.path.join(w, "progress.npz"))) for w in (resumed, straight)]
  chex.assert_trees_all_equal(*progress)   # the resumed run redid what came after its checkpoint


def test_sigterm_checkpoints_and_resumes_to_the_uninterrupted_result(tmp_path, data_dir, straight):
  workdir = tmp_path / "run"
  code, _, err = start_and_kill(workdir, data_dir, signal.SIGTERM, after_lines=3)
  assert code == 3, err[-2000:]
  last = err.strip().splitlines()[-1]
  assert "interrupted: SIGTERM after epoch" in last and "--resume" in last and "Traceback" not in err
  stopped_at = int(last.split("after epoch ")[1].split(";")[0])
  assert stopped_at < EPOCHS and metrics_lines(workdir) == stopped_at
  assert str(stopped_at) in os.listdir(workdir / "checkpoints")
  done = run([sys.executable, SCRIPT, "--workdir", str(workdir), "--resume"])
  assert done.returncode == 0, done.stderr[-2000:]
  assert f"resumed from the checkpoint of epoch {stopped_at}" in done.stdout
  assert_same_result(workdir, straight)


def test_sigint_is_handled_like_sigterm(tmp_path, data_dir):
  code, _, err = start_and_kill(tmp_path / "run", data_dir, signal.SIGINT, after_lines=2)
  assert code == 3 and "interrupted: SIGINT after epoch" in err and "Traceback" not in err


def test_sigkill_at_a_random_moment_resumes_to_the_uninterrupted_result(tmp_path, data_dir, straight):
  workdir = tmp_path / "run"
  delay = random.Random().uniform(0.0, 0.2)
  code, _, _ = start_and_kill(workdir, data_dir, signal.SIGKILL, after_lines=5, extra_delay=delay,
                              after_checkpoint=True)
  assert code == -signal.SIGKILL
  done = run([sys.executable, SCRIPT, "--workdir", str(workdir), "--resume"])
  assert done.returncode == 0, f"killed {delay:.3f} s after a checkpoint: {done.stderr[-2000:]}"
  assert_same_result(workdir, straight)


def test_corrupted_newest_checkpoint_is_skipped_with_a_warning(tmp_path, data_dir, straight):
  workdir = tmp_path / "run"
  code, _, _ = start_and_kill(workdir, data_dir, signal.SIGTERM, after_lines=9)
  assert code == 3
  steps = sorted(map(int, finished_checkpoints(workdir)))
  assert len(steps) >= 2
  newest = workdir / "checkpoints" / str(steps[-1])
  for root, _, files in os.walk(newest):
    for name in files:
      if name != "_CHECKPOINT_METADATA":
        with open(os.path.join(root, name), "wb") as f:
          f.write(b"garbage")
  done = run([sys.executable, SCRIPT, "--workdir", str(workdir), "--resume"])
  assert done.returncode == 0, done.stderr[-2000:]
  assert f"warning: checkpoint {newest} is unusable" in done.stderr
  assert f"resumed from the checkpoint of epoch {steps[-2]}" in done.stdout
  assert_same_result(workdir, straight)


def test_non_finite_training_stops_and_keeps_the_last_good_checkpoint(tmp_path, data_dir):
  workdir = tmp_path / "run"
  done = run([sys.executable, SCRIPT, "--workdir", str(workdir), "--data-dir", data_dir, "--epochs", "5",
              "--batch-size", "32", "--checkpoint-every", "1", "--lr", "1e30"])
  assert done.returncode == 4, done.stderr[-2000:]
  last = done.stderr.strip().splitlines()[-1]
  assert "diverged: the loss or the parameters became NaN or infinite in epoch" in last
  assert not os.path.exists(workdir / "summary.json")
  saved = [s for s in os.listdir(workdir / "checkpoints") if s.isdigit()]
  mngr = checkpoints.manager(str(workdir))
  state, key, _ = experiment.build(config.DAEConfig(lr=1e30))
  if saved:  # every checkpoint that was written is finite
    checkpoints.restore(mngr, state, key)


FLAGS = {f.name: f for f in __import__("dataclasses").fields(config.DAEConfig)}
NUMERIC = {"epochs": int, "batch_size": int, "latent_dim": int, "keep_checkpoints": int,
           "eval_every": int, "checkpoint_every": int, "devices": int, "seed": int,
           "lr": float, "weight_decay": float, "noise": float}


def parses(kind, text):
  try:
    kind(text)
    return True
  except ValueError:
    return False


def bad_values():
  """(flag, value) pairs that no valid run accepts."""
  def not_number(kind):
    return st.text(max_size=8).filter(lambda t: not parses(kind, t))
  numeric = st.sampled_from(sorted(NUMERIC)).flatmap(
      lambda name: st.tuples(st.just(name), not_number(NUMERIC[name])))
  nonpositive = st.tuples(st.sampled_from(["epochs", "batch_size", "latent_dim", "keep_checkpoints"]),
                          st.integers(max_value=0).map(str))
  negative = st.tuples(st.sampled_from(["eval_every", "checkpoint_every", "devices", "weight_decay"]),
                       st.integers(max_value=-1).map(str))
  noise = st.tuples(st.just("noise"), st.one_of(st.floats(max_value=-1e-6), st.just("nan"),
                                                st.just("inf")).map(str))
  lr = st.tuples(st.just("lr"), st.floats(max_value=0).map(str))
  choice = st.sampled_from(["loss", "corruption", "data_source", "dtype"]).flatmap(
      lambda name: st.tuples(st.just(name), st.text(max_size=10).filter(
          lambda t: t not in FLAGS[name].metadata["choices"])))
  widths = st.tuples(st.just("widths"), st.text(max_size=10).filter(
      lambda t: not all(p.strip().isdigit() and int(p) > 0 for p in t.split(","))))
  return st.one_of(numeric, nonpositive, negative, noise, lr, choice, widths)


@hypothesis.settings(max_examples=150, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(bad_values())
def test_fuzzed_flags_exit_2_naming_the_flag(capsys, tmp_path, pair):
  name, value = pair
  flag = "--" + name.replace("_", "-")
  workdir = tmp_path / "never"
  expect_error(capsys, "dae", [f"{flag}={value}", "--workdir", str(workdir)], flag)
  assert not workdir.exists()


def test_same_seed_same_metrics_other_seed_other_params(tmp_path, data_dir):
  main = script("ae")
  common = ["--data-dir", data_dir, "--epochs", "3", "--batch-size", "32"]
  a = main(common + ["--workdir", str(tmp_path / "a")])
  b = main(common + ["--workdir", str(tmp_path / "b")])
  c = main(common + ["--workdir", str(tmp_path / "c"), "--seed", "1"])
  timing = {"samples_per_s", "provenance"}
  assert {k: v for k, v in a.items() if k not in timing} == {k: v for k, v in b.items() if k not in timing}
  assert a["test_mse"] != c["test_mse"]


NOT_INT = st.text(max_size=6).filter(lambda t: not parses(int, t))


@hypothesis.settings(max_examples=40, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(st.one_of(
    st.tuples(st.just(("curse", "--points")), st.one_of(st.integers(max_value=9).map(str), NOT_INT)),
    st.tuples(st.just(("benchmark", "--epochs")), st.one_of(st.integers(max_value=0).map(str), NOT_INT))))
def test_fuzzed_flags_of_the_other_scripts_exit_2(capsys, pair):
  (name, flag), value = pair
  expect_error(capsys, name, [f"{flag}={value}"], flag)
