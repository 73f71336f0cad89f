"""Several processes as one run, on this machine: JAX's distributed runtime with CPU
collectives over gloo, each process with its own forced CPU devices."""
import importlib.util
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from conftest import ROOT, TEST_XLA_FLAGS, fake_mnist, metrics_lines

AE = os.path.join(ROOT, "experiments", "ae.py")
SWEEP = os.path.join(ROOT, "experiments", "sweep.py")
DAE = os.path.join(ROOT, "experiments", "dae.py")
EPOCHS = 8
LONG = 500      # epochs of a run that a signal or a kill stops: far more than it trains before
# A DAE: its training noise is drawn on every device, so that equal runs also need equal noise.
TINY = ["--batch-size", "32", "--widths", "32", "--eval-every", "4", "--checkpoint-every", "0",
        "--noise", "0.3"]

# Coordinator ports below Linux's ephemeral range (32768-60999: no bind(0) or outgoing connection takes
# them): 2000 per xdist worker, in them a block of 100 chosen by the pid (for concurrent sessions), handed
# out in turn and checked free, so that no two test processes hand out the same port at the same time.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0) % 10
_PORTS = (12000 + _WORKER * 2000 + os.getpid() % 20 * 100 + i % 100 for i in itertools.count())


def free_port():
  for port in _PORTS:
    with socket.socket() as s:
      try:
        s.bind(("", port))
      except OSError:
        continue
    return port


def env(devices, process=None, n=None, port=None, **extra):
  # XLA's flags: the test session's alone (no device count of the environment's beside JAX_NUM_CPU_DEVICES)
  out = {**os.environ, "PYTHONPATH": ROOT, "JAX_NUM_CPU_DEVICES": str(devices),
         "PYTHONUNBUFFERED": "1", "XLA_FLAGS": TEST_XLA_FLAGS}
  for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
    out.pop(name, None)
  if n is not None:
    out.update(JAX_COORDINATOR_ADDRESS=f"localhost:{port}", JAX_NUM_PROCESSES=str(n),
               JAX_PROCESS_ID=str(process), AEJAX_JOIN_TIMEOUT="60", AEJAX_PEER_TIMEOUT="10")
  return {**out, **extra}


_STARTED = []


def start(args, devices, n=1, port=None, script=DAE, **extra):
  """n processes of `script` (dae.py, ae.py) with `devices` CPU devices each (one plain process if
  n == 1), their output in files (a full pipe cannot stall one of them while its peers wait)."""
  procs = []
  for p in range(n):
    logs = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    procs.append(subprocess.Popen(
        [sys.executable, script] + args, stdout=logs[0], stderr=logs[1], text=True,
        env=env(devices, p if n > 1 else None, n if n > 1 else None, port, **extra)))
    procs[-1].logs = logs
  _STARTED.extend(procs)
  return procs


@pytest.fixture(autouse=True)
def _no_process_left():
  """A failed test or fixture leaves no process of its run behind."""
  yield
  while _STARTED:
    p = _STARTED.pop()
    if p.poll() is None:
      p.kill()
      p.wait()


def output(p):
  texts = []
  for f in p.logs:
    f.seek(0)
    texts.append(f.read())
  return texts


def finish(procs, timeout=300):
  """[(exit status, stdout, stderr)] of the processes; if one still runs after `timeout` s,
  all are killed and the test fails."""
  deadline = time.time() + timeout
  try:
    for p in procs:
      p.wait(timeout=max(deadline - time.time(), 0))
  except subprocess.TimeoutExpired:
    for p in procs:
      p.kill()
      p.wait()
    pytest.fail(f"still running after {timeout} s; their stderr: " +
                " | ".join(output(p)[1][-1500:] for p in procs))
  return [(p.returncode, *output(p)) for p in procs]


_FINAL = {}


def final_params(workdir):
  """(epoch, the parameters flattened) of the newest checkpoint of a finished run, read once per
  workdir (the reference run of several tests)."""
  if workdir not in _FINAL:
    from aejax.run import experiment
    _, state, _, epoch = experiment.load_run(workdir)
    _FINAL[workdir] = epoch, np.concatenate([np.ravel(x) for x in
                                             __import__("jax").tree.leaves(state.params)])
  return _FINAL[workdir]


def read_summary(workdir):
  with open(os.path.join(workdir, "summary.json")) as f:
    return json.load(f)


def figures(summary):
  return {k: summary[k] for k in ("final_train_loss", "test_mse", "test_loss")}


def metrics(workdir):
  try:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
      return [json.loads(line) for line in f]
  except FileNotFoundError:
    return []


def wait_for_lines(workdir, lines, procs, fast=True, timeout=300):
  """Returns once the run has written `lines` metrics lines (or a process ended): polls every
  20 ms until one line before, then (if `fast`) every 1 ms, to come as soon as the line is written."""
  deadline = time.time() + timeout
  while all(p.poll() is None for p in procs) and time.time() < deadline:
    written = metrics_lines(workdir)
    if written >= lines:
      return
    time.sleep(0.001 if fast and written == lines - 1 else 0.02)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")), n_train=128, n_test=64)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, data_dir):
  """The same tiny DAE run as 1 process x 4 devices and as 2 processes x 2 devices: several
  processes and several devices in each (one device per process is the special case)."""
  root = tmp_path_factory.mktemp("mp")
  one = str(root / "one")
  two = str(root / "two")
  # Process 0 of the two-process run analyses; the reference run needs only its figures.
  runs = start(TINY + ["--epochs", str(EPOCHS), "--data-dir", data_dir, "--workdir", one, "--no-analysis"],
               devices=4)
  runs += start(TINY + ["--epochs", str(EPOCHS), "--data-dir", data_dir, "--workdir", two], devices=2, n=2,
                port=free_port())
  done = finish(runs)
  for rc, out, err in done:
    assert rc == 0, err[-3000:]
  return one, two, done


def test_two_processes_of_two_devices_train_as_one_process_of_four(two_processes):
  """The parameters (after 8 epochs of training noise drawn on 4 devices) and the test
  figures of 2 processes x 2 devices are those of 1 process x 4 devices."""
  one, two, done = two_processes
  epoch_one, params_one = final_params(one)
  epoch_two, params_two = final_params(two)
  assert epoch_one == epoch_two == EPOCHS
  np.testing.assert_allclose(params_two, params_one, atol=1e-6, rtol=0)
  summary_one, summary_two = read_summary(one), read_summary(two)
  assert summary_two["devices"] == 4 and summary_two["provenance"]["processes"] == 2
  for key, value in figures(summary_one).items():
    assert summary_two[key] == pytest.approx(value, rel=1e-5), key
  assert "devices: 4 x cpu" in done[1][1]


def test_only_process_0_writes(two_processes):
  _, two, done = two_processes
  assert [record["epoch"] for record in metrics(two)] == list(range(1, EPOCHS + 1))
  with open(os.path.join(two, "config.json")) as f:
    json.load(f)
  names = sorted(os.listdir(two))
  assert "report.html" in names and "summary.json" in names
  assert not [n for n in names if n.endswith(".tmp")]
  (_, out0, _), (_, out1, _) = done[1], done[2]
  assert "report:" in out0 and "report:" not in out1


def test_two_processes_stopped_by_sigint_to_one_resume_in_one(two_processes, tmp_path, data_dir):
  # the settings of `two_processes` (its compiled programs are in the compilation cache), but far
  # more epochs: the run cannot end before the signal. SIGINT (Ctrl-C's) to one process: a run
  # stops on it as on SIGTERM, whose real process test_faults.py stops.
  _, two, _ = two_processes
  workdir = str(tmp_path / "stopped")
  procs = start(TINY + ["--epochs", str(LONG), "--data-dir", data_dir, "--workdir", workdir],
                devices=2, n=2, port=free_port())
  wait_for_lines(workdir, 2, procs)
  for p in procs:
    p.send_signal(signal.SIGSTOP)
  held_at = metrics_lines(workdir)
  procs[1].send_signal(signal.SIGINT)   # process 0 learns of it only from process 1
  for p in procs:
    p.send_signal(signal.SIGCONT)
  done = finish(procs, timeout=45)   # processes that disagree on when to stop hang: fail in a minute
  assert [rc for rc, _, _ in done] == [3, 3], [err[-2000:] for _, _, err in done]
  assert not [err for _, _, err in done if "Traceback" in err]
  last = [err.strip().splitlines()[-1] for _, _, err in done]
  assert "interrupted: a signal to another process after epoch " in last[0], last
  assert "interrupted: SIGINT after epoch " in last[1], last
  stopped_at = [int(line.split(" after epoch ")[1].split(";")[0]) for line in last]
  # after the epoch in flight on process 1 when the signal came (the one held, or the next), early
  # enough that the one-process resumption below has epochs left to train
  assert 2 <= held_at <= stopped_at[0] == stopped_at[1] <= held_at + 1 < EPOCHS, (held_at, stopped_at)
  assert [record["epoch"] for record in metrics(workdir)] == list(range(1, stopped_at[0] + 1))
  assert str(stopped_at[0]) in os.listdir(os.path.join(workdir, "checkpoints"))

  rc, out, err = finish(start(["--resume", "--workdir", workdir, "--epochs", str(EPOCHS), "--no-analysis"],
                              devices=4))[0]
  assert rc == 0, err[-3000:]
  assert f"resumed from the checkpoint of epoch {stopped_at[0]}" in out
  epoch, params = final_params(workdir)
  assert epoch == EPOCHS
  np.testing.assert_allclose(params, final_params(two)[1], atol=1e-6, rtol=0)
  summary = read_summary(workdir)
  assert summary["provenance"]["processes"] == 1
  for key, value in figures(read_summary(two)).items():
    assert summary[key] == pytest.approx(value, rel=1e-5), key


def test_half_given_settings_exit_2_naming_the_variable(tmp_path, data_dir, monkeypatch, capsys):
  # No process is started: the settings are refused before anything joins or touches a device.
  for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES"):
    monkeypatch.delenv(name, raising=False)
  monkeypatch.setenv("JAX_PROCESS_ID", "1")
  spec = importlib.util.spec_from_file_location("experiments_ae", AE)
  ae = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(ae)
  with pytest.raises(SystemExit) as stop:
    ae.main(["--data-dir", data_dir, "--workdir", str(tmp_path / "w")])
  assert stop.value.code == 2
  assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
      "JAX_PROCESS_ID set but not JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES: a run of several "
      "processes needs all of JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID")
  assert not os.path.exists(tmp_path / "w")


def test_a_sweep_of_several_processes_exits_2_in_one_line(tmp_path, data_dir):
  # a sweep trains on the devices of one process; without this check each process died on a traceback
  workdir = tmp_path / "w"
  done = finish(start(["--noise", "0.1,0.5", "--widths", "16", "--data-dir", data_dir, "--workdir", str(workdir)],
                      devices=1, n=2, port=free_port(), script=SWEEP), timeout=120)
  for rc, _, err in done:
    assert rc == 2, err[-2000:]
    assert err.strip().splitlines()[-1].endswith(
        "this run has 2 processes: start one sweep per machine, each with its own --workdir"), err[-2000:]
    assert "Traceback" not in err
  assert not workdir.exists()


def test_a_peer_that_never_joins_ends_the_wait(tmp_path, data_dir):
  tic = time.time()
  done = finish(start(["--data-dir", data_dir, "--workdir", str(tmp_path / "w")], devices=1, n=1, script=AE,
                      **{"JAX_COORDINATOR_ADDRESS": f"localhost:{free_port()}",
                         "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0", "AEJAX_JOIN_TIMEOUT": "1"}),
                timeout=60)
  rc, _, err = done[0]
  assert rc == 5, err[-3000:]
  assert "could not join the run at localhost:" in err and "within 1 s" in err
  assert "Traceback" not in err
  assert time.time() - tic < 60
  assert not os.path.exists(tmp_path / "w")


def test_a_peer_killed_hard_ends_the_others(tmp_path, data_dir):
  # the settings of `two_processes`, whose compiled programs it finds in the compilation cache
  workdir = str(tmp_path / "killed")
  procs = start(TINY + ["--epochs", str(LONG), "--data-dir", data_dir, "--workdir", workdir],
                devices=2, n=2, port=free_port(), AEJAX_PEER_TIMEOUT="3")
  wait_for_lines(workdir, 1, procs, fast=False)
  procs[1].kill()
  trained = metrics_lines(workdir)
  rc, _, err = finish(procs[:1], timeout=60)[0]
  assert rc == 5, err[-3000:]
  assert 1 <= trained < LONG   # killed while training
  # at once where its collective fails (an all-gather), after the peer timeout where it waits (an all-reduce)
  last = err.strip().splitlines()[-1]
  assert ("a process of this run failed" in last or
          "process 1 of this run has not been heard from for 3 s" in last), err[-3000:]
  assert "Traceback" not in err and "Check failure" not in err


def test_a_frozen_peer_ends_the_others(tmp_path, data_dir):
  """A peer that stops without closing its connections (SIGSTOP: frozen, or cut off) leaves the
  collectives waiting; the peer watch ends process 0 with one line, before JAX's heartbeat check
  (at 3 x the peer timeout) would abort it with a C++ stack."""
  workdir = str(tmp_path / "frozen")
  procs = start(TINY + ["--epochs", str(LONG), "--data-dir", data_dir, "--workdir", workdir],
                devices=2, n=2, port=free_port(), AEJAX_PEER_TIMEOUT="3")
  wait_for_lines(workdir, 1, procs, fast=False)
  procs[1].send_signal(signal.SIGSTOP)
  tic = time.time()
  rc, _, err = finish(procs[:1], timeout=60)[0]
  assert rc == 5, err[-3000:]
  assert 2 <= time.time() - tic < 9      # after the peer timeout (from its last tick), before JAX's limit
  assert err.strip().splitlines()[-1].endswith(
      "peererror: process 1 of this run has not been heard from for 3 s (killed, frozen or cut off); "
      "the newest checkpoint holds the last finished state"), err[-3000:]
  assert "Traceback" not in err and "Check failure" not in err
