"""Several processes as one run, on this machine: JAX's distributed runtime with CPU
collectives over gloo, each process with its own forced CPU devices."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, fake_mnist

AE = os.path.join(ROOT, "experiments", "ae.py")
EPOCHS = 12
TINY = ["--epochs", str(EPOCHS), "--batch-size", "32", "--widths", "32", "--eval-every", "4",
        "--checkpoint-every", "0"]


def free_port():
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def env(devices, process=None, n=None, port=None, **extra):
  out = {**os.environ, "PYTHONPATH": ROOT, "JAX_NUM_CPU_DEVICES": str(devices),
         "PYTHONUNBUFFERED": "1"}
  out.pop("XLA_FLAGS", None)
  for name in ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID"):
    out.pop(name, None)
  if n is not None:
    out.update(JAX_COORDINATOR_ADDRESS=f"localhost:{port}", JAX_NUM_PROCESSES=str(n),
               JAX_PROCESS_ID=str(process), AEJAX_JOIN_TIMEOUT="60")
  return {**out, **extra}


def start(args, devices, n=1, port=None, **extra):
  """n processes of ae.py with `devices` CPU devices each (one plain process if n == 1)."""
  return [subprocess.Popen([sys.executable, AE] + args,
                           env=env(devices, p if n > 1 else None, n if n > 1 else None, port, **extra),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
          for p in range(n)]


def finish(procs, timeout=240):
  return [(p.wait(timeout=timeout), p.stdout.read(), p.stderr.read()) for p in procs]


def final_params(workdir):
  from aejax.run import experiment
  _, state, _, epoch = experiment.load_run(workdir)
  return epoch, np.concatenate([np.ravel(x) for x in
                                __import__("jax").tree.leaves(state.params)])


def read_summary(workdir):
  with open(os.path.join(workdir, "summary.json")) as f:
    return json.load(f)


def figures(summary):
  return {k: summary[k] for k in ("final_train_loss", "test_mse", "test_loss")}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")), n_train=256, n_test=64)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory, data_dir):
  """The same tiny run as 1 process x 2 devices and as 2 processes x 1 device."""
  root = tmp_path_factory.mktemp("mp")
  one = str(root / "one")
  two = str(root / "two")
  # Process 0 of the two-process run analyses; the reference run needs only its figures.
  runs = start(TINY + ["--data-dir", data_dir, "--workdir", one, "--no-analysis"], devices=2)
  runs += start(TINY + ["--data-dir", data_dir, "--workdir", two], devices=1, n=2, port=free_port())
  done = finish(runs)
  for rc, out, err in done:
    assert rc == 0, err[-3000:]
  return one, two, done


def test_two_processes_train_as_one_process_with_two_devices(two_processes):
  one, two, done = two_processes
  epoch_one, params_one = final_params(one)
  epoch_two, params_two = final_params(two)
  assert epoch_one == epoch_two == EPOCHS
  np.testing.assert_allclose(params_two, params_one, atol=1e-6, rtol=0)
  summary_one, summary_two = read_summary(one), read_summary(two)
  assert summary_two["devices"] == 2 and summary_two["provenance"]["processes"] == 2
  for key, value in figures(summary_one).items():
    assert summary_two[key] == pytest.approx(value, rel=1e-5), key
  assert "devices: 2 x cpu" in done[1][1]


def test_only_process_0_writes(two_processes):
  _, two, done = two_processes
  with open(os.path.join(two, "metrics.jsonl")) as f:
    assert [json.loads(line)["epoch"] for line in f] == list(range(1, EPOCHS + 1))
  with open(os.path.join(two, "config.json")) as f:
    json.load(f)
  names = sorted(os.listdir(two))
  assert "report.html" in names and "summary.json" in names
  assert not [n for n in names if n.endswith(".tmp")]
  (_, out0, _), (_, out1, _) = done[1], done[2]
  assert "report:" in out0 and "report:" not in out1


def test_two_processes_stopped_by_sigterm_resume_in_one(two_processes, tmp_path, data_dir):
  _, two, _ = two_processes
  workdir = str(tmp_path / "stopped")
  procs = start(TINY + ["--data-dir", data_dir, "--workdir", workdir], devices=1, n=2,
                port=free_port())
  metrics = os.path.join(workdir, "metrics.jsonl")
  deadline = time.time() + 180
  while time.time() < deadline:
    if os.path.exists(metrics) and sum(1 for _ in open(metrics)) >= 2:
      break
    time.sleep(0.05)
  for p in procs:
    p.send_signal(signal.SIGTERM)
  done = finish(procs)
  assert [rc for rc, _, _ in done] == [3, 3], [err[-2000:] for _, _, err in done]
  stopped_at = [int(err.split(" after epoch ")[1].split(";")[0]) for _, _, err in done]
  assert 2 <= stopped_at[0] == stopped_at[1] < EPOCHS
  resumed = finish(start(["--resume", "--workdir", workdir, "--no-analysis"], devices=2))
  assert resumed[0][0] == 0, resumed[0][2][-3000:]
  np.testing.assert_allclose(final_params(workdir)[1], final_params(two)[1], atol=1e-6, rtol=0)
  for key, value in figures(read_summary(two)).items():
    assert read_summary(workdir)[key] == pytest.approx(value, rel=1e-5), key


TWO_BY_TWO = """
import sys, jax, numpy as np
from aejax import models, train
from aejax import optim
from aejax.run import parallel
parallel.initialize_distributed()
mesh = parallel.make_mesh(0, 64)
state = train.create_train_state(models.AutoEncoder(widths=(32,)), jax.random.key(0),
                                 optim.make_optimizer(), corruption="gaussian", noise=0.3)
state = jax.device_put(state, parallel.replicated(mesh))
images = jax.device_put(np.random.default_rng(0).integers(0, 256, (512, 28, 28, 1)).astype(np.uint8),
                        parallel.replicated(mesh))
for epoch in range(3):
  state, metrics = train.train_epoch(state, images, jax.random.key(1), epoch, batch_size=64,
                                     batch_sharding=parallel.batch_sharding(mesh))
if parallel.is_writer():
  np.save(sys.argv[1], np.concatenate([np.ravel(x) for x in jax.tree.leaves(parallel.to_host(state.params))]))
"""


def test_two_processes_of_two_devices_equal_one_process_of_four(tmp_path):
  port = free_port()
  procs = [subprocess.Popen([sys.executable, "-c", TWO_BY_TWO, str(tmp_path / "two.npy")],
                            env=env(2, p, 2, port), stderr=subprocess.PIPE, text=True) for p in range(2)]
  procs.append(subprocess.Popen([sys.executable, "-c", TWO_BY_TWO, str(tmp_path / "one.npy")],
                                env=env(4), stderr=subprocess.PIPE, text=True))
  for p in procs:
    assert p.wait(timeout=240) == 0, p.stderr.read()[-3000:]
  np.testing.assert_allclose(np.load(tmp_path / "two.npy"), np.load(tmp_path / "one.npy"),
                             atol=1e-6, rtol=0)


def test_half_given_settings_exit_2_naming_the_variable(tmp_path, data_dir):
  settings = env(1)
  settings.update(JAX_PROCESS_ID="1")
  done = subprocess.run([sys.executable, AE, "--data-dir", data_dir, "--workdir", str(tmp_path / "w")],
                        env=settings, capture_output=True, text=True, timeout=120)
  assert done.returncode == 2
  assert done.stderr.strip().splitlines()[-1].endswith(
      "JAX_PROCESS_ID set but not JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES: a run of several "
      "processes needs all of JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID")
  assert not os.path.exists(tmp_path / "w")


def test_a_peer_that_never_joins_ends_the_wait(tmp_path, data_dir):
  tic = time.time()
  done = finish(start(["--data-dir", data_dir, "--workdir", str(tmp_path / "w")], devices=1, n=1,
                      **{"JAX_COORDINATOR_ADDRESS": f"localhost:{free_port()}",
                         "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": "0", "AEJAX_JOIN_TIMEOUT": "3"}))
  rc, _, err = done[0]
  assert rc == 5, err[-3000:]
  assert "could not join the run at localhost:" in err and "within 3 s" in err
  assert "Traceback" not in err
  assert time.time() - tic < 60
  assert not os.path.exists(tmp_path / "w")


def test_a_peer_killed_hard_ends_the_others(tmp_path, data_dir):
  workdir = str(tmp_path / "killed")
  procs = start(TINY + ["--epochs", "500", "--data-dir", data_dir, "--workdir", workdir],
                devices=1, n=2, port=free_port())
  metrics = os.path.join(workdir, "metrics.jsonl")
  deadline = time.time() + 180
  while time.time() < deadline and not (os.path.exists(metrics) and sum(1 for _ in open(metrics)) >= 2):
    time.sleep(0.05)
  procs[1].kill()
  tic = time.time()
  rc, _, err = finish(procs[:1], timeout=120)[0]
  assert rc == 5, err[-3000:]
  assert time.time() - tic < 60
  assert "a process of this run failed" in err.strip().splitlines()[-1]
