"""Data parallel training on 4 forced CPU devices (the flag must precede JAX: subprocesses)."""
import json
import os
import subprocess
import sys
import textwrap

from conftest import ROOT

FOUR_DEVICES = {**os.environ, "PYTHONPATH": ROOT,
                "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"}

SAME_STEP = textwrap.dedent("""
    import chex, jax, numpy as np
    from aejax import models, train
    from aejax import optim
    from aejax.run import parallel
    assert jax.device_count() == 4
    # a small model: what is compared is how the batch is split over the devices, not the width
    images = jax.numpy.asarray(np.random.default_rng(0).integers(0, 256, (512, 28, 28, 1)), jax.numpy.uint8)
    def run(n):
      mesh = parallel.make_mesh(n, 64)
      state = train.create_train_state(models.AutoEncoder(widths=(32,)), jax.random.key(0),
                                       optim.make_optimizer(), corruption="gaussian", noise=0.3)
      state = jax.device_put(state, parallel.replicated(mesh))
      data = jax.device_put(images, parallel.replicated(mesh))
      for epoch in range(2):
        state, metrics = train.train_epoch(state, data, jax.random.key(1), epoch, batch_size=64,
                                           batch_sharding=parallel.batch_sharding(mesh))
      return state, metrics
    one, m1 = run(1)
    four, m4 = run(4)
    assert len(four.params["enc_0"]["kernel"].sharding.device_set) == 4
    assert len(one.params["enc_0"]["kernel"].sharding.device_set) == 1
    chex.assert_trees_all_close(four.params, one.params, atol=1e-5)
    chex.assert_trees_all_close(m4, m1, rtol=1e-5)
    print("same")
""")


def test_four_device_epoch_equals_one_device_epoch():
  done = subprocess.run([sys.executable, "-c", SAME_STEP], env=FOUR_DEVICES, capture_output=True,
                        text=True, timeout=300)
  assert done.returncode == 0 and done.stdout.strip() == "same", done.stderr[-3000:]


def test_four_device_cli_run_and_indivisible_batch(tmp_path):
  from conftest import fake_mnist
  data_dir = fake_mnist(str(tmp_path / "mnist"))
  cmd = [sys.executable, os.path.join(ROOT, "experiments", "ae.py"), "--data-dir", data_dir,
         "--epochs", "2", "--batch-size", "64", "--widths", "32", "--no-analysis"]
  # the refused run (it ends before any compilation) alongside the run that trains
  with subprocess.Popen(cmd + ["--workdir", str(tmp_path / "bad"), "--batch-size", "30"], env=FOUR_DEVICES,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as bad:
    done = subprocess.run(cmd + ["--workdir", str(tmp_path / "run")], env=FOUR_DEVICES,
                          capture_output=True, text=True, timeout=300)
    try:
      _, bad_err = bad.communicate(timeout=300)
    except subprocess.TimeoutExpired:
      bad.kill()
      raise
  assert done.returncode == 0, done.stderr[-3000:]
  assert "devices: 4 x cpu" in done.stdout
  with open(tmp_path / "run" / "summary.json") as f:
    assert json.load(f)["devices"] == 4
  assert bad.returncode == 2, bad_err[-3000:]
  assert bad_err.strip().endswith("--batch-size 30 does not divide by the 4 devices")
  assert not os.path.exists(tmp_path / "bad")


def test_watching_peers_ends_a_multiprocess_run_on_any_error_but_a_run_error(monkeypatch, capsys):
  import jax
  import pytest

  from aejax import errors
  from aejax.run import parallel

  ended = []
  monkeypatch.setattr(parallel, "abandon", lambda error: ended.append(error))
  monkeypatch.setattr(jax, "process_count", lambda: 2)
  with parallel.watching_peers():  # a peer's death surfacing as another error: exit 5
    raise ValueError("barrier failed\nmore")
  assert isinstance(ended[-1], errors.PeerError) and ended[-1].exit_status == 5
  assert "ValueError: barrier failed" in str(ended[-1])
  assert "Traceback" in capsys.readouterr().err
  with pytest.raises(errors.UserError):  # raised alike on every process: an orderly exit
    with parallel.watching_peers():
      raise errors.UserError("bad flag")
  monkeypatch.setattr(jax, "process_count", lambda: 1)
  with pytest.raises(ValueError):  # one process: nothing to watch
    with parallel.watching_peers():
      raise ValueError("a bug")
  assert len(ended) == 1


class FakeStore:
  """The distributed runtime's key-value store, as `PeerWatch` uses it; `down` makes it fail."""

  def __init__(self):
    self.values, self.down = {}, False

  def key_value_set(self, key, value, allow_overwrite=False):
    if self.down:
      raise RuntimeError("UNAVAILABLE: failed to connect")
    assert allow_overwrite
    self.values[key] = value

  def key_value_dir_get(self, prefix):
    if self.down:
      raise RuntimeError("UNAVAILABLE: failed to connect")
    return [(k, v) for k, v in self.values.items() if k.startswith(prefix)]


def test_peer_watch_blames_a_silent_peer_not_a_held_self_nor_one_that_left():
  from aejax import errors
  from aejax.run import parallel

  store = FakeStore()
  # process 0 of three, each round 1 s apart: process 1 ticks throughout, process 2 stops after round 3
  watch, peer = parallel.PeerWatch(store, 0, 3, timeout=5), {1: 0, 2: 0}
  def round_at(now, tick=(1, 2)):
    for p in tick:
      peer[p] += 1
      store.values[f"{watch.prefix}{p}"] = str(peer[p])
    return watch.check(now)
  start = watch.contact[0]
  assert all(round_at(start + t) is None for t in range(1, 4))
  assert all(round_at(start + t, tick=(1,)) is None for t in range(4, 8))   # 2 silent for 4 s
  lost = round_at(start + 8, tick=(1,))     # and for 5 s
  assert isinstance(lost, errors.PeerError) and lost.exit_status == 5
  assert str(lost).startswith("process 2 of this run has not been heard from for 5 s")
  assert store.values[watch.key] == "8"     # this process ticked every round

  # this process held for 60 s (SIGSTOP): one round of its own is no silence of the peers
  watch = parallel.PeerWatch(store, 0, 3, timeout=5, generation=1)
  start = watch.contact[0]
  assert round_at(start + 1) is None
  assert round_at(start + 61, tick=()) is None
  assert round_at(start + 62) is None
  # a peer that left on purpose is not expected again
  store.values[f"{watch.prefix}2"] = "done"
  assert all(round_at(start + t, tick=(1,)) is None for t in range(63, 80))
  # a store that does not answer for the timeout: the coordinator is gone
  store.down = True
  assert all(watch.check(start + t) is None for t in range(80, 84))
  lost = watch.check(start + 84)
  assert str(lost).startswith("the run's coordinator (process 0) has not answered for 5 s (RuntimeError: "
                              "UNAVAILABLE"), lost
