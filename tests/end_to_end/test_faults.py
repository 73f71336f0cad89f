"""Faults with real processes: signals at chosen moments, hard kills, divergence,
fuzzed flags, determinism."""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import chex
import hypothesis
import numpy as np
import pytest
from conftest import ROOT, applied_rate, call, expect_error, fake_mnist, metrics_lines, read_scalars, script
from hypothesis import strategies as st

from aejax import config
from aejax.run import checkpoints, experiment

EPOCHS = 20
SCRIPT = os.path.join(ROOT, "experiments", "dae.py")
MODEL = ["--batch-size", "32", "--noise", "0.3"]   # the default widths; the noise level is traced


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")))


def flags(workdir, data_dir, *extra):
  """The run that every fault interrupts; its learning rate follows the cosine schedule,
  so that an interrupted run must also resume the schedule where it was. Every run of this
  file trains this model (MODEL), whose programs are then compiled once."""
  return ["--workdir", str(workdir), "--data-dir", data_dir, "--epochs", str(EPOCHS), *MODEL,
          "--checkpoint-every", "4", "--lr-schedule", "cosine", "--no-analysis", *extra]


@pytest.fixture(scope="module")
def straight(tmp_path_factory, data_dir):
  workdir = tmp_path_factory.mktemp("straight") / "run"
  script("dae")(flags(workdir, data_dir))
  return workdir


def summary(workdir):
  with open(os.path.join(workdir, "summary.json")) as f:
    return json.load(f)


def final_params(workdir):
  state, key, _ = experiment.build(config.DAEConfig.from_flags(noise=0.3))
  mngr = checkpoints.manager(str(workdir))
  state, _, epoch = checkpoints.restore(mngr, state, key)
  assert epoch == EPOCHS
  return state.params


def finished_checkpoints(workdir):
  """Orbax renames a checkpoint to its epoch number only once it is complete."""
  try:
    return [d for d in os.listdir(os.path.join(workdir, "checkpoints")) if d.isdigit()]
  except FileNotFoundError:
    return []


def start_and_kill(workdir, data_dir, sig, after_lines, after_checkpoint=False):
  """Starts a run in a process, waits for its `after_lines`-th metrics line (and a
  finished checkpoint, if asked), holds it there (SIGSTOP), sends `sig` and lets it
  go on. Returns (exit status, stdout, stderr, metrics lines when it was held):
  the moment is set by the run's progress, not by the clock."""
  proc = subprocess.Popen([sys.executable, SCRIPT, *flags(workdir, data_dir)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})
  deadline = time.time() + 200
  ready = lambda: metrics_lines(workdir) >= after_lines and (
      not after_checkpoint or finished_checkpoints(workdir))
  while not ready() and proc.poll() is None and time.time() < deadline:
    time.sleep(0.002)
  proc.send_signal(signal.SIGSTOP)
  held_at = metrics_lines(workdir)
  proc.send_signal(sig)
  proc.send_signal(signal.SIGCONT)
  out, err = proc.communicate(timeout=200)
  assert after_lines <= held_at < EPOCHS, f"held after {held_at} epochs: {err[-2000:]}"
  return proc.returncode, out, err, held_at


def test_cosine_schedule_sets_each_epochs_learning_rate(tmp_path, data_dir):
  # MODEL's: the run's optimizer applies the cosine rate of each epoch, counted by
  # its steps; and the programs are those of the runs below
  run_config = config.DAEConfig.from_flags(workdir=str(tmp_path / "run"), data_dir=data_dir, epochs=4,
                                           batch_size=32, noise=0.3, lr=2e-3, lr_schedule="cosine",
                                           no_analysis=True)
  counts = []
  with experiment.prepare(run_config, {}, "dae") as run:
    steps = len(run.dataset.train_images) // 32
    first, last = ([applied_rate(run.state.tx, epoch * steps + at) for epoch in range(4)] for at in (0, steps - 1))
    experiment.train_loop(run, lambda run, record: counts.append(int(run.state.opt_state.count)))
  per_epoch = [2e-3, 2e-3 * (2 + 2 ** 0.5) / 4, 1e-3, 2e-3 * (2 - 2 ** 0.5) / 4]
  assert first == pytest.approx(per_epoch, rel=1e-4) and last == pytest.approx(per_epoch, rel=1e-4)
  assert counts == [steps, 2 * steps, 3 * steps, 4 * steps]


def assert_same_result(resumed, straight):
  """The same figures, parameters and progress pictures; TensorBoard's scalars one
  per epoch (the steps the interrupted process logged after its checkpoint purged)."""
  assert [step for step, _ in read_scalars(str(resumed), "per_pixel_mse/train")] == list(range(1, EPOCHS + 1))
  a, b = summary(resumed), summary(straight)
  for key in ("final_train_loss", "test_mse", "denoised_mse", "noisy_input_mse"):
    assert a[key] == b[key], key
  chex.assert_trees_all_equal(final_params(resumed), final_params(straight))
  progress = [dict(np.load(os.path.join(w, "progress.npz"))) for w in (resumed, straight)]
  chex.assert_trees_all_equal(*progress)   # the resumed run redid what came after its checkpoint


def test_sigterm_checkpoints_and_resumes_to_the_uninterrupted_result(capsys, tmp_path, data_dir, straight):
  workdir = tmp_path / "run"
  code, _, err, held_at = start_and_kill(workdir, data_dir, signal.SIGTERM, after_lines=3)
  assert code == 3, err[-2000:]
  last = err.strip().splitlines()[-1]
  assert "interrupted: SIGTERM after epoch" in last and "--resume" in last and "Traceback" not in err
  stopped_at = int(last.split("after epoch ")[1].split(";")[0])
  assert stopped_at in (held_at, held_at + 1)   # the epoch in flight when the signal came
  assert metrics_lines(workdir) == stopped_at
  assert str(stopped_at) in os.listdir(workdir / "checkpoints")
  code, out, err = call(capsys, "dae", ["--workdir", str(workdir), "--resume", "--no-analysis"])
  assert code == 0, err[-2000:]
  assert f"resumed from the checkpoint of epoch {stopped_at}" in out
  assert_same_result(workdir, straight)


def test_sigkill_at_a_random_moment_resumes_to_the_uninterrupted_result(capsys, tmp_path, data_dir,
                                                                        straight):
  workdir = tmp_path / "run"
  # never at a checkpoint's epoch (every 4th): the killed process logged TensorBoard steps after
  # its newest checkpoint, which the resumed run must purge
  after = random.Random().choice([e for e in range(5, EPOCHS - 4) if e % 4])
  code, _, _, held_at = start_and_kill(workdir, data_dir, signal.SIGKILL, after_lines=after,
                                       after_checkpoint=True)
  assert code == -signal.SIGKILL
  code, out, err = call(capsys, "dae", ["--workdir", str(workdir), "--resume", "--no-analysis"])
  assert code == 0, f"killed after {held_at} epochs: {err[-2000:]}"
  assert_same_result(workdir, straight)
  # TensorBoard drops the killed process's steps after the checkpoint on the resumed process's word:
  # a session start at the first epoch it trains again, in its event file
  resumed_from = int(out.split("resumed from the checkpoint of epoch ")[1].split()[0])
  assert resumed_from < held_at and session_starts(workdir) == [resumed_from + 1], (resumed_from, held_at)


def session_starts(workdir):
  """The steps of the session starts (purge marks) in a run's TensorBoard event files."""
  from tensorboard.backend.event_processing import event_file_loader  # pylint: disable=import-outside-toplevel
  from tensorboard.compat.proto import event_pb2  # pylint: disable=import-outside-toplevel
  folder = os.path.join(workdir, "tensorboard")
  return sorted(e.step for name in os.listdir(folder) if "tfevents" in name
                for e in event_file_loader.EventFileLoader(os.path.join(folder, name)).Load()
                if e.HasField("session_log") and e.session_log.status == event_pb2.SessionLog.START)


def test_corrupted_newest_checkpoint_is_set_aside_and_trained_again(capsys, tmp_path, straight):
  # The newest checkpoint (epoch EPOCHS) is unreadable: the resume starts from the one
  # before and must write epoch EPOCHS again, not keep the unreadable one.
  workdir = tmp_path / "run"
  shutil.copytree(straight, workdir)
  steps = sorted(map(int, finished_checkpoints(workdir)))
  assert steps[-1] == EPOCHS and len(steps) >= 2
  newest = workdir / "checkpoints" / str(EPOCHS)
  for root, _, files in os.walk(newest):
    for name in files:
      if name != "_CHECKPOINT_METADATA":
        with open(os.path.join(root, name), "wb") as f:
          f.write(b"garbage")
  code, out, err = call(capsys, "dae", ["--workdir", str(workdir), "--resume", "--no-analysis"])
  assert code == 0, err[-2000:]
  assert f"warning: checkpoint {newest} is unusable" in err
  assert f"resumed from the checkpoint of epoch {steps[-2]}" in out
  assert os.path.isdir(workdir / "checkpoints" / f"unusable-{EPOCHS}")   # kept, not deleted
  assert_same_result(workdir, straight)


def test_non_finite_training_stops_and_keeps_the_last_good_checkpoint(capsys, tmp_path, data_dir):
  workdir = tmp_path / "run"
  common = ["--data-dir", data_dir, "--batch-size", "32", "--checkpoint-every", "1", "--no-analysis"]
  code, _, err = call(capsys, "dae", ["--workdir", str(tmp_path / "at_once"), "--epochs", "2",
                                      "--lr", "1e30", *common])
  assert code == 4 and "in epoch 1; no checkpoint was written" in err.strip().splitlines()[-1], err
  assert not os.path.exists(tmp_path / "at_once" / "summary.json")
  assert not finished_checkpoints(tmp_path / "at_once")

  assert call(capsys, "dae", ["--workdir", str(workdir), "--epochs", "2", *common])[0] == 0
  with open(workdir / "config.json") as f:
    saved = json.load(f)
  with open(workdir / "config.json", "w") as f:   # the same run, now with a step size that diverges
    json.dump({**saved, "lr": 1e30}, f)
  before = summary(workdir)
  code, _, err = call(capsys, "dae", ["--workdir", str(workdir), "--resume", "--epochs", "4"])
  assert code == 4, err[-2000:]
  assert err.strip().splitlines()[-1].endswith(
      "diverged: the loss or the parameters became NaN or infinite in epoch 3; the checkpoint of "
      "epoch 2 holds the last good state")
  assert sorted(map(int, finished_checkpoints(workdir))) == [1, 2]   # nothing non-finite written
  state, key, _ = experiment.build(config.DAEConfig.from_flags(lr=1e30))
  _, _, epoch = checkpoints.restore(checkpoints.manager(str(workdir)), state, key)
  assert epoch == 2 and "unusable" not in capsys.readouterr().err
  assert summary(workdir) == before


FLAGS = config.DAEConfig.settings()
NUMERIC = {"epochs": int, "batch_size": int, "latent_dim": int, "keep_checkpoints": int,
           "eval_every": int, "checkpoint_every": int, "devices": int, "seed": int,
           "lr": float, "weight_decay": float, "noise": float, "rotation": float, "shift": float,
           "scale": float}


def parses(kind, text):
  try:
    kind(text)
    return True
  except ValueError:
    return False


def valid_widths(text):
  """Whether --widths accepts `text`: positive integers as int() reads them, comma-separated."""
  return all(parses(int, p) and int(p) > 0 for p in text.split(","))


def test_the_widths_filter_agrees_with_int():
  # str.isdigit accepts digits such as superscripts that int() rejects.
  assert not valid_widths("\u00b2") and not valid_widths("1,\u00b9")
  assert valid_widths("128,64") and valid_widths(" 12") and not valid_widths("0") and not valid_widths("")


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
  ranges = st.sampled_from(sorted(config.AUGMENTATION_RANGES.items())).flatmap(
      lambda range_: st.tuples(st.just(range_[0]), st.one_of(
          st.floats(max_value=-1e-6), st.floats(min_value=range_[1] + 1e-3), st.just("nan")).map(str)))
  choice = st.sampled_from(["loss", "corruption", "data_source", "dtype", "augmentation",
                           "lr_schedule"]).flatmap(
      lambda name: st.tuples(st.just(name), st.text(max_size=10).filter(
          lambda t: t not in FLAGS[name].metadata["choices"])))
  widths = st.tuples(st.just("widths"), st.text(max_size=10).filter(lambda t: not valid_widths(t)))
  return st.one_of(numeric, nonpositive, negative, noise, lr, ranges, choice, widths)


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
  # A DAE (MODEL): its training noise, too, must follow the seed alone.
  main = script("dae")
  common = ["--data-dir", data_dir, "--epochs", "3", *MODEL, "--no-analysis"]
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
    st.tuples(st.sampled_from([("benchmark", "--epochs"), ("benchmark", "--rounds")]),
              st.one_of(st.integers(max_value=0).map(str), NOT_INT))))
def test_fuzzed_flags_of_the_other_scripts_exit_2(capsys, pair):
  (name, flag), value = pair
  expect_error(capsys, name, [f"{flag}={value}"], flag)
