"""Sweeps: each model of a sweep is its single run, bit for bit; a sweep is one
state for checkpoints, --resume, SIGTERM and bad input; the model axis splits
over devices.

Compilation is much of the cost: every sweep and single run here has the same tiny
settings (widths, batch size, data), so that the single runs of a model after the
first reuse its programs and cost a fraction of a second; the augmentation, a static
part of a model's programs, is on one sweep only (the contractive one)."""
import contextlib
import csv
import glob
import io
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest
from conftest import ROOT, expect_error, fake_mnist

sys.path.insert(0, os.path.join(ROOT, "experiments"))
import dae as dae_script  # pylint: disable=wrong-import-position
import sweep as sweep_script  # pylint: disable=wrong-import-position

from aejax.config import flag  # pylint: disable=wrong-import-position
from aejax.run import analysis, experiment, sweep  # pylint: disable=wrong-import-position

# A sweep's rows are compared with their single runs to the last bit: at users' code generator
# (tests/conftest.py).
pytestmark = pytest.mark.users_codegen

# On a cosine schedule: the sweep must schedule per model as single runs do (and draw per model:
# the DAEs' noise, the contractive sweep's augmentation). Widths and batch size as the tiny runs of
# tests/end_to_end/test_workdir.py and tests/end_to_end/test_variants.py, on the same fake data: their single runs and
# these may share compiled programs through the session's compilation cache.
TINY = ["--widths", "16", "--batch-size", "32", "--epochs", "2", "--log-every", "100",
        "--lr-schedule", "cosine"]
SWEPT = ["--noise", "0.1,0.5", "--seeds", "2"]
NOT_FIGURES = {"noise", "lr", "weight_decay", "seed", "corruption"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")))


@pytest.fixture(scope="module")
def swept(data_dir, tmp_path_factory):
  """The file's sweep of DAEs, stopped by SIGTERM in its first epoch and continued with
  --resume: (workdir, the resumed run's sweep.json object, the stopped run's exit status
  and stderr, the resumed run's stdout). The tests of the sweep read the resumed one:
  resumption must keep all they check (its rows and every epoch's figures are the single
  runs bit for bit, its outputs)."""
  workdir = str(tmp_path_factory.mktemp("sweep") / "run")
  train_epoch = sweep.epoch_fn

  def interrupted(run, epoch):
    os.kill(os.getpid(), signal.SIGTERM)
    return train_epoch(run, epoch)
  err, out = io.StringIO(), io.StringIO()
  with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stderr(err):
    patch.setattr(sweep, "epoch_fn", interrupted)
    with pytest.raises(SystemExit) as stop:
      sweep_script.main(SWEPT + TINY + ["--data-dir", data_dir, "--workdir", workdir])
  with contextlib.redirect_stdout(out):
    result = sweep_script.main(["--resume", "--workdir", workdir])
  return workdir, result, stop.value.code, err.getvalue(), out.getvalue()


ANALYSIS_FIGURES = ("knn_accuracy", "linear_probe_accuracy", "trustworthiness", "continuity")


def final_state(workdir):
  """(config, state, eval key) of a single run's checkpoint, the state on the host with
  an int32 step, as a sweep's `rows` analyse each model's: its analysis then reuses
  the programs that the sweep's compiled (the same computation on other placements)."""
  config, state, eval_key, _ = experiment.load_run(workdir)
  state = jax.device_get(state)
  return config, state.replace(step=np.asarray(state.step, np.int32)), eval_key


# The PCA baseline of the single runs' analyses (not compared: the same for every model),
# fitted once for the file (one dataset, one code size) as a sweep fits it once for its models.
BASELINE = {}


def assert_rows_are_single_runs(sweep_workdir, result, run_single, tmp_path, compared=None):
  """Rows of a sweep (`compared`: their indices, default all) equal their single runs,
  run by `run_single(row, workdir)` with --no-analysis: the summary's figures, every
  metrics.jsonl line (but the timings), and the analysis of the single run's final
  state (its checkpoint)."""
  rows = result["rows"]
  swept_lines = [json.loads(line) for line in open(os.path.join(sweep_workdir, "metrics.jsonl"))]
  assert len({r["test_mse"] for r in rows}) == len(rows)   # the models differ,
  assert len({r["trustworthiness"] for r in rows}) > 1      # and so do their analyses
  for i in range(len(rows)) if compared is None else compared:
    row, workdir = rows[i], str(tmp_path / f"single-{i}")
    single = run_single(row, workdir)
    assert single["final_train_loss"] == row["final_train_loss"]
    shared = [k for k in single if k in row and k not in NOT_FIGURES]
    assert {"test_mse", "test_loss"} <= set(shared)
    assert {k: single[k] for k in shared} == {k: row[k] for k in shared}
    lines = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
    assert len(lines) == len(swept_lines)
    for alone, together in zip(lines, swept_lines):
      for key, value in alone.items():
        if key not in ("seconds", "samples_per_s"):
          assert (together[key] if key == "epoch" else together[key][i]) == value, (i, key)
    config, state, eval_key = final_state(workdir)
    figures, _ = analysis.summary_metrics(config, experiment.load_data(config), state, eval_key,
                                          shared=BASELINE)
    assert {k: figures[k] for k in ANALYSIS_FIGURES} == {k: row[k] for k in ANALYSIS_FIGURES}
    assert figures.get("denoising") == row.get("denoising")
    for key in ("test_negative_elbo", "test_nll"):   # a VAE's
      assert figures.get(key) == row.get(key), (i, key)


def test_rows_are_the_single_runs_bit_for_bit(swept, data_dir, tmp_path):
  workdir, result, *_ = swept
  assert [(r["noise"], r["seed"]) for r in result["rows"]] == [(0.1, 0), (0.1, 1), (0.5, 0), (0.5, 1)]
  assert {"denoised_mse", "noisy_input_mse", "denoising"} <= set(result["rows"][0])
  assert_rows_are_single_runs(workdir, result, lambda row, single: dae_script.main(
      TINY + ["--noise", str(row["noise"]), "--seed", str(row["seed"]), "--data-dir", data_dir,
              "--no-analysis", "--workdir", single]), tmp_path)


@pytest.mark.parametrize("variant, axes, flags", [
    ("vae", {"beta": "0.5,2", "weight_decay": "1e-5,1e-3"}, ["--nll-samples", "16"]),
    ("contractive", {"contraction": "0.01,0.1", "lr": "1e-3,3e-3"}, ["--augmentation", "affine"]),
])
def test_any_traced_setting_of_a_variant_sweeps_as_its_single_runs(variant, axes, flags, data_dir, tmp_path):
  """The regularisers' weights, the weight decay and the learning rate, per model, as
  the single runs of the variant (the contractive ones augmented: drawn per model).
  Rows 1 and 2 are compared, each with one swept axis at its second value: a value of
  either axis collapsed to model 0's, or the axes' values laid out in the wrong order,
  fails; the DAE sweep compares all its rows by the same code."""
  workdir = str(tmp_path / "sweep")
  swept_flags = [x for name, values in axes.items() for x in (f"--{flag(name)}", values)]
  result = sweep_script.main(["--variant", variant, *swept_flags, *flags, *TINY, "--data-dir", data_dir,
                              "--workdir", workdir, "--no-pictures"])
  assert os.path.isfile(os.path.join(workdir, "sweep.html")) and not glob.glob(os.path.join(workdir, "*.p*"))
  assert result["variant"] == variant and all(len(result["axes"][a]) == 2 for a in axes)
  assert [tuple(r[a] for a in result["axes"]) for r in result["rows"]] == list(   # the last axis fastest
      itertools.product(*result["axes"].values()))
  if "--augmentation" in flags:   # an augmented sweep: the augmentation's ranges are axes too, each at one value
    assert {"rotation", "shift", "scale", "flip"} <= set(result["axes"])
  script = __import__(variant)
  assert_rows_are_single_runs(workdir, result, lambda row, single: script.main(
      TINY + flags + [x for a in axes for x in (f"--{flag(a)}", str(row[a]))] +
      ["--seed", str(row["seed"]), "--data-dir", data_dir, "--no-analysis", "--workdir", single]),
      tmp_path, compared=(1, 2))
  if variant == "vae":
    assert all(r["test_negative_elbo"] > 0 and r["nll_samples"] == 16 for r in result["rows"])


def test_a_weight_of_zero_beside_others_and_a_setting_of_another_variant_are_refused(data_dir, tmp_path, capsys):
  for flags, message in ((["--variant", "vae", "--beta", "0,1"], "--beta lists 0 beside other weights"),
                         (["--contraction", "0.1"], "--contraction is not a setting of --variant dae")):
    with pytest.raises(SystemExit) as stop:
      sweep_script.main(flags + TINY + ["--data-dir", data_dir, "--workdir", str(tmp_path / "run")])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_outputs(swept):
  workdir, result, *_ = swept
  on_disk = json.load(open(os.path.join(workdir, "sweep.json")))
  assert on_disk["axes"] == {"noise": [0.1, 0.5], "lr": [1e-3], "weight_decay": [1e-5], "seed": [0, 1]}
  assert on_disk["rows"] == result["rows"] and on_disk["samples_per_s"] > 0
  for key in ("knn_accuracy", "trustworthiness", "continuity", "linear_probe_accuracy",
              "pca_test_mse", "denoising"):
    assert key in result["rows"][0]
  with open(os.path.join(workdir, "sweep.csv")) as f:
    table = list(csv.DictReader(f))
  assert [float(r["denoised_mse"]) for r in table] == [r["denoised_mse"] for r in result["rows"]]
  for figure in ("test_mse", "denoised_mse", "knn_accuracy", "trustworthiness"):
    assert os.path.getsize(os.path.join(workdir, f"sweep_{figure}.png")) > 1000
    assert os.path.getsize(os.path.join(workdir, f"sweep_{figure}.pdf")) > 1000   # and its PDF twin
  assert os.path.getsize(os.path.join(workdir, "sweep.png")) > 1000
  page = open(os.path.join(workdir, "sweep.html")).read()
  assert "sweep_knn_accuracy.png" in page and "noise 0.5" in page
  spreads = re.findall(r"<td>(-?\d+\.(\d+)) &plusmn; (\d+\.(\d+))</td>", page)
  assert len(spreads) == 2 * 4 and all(len(m) == len(s) for _, m, _, s in spreads)   # same decimals
  metrics = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
  assert [len(m["train_loss"]) for m in metrics] == [4, 4]


def test_augmentation_ranges_are_axes_of_an_augmented_sweep_only(capsys):
  from aejax import config
  from aejax.run import cli
  swept, _ = cli.parse(config.SweepConfig, ["--augmentation", "affine", "--rotation", "0,5", "--shift", "1"])
  swept.check()
  assert [(m.objective.rotation, m.objective.shift, m.objective.scale)
          for m in swept.members()] == [(0.0, 1.0, 0.1), (5.0, 1.0, 0.1)]
  plain, _ = cli.parse(config.SweepConfig, ["--noise", "0.1,0.3"])
  plain.check()
  assert "rotation" not in plain.values() and {m.objective.rotation for m in plain.members()} == {10.0}
  expect_error(capsys, "sweep", ["--rotation", "0,5"], "--rotation lists several values, which need "
                                                        "--augmentation affine")


def test_the_lists_are_typed_and_a_folder_of_text_lists_reads_as_before(swept, tmp_path):
  """A sweep's lists are tuples of floats (the command line's comma-separated text, read
  once), JSON lists in config.json. A folder of an earlier version holds them as text
  ("0.1,0.5"; "" for the variant's default): it reads as the same config, and --resume
  compares the flags given with its values."""
  from aejax import config
  from aejax.run import cli, workdir as workdir_lib
  workdir, *_ = swept
  saved = json.load(open(os.path.join(workdir, "config.json")))
  assert saved["noise"] == [0.1, 0.5] and saved["lr"] == [0.001] and saved["beta"] == []
  typed = workdir_lib.read_config(workdir)[1]
  assert typed["noise"] == (0.1, 0.5) and typed["lr"] == (0.001,) and typed["beta"] == ()
  old = tmp_path / "old"
  shutil.copytree(workdir, old, ignore=shutil.ignore_patterns(workdir_lib.LOCK_FILE))
  with open(old / "config.json", "w") as f:
    json.dump({**saved, **{k: ",".join(map(str, saved[k])) for k in config.SWEPT}}, f)
  assert json.load(open(old / "config.json"))["noise"] == "0.1,0.5"
  assert workdir_lib.read_config(str(old))[1] == typed
  resume = ["--resume", "--workdir", str(old)]
  assert experiment.resumed_config(*cli.parse(config.SweepConfig, resume + ["--noise", "0.1,0.5"]),
                                   "sweep")[0].objective.noise == (0.1, 0.5)
  with pytest.raises(workdir_lib.WorkdirError, match=r"--resume cannot change --noise \(was 0.1,0.5, now 0.1,0.3\)"):
    experiment.resumed_config(*cli.parse(config.SweepConfig, resume + ["--noise", "0.1,0.3"]), "sweep")


def test_the_lists_take_python_and_numpy_numbers_and_refuse_anything_else():
  from aejax import config
  swept = config.SweepConfig.from_flags(noise=np.array([0.1, 0.5]), lr=np.float64(0.5),
                                        weight_decay=[0, 1e-5], beta="")
  assert (swept.objective.noise, swept.optimiser.lr, swept.optimiser.weight_decay,
          swept.objective.beta) == ((0.1, 0.5), (0.5,), (0.0, 1e-5), ())
  for bad in (" ", [True], "0.1,x", [float("nan")], {"lr": 1.0}):
    with pytest.raises(config.ConfigError, match="^--lr must be"):
      config.SweepConfig.from_flags(lr=bad)


def test_series_mean_and_spread_over_seeds():
  from aejax.report import sweep_page
  rows = [{"noise": n, "lr": 1e-3, "weight_decay": 0.0, "seed": s, "test_mse": n + s}
          for n in (0.1, 0.5) for s in (0, 1)]
  result = {"axes": {"noise": [0.1, 0.5], "lr": [1e-3], "weight_decay": [0.0], "seed": [0, 1]},
            "rows": rows}
  (key, points), = sweep_page.series(result, "test_mse").items()
  assert key == () and points == [(0.1, pytest.approx(0.6), 0.5, 2), (0.5, 1.0, 0.5, 2)]


def test_the_plots_mark_the_swept_values_on_their_axis(tmp_path, monkeypatch):
  from aejax.report import plots, sweep_page
  drawn = []
  monkeypatch.setattr(plots, "save", lambda fig, path: drawn.append(fig))
  rows = [{"noise": n, "lr": 1e-3, "weight_decay": 0.0, "seed": 0, "test_mse": n} for n in (0.1, 0.3, 0.5)]
  result = {"axes": {"noise": [0.1, 0.3, 0.5], "lr": [1e-3], "weight_decay": [0.0], "seed": [0]}, "rows": rows,
            "epochs": 3}
  sweep_page.plot(str(tmp_path / "sweep.png"), result, ["test_mse"])
  fig, = drawn
  fig.canvas.draw()
  assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0.1", "0.3", "0.5"]


def test_sigterm_then_resume_gives_the_same_rows(swept):
  """SIGTERM stops the sweep after the epoch in flight, with a checkpoint and the command
  that continues it; --resume continues from that epoch (its rows and every epoch's
  figures are the single runs': test_rows_are_the_single_runs_bit_for_bit)."""
  workdir, result, code, err, out = swept
  assert code == 3
  assert f"SIGTERM after epoch 1; checkpoint written, continue with: python experiments/sweep.py --resume " \
         f"--workdir {workdir}" in err
  assert "resumed from the checkpoint of epoch 1" in out
  metrics = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
  assert [m["epoch"] for m in metrics] == [1, 2] and result["epochs"] == 2
  assert json.load(open(os.path.join(workdir, "summary.json")))["models"] == len(result["rows"])


@pytest.mark.parametrize("flags, message", [
    (["--noise", "0.1,x"], "--noise must be numbers separated by commas"),
    (["--lr", "1e-3,0"], "--lr must be positive"),
    (["--noise", "0.1,0.5", "--model-devices", "3"], "--model-devices 3"),
])
def test_bad_values_are_one_line(flags, message, data_dir, tmp_path, capsys):
  workdir = tmp_path / "run"
  with pytest.raises(SystemExit) as stop:
    sweep_script.main(flags + TINY + ["--data-dir", data_dir, "--workdir", str(workdir)])
  assert stop.value.code == 2
  err = capsys.readouterr().err.strip()
  assert message in err and len(err.splitlines()) == 1
  assert not workdir.exists()


def test_model_axis_split_over_devices(swept, data_dir, tmp_path):
  """Four forced CPU devices as a (model 2, data 2) mesh: each device trains two
  models on half of each batch; the final figures agree with one device within rounding
  (evaluated at the end only: the evaluation does not change the training).
  The epoch is the only program with a collective: the evaluation and the
  analysis take each model's slice on the host, for XLA:CPU can deadlock when
  dozens of collective programs (a gather per leaf and model) queue on its devices."""
  _, result, *_ = swept
  dump = tmp_path / "hlo"
  env = {**os.environ, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") +   # each program's final HLO dumped,
         f" --xla_force_host_platform_device_count=4 --xla_dump_to={dump} --xla_dump_hlo_as_text"}
  workdir = str(tmp_path / "run")
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "experiments", "sweep.py"), *SWEPT, *TINY,
       "--model-devices", "2", "--eval-every", "0", "--no-analysis", "--no-pictures", "--data-dir", data_dir,
       "--workdir", workdir],
      env=env, capture_output=True, text=True, timeout=300, check=False)
  assert out.returncode == 0, out.stderr[-2000:]
  assert "devices: 4 x cpu" in out.stdout
  rows = json.load(open(os.path.join(workdir, "sweep.json")))["rows"]
  for row, alone in zip(rows, result["rows"]):
    for key in ("test_mse", "denoised_mse", "final_train_loss"):
      np.testing.assert_allclose(row[key], alone[key], rtol=1e-4)
  collective = re.compile(r"\s(all-reduce|all-gather|all-to-all|collective-permute|reduce-scatter)(-start)?\(")
  # module_N.NAME.cpu_after_optimizations.txt where compiled, .after_optimizations.txt from the cache
  with_collectives = {path.name.split(".")[1] for path in dump.glob("*after_optimizations.txt")
                      if collective.search(path.read_text())}
  assert with_collectives == {"jit_train_epoch"}
