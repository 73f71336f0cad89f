"""The experiment scripts end to end: what a run writes, resume, and every user error."""
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import types

import pytest
from conftest import ROOT, expect_error, fake_mnist, script, write_idx

from aejax import config
from aejax.data import tfds as tfds_source
from aejax.report import pictures
from aejax.run import cli, experiment

SUMMARY_KEYS = {"data_source", "n_train", "n_test", "epochs", "test_mse", "test_psnr",
                "final_train_loss", "samples_per_s", "pca_test_mse", "devices", "knn_accuracy",
                "linear_probe_accuracy", "trustworthiness", "continuity", "pca_knn_accuracy",
                "pca_linear_probe_accuracy", "pca_trustworthiness", "pca_continuity"}
DAE_KEYS = {"corruption", "noise", "noisy_input_mse", "denoised_mse"}


def run_script(name, *argv):
  return subprocess.run([sys.executable, os.path.join(ROOT, "experiments", f"{name}.py"), *argv],
                        capture_output=True, text=True, cwd=ROOT, timeout=300,
                        env={**os.environ, "PYTHONPATH": ROOT})


# One real run of dae.py's main on a command line serves two tests: the files it writes and
# the analysis beyond the reference settings (each run costs compilation and analysis). It runs
# in this process (a process of its own would add its imports): what a real process adds, its
# exit status and its output, test_bad_idx_in_a_real_process_prints_no_traceback checks.
DAE_FLAGS = ["--epochs", "3", "--batch-size", "32", "--eval-every", "2", "--widths", "32,8", "--loss", "bce",
             "--dtype", "bfloat16", "--decoupled", "--latent-dim", "2", "--noise", "1.5",
             "--augmentation", "affine", "--rotation", "20"]


@pytest.fixture(scope="module")
def dae_cli_run(tmp_path_factory):
  """(data dir, workdir, the run: its exit status, stdout and stderr) of dae.py's main."""
  root = tmp_path_factory.mktemp("dae_cli")
  data_dir = fake_mnist(str(root / "mnist"))
  workdir = str(root / "run")
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
      script("dae")(["--workdir", workdir, "--data-dir", data_dir, *DAE_FLAGS])
      code = 0
    except SystemExit as e:
      code = e.code
  return data_dir, workdir, types.SimpleNamespace(returncode=code, stdout=out.getvalue(),
                                                  stderr=err.getvalue())


def test_dae_cli_writes_every_file(dae_cli_run):
  mnist_dir, workdir, done = dae_cli_run
  assert done.returncode == 0, done.stderr
  assert f"data: idx:{mnist_dir}, 256 train and 64 test examples" in done.stdout
  assert sorted(os.listdir(workdir)) == sorted(
      [".lock", "checkpoints", "config.json", "metrics.jsonl", "summary.json", "progress.npz",
       *pictures.outputs()])
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    lines = [json.loads(line) for line in f]
  assert [r["epoch"] for r in lines] == [1, 2, 3]
  assert lines[0]["test_mse"] is None and lines[1]["test_mse"] is not None
  assert {"train_loss", "test_loss", "test_mse", "seconds", "samples_per_s"} <= set(lines[0])
  with open(os.path.join(workdir, "summary.json")) as f:
    summary = json.load(f)
  assert SUMMARY_KEYS | DAE_KEYS <= set(summary)
  assert summary["noise"] == 1.5 and summary["corruption"] == "gaussian" and summary["n_train"] == 256
  assert summary["test_mse"] == lines[-1]["test_mse"]
  assert 0 < summary["test_mse"] < 1 and 0 < summary["noisy_input_mse"] < 1
  with open(os.path.join(workdir, "reconstructions.png"), "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.load(f)["experiment"] == "dae"
  assert os.listdir(os.path.join(workdir, "checkpoints")) == ["3"]


def test_help_gives_each_flag_one_default():
  text = " ".join(cli.make_parser(config.DAEConfig).format_help().split())
  assert "runs/) (default: None)" not in text and "(default: a new folder under runs/)" in text
  flags = [s for s in config.DAEConfig.settings().values() if not s.metadata.get("derived")]
  assert text.count("default:") == len(flags) and "--image-shape" not in text


def test_help_shows_defaults(capsys):
  with pytest.raises(SystemExit) as e:
    script("dae")(["--help"])
  assert e.value.code == 0
  text = " ".join(capsys.readouterr().out.split())
  for fragment in ("--noise", "(default: 0.5)", "--corruption", "(default: gaussian)", "--eval-every",
                   "(default: 100)", "--resume"):
    assert fragment in text


@pytest.mark.parametrize("name", ["reproduce/hinton2006", "reproduce/vincent2010", "reproduce/flax_vae"])
def test_a_reproduction_script_describes_itself_in_its_help(capsys, name):
  """--help opens with the script's own description (the paper's claim and its
  commands, line breaks kept), not with that of the config class it runs."""
  module = script(name).__globals__
  with pytest.raises(SystemExit) as e:
    module["main"](["--help"])
  assert e.value.code == 0
  own = module["__doc__"].strip().splitlines()
  shown = capsys.readouterr().out
  assert all(line in shown.splitlines() for line in own[:6]), shown[:1500]


@pytest.mark.parametrize("argv,fragment", [
    (["--corruption", "masking", "--noise", "1.5"],
     "--noise (a fraction of pixels for masking) must be in [0, 1], got 1.5"),
    (["--corruption", "salt_and_pepper", "--noise", "1.01"], "must be in [0, 1], got 1.01"),
    (["--noise", "-0.1"], "--noise (a standard deviation) must be non-negative, got -0.1"),
    (["--noise", "nan"], "argument --noise"),
    (["--epochs", "0"], "--epochs must be positive"),
    (["--batch-size", "-4"], "--batch-size must be positive"),
    (["--latent-dim", "0"], "--latent-dim must be positive"),
    (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["--loss", "l1"], "argument --loss: invalid choice: 'l1'"),
    (["--corruption", "blur"], "argument --corruption: invalid choice: 'blur'"),
    (["--widths", "128,x"], "--widths must be positive integers"),
    (["--lr", "0"], "--lr must be positive"),
    (["--resume"], "--resume needs --workdir"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_flags_exit_2_with_one_line(capsys, argv, fragment):
  expect_error(capsys, "dae", argv, fragment)


def test_bad_data_and_workdir_states_exit_2(capsys, tmp_path, mnist_dir):
  expect_error(capsys, "ae", ["--data-dir", str(tmp_path / "nowhere"), "--workdir", str(tmp_path / "w1")],
               "no such directory")
  assert not (tmp_path / "w1").exists()   # a failed start leaves no half-made run behind
  (tmp_path / "empty").mkdir()
  expect_error(capsys, "ae", ["--data-dir", str(tmp_path / "empty"), "--workdir", str(tmp_path / "w2")],
               "train-images-idx3-ubyte: missing")
  write_idx(os.path.join(mnist_dir, "train-labels-idx1-ubyte"), [1, 2, 3])
  expect_error(capsys, "ae", ["--data-dir", mnist_dir, "--workdir", str(tmp_path / "w3")],
               "train-labels-idx1-ubyte", "3 labels for 256 images")
  expect_error(capsys, "ae", ["--workdir", str(tmp_path / "nothing"), "--resume"], "no run to resume")


def test_workdir_is_never_clobbered_and_resume_keeps_the_model(capsys, tmp_path):
  data_dir = fake_mnist(str(tmp_path / "mnist"))
  workdir = str(tmp_path / "run")
  main = script("ae")
  tiny = ["--data-dir", data_dir, "--epochs", "1", "--batch-size", "32", "--widths", "16", "--no-analysis"]
  main(["--workdir", workdir, *tiny])
  before = open(os.path.join(workdir, "summary.json")).read()
  capsys.readouterr()
  expect_error(capsys, "ae", ["--workdir", workdir, "--data-dir", data_dir], "holds an earlier run")
  expect_error(capsys, "ae", ["--workdir", workdir, "--resume", "--latent-dim", "5", "--loss", "bce"],
               "--resume cannot change", "--latent-dim (was 3, now 5)", "--loss")
  assert open(os.path.join(workdir, "summary.json")).read() == before
  main(["--workdir", workdir, *tiny, "--overwrite"])


def test_resume_without_checkpoint_exit_2(capsys, tmp_path, mnist_dir):
  workdir = tmp_path / "run"
  workdir.mkdir()
  # The model of the test above, whose programs are compiled: the run builds it before it finds no checkpoint.
  cfg = dict(config.AEConfig.from_flags(widths="16", batch_size=32).flags(), workdir=str(workdir),
             experiment="ae")
  (workdir / "config.json").write_text(json.dumps(cfg))
  expect_error(capsys, "ae", ["--workdir", str(workdir), "--resume"], "no usable checkpoint to resume from")


def test_bad_idx_in_a_real_process_prints_no_traceback(tmp_path, mnist_dir):
  with open(os.path.join(mnist_dir, "t10k-images-idx3-ubyte"), "r+b") as f:
    f.write(b"\x00\x00\x0d\x03")
  done = run_script("ae", "--data-dir", mnist_dir, "--workdir", str(tmp_path / "w"))
  assert done.returncode == 2
  assert "Traceback" not in done.stderr
  assert "t10k-images-idx3-ubyte: wrong magic number" in done.stderr.strip().splitlines()[-1]


class Terminal(io.StringIO):
  def isatty(self):
    return True


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_in_a_log(monkeypatch):
  run = types.SimpleNamespace(name="dae", start=0, config=config.DAEConfig.from_flags(epochs=4, log_every=2))
  records = [{"epoch": e, "train_loss": 0.9, "train_mse": 0.125, "test_mse": 0.5 if e % 2 == 0 else None,
              "test_denoised_mse": 0.25 if e % 2 == 0 else None, "seconds": 0.5} for e in range(1, 5)]
  for stdout in (io.StringIO(), Terminal()):
    monkeypatch.setattr(sys, "stdout", stdout)
    progress = experiment.Progress(run)
    for record in records:
      progress.update(record)
    progress.close()
    text = stdout.getvalue()
    if stdout.isatty():
      # Side by side, one unit: the denoised per-pixel MSE of training and of the test split.
      assert "\r" in text and "train_denoised_mse=0.1250, test_denoised_mse=0.2500" in text
      assert "loss" not in text
    else:
      assert "\r" not in text and text.splitlines() == [
          f"dae epoch {e}/4: train_denoised_mse 0.12500, test_denoised_mse 0.25000 (per-pixel MSE, "
          "[0, 1] units); 0.50 s" for e in (2, 4)]


def test_a_partial_tfds_folder_is_not_prepared_and_says_nothing(tmp_path, caplog):
  (tmp_path / "mnist" / "3.0.1").mkdir(parents=True)
  with caplog.at_level(logging.INFO):
    assert tfds_source.prepared("mnist", str(tmp_path)) is False
  assert not [r for r in caplog.records if r.name == "absl"], caplog.text


def test_analysis_of_a_bce_bfloat16_adamw_2d_augmented_dae_with_noise_above_1(dae_cli_run):
  """The analysis through the command line beyond the reference settings; the
  DAE's headline (summary, last line, denoising table) is one number."""
  _, workdir, done = dae_cli_run
  assert done.returncode == 0, done.stderr
  last = done.stdout.strip().splitlines()[-1]
  with open(os.path.join(workdir, "config.json")) as f:
    saved = json.load(f)
  with open(os.path.join(workdir, "summary.json")) as f:
    summary = json.load(f)
  assert (saved["loss"], saved["dtype"], saved["decoupled"], saved["latent_dim"], saved["noise"],
          saved["augmentation"], saved["rotation"], saved["shift"]) == (
      "bce", "bfloat16", True, 2, 1.5, "affine", 20, 1.5)
  for key in SUMMARY_KEYS | DAE_KEYS - {"corruption"}:
    assert summary[key] == summary[key] and summary[key] is not None, key   # not NaN
  gaussian = [r for r in summary["denoising"] if r["corruption"] == "gaussian"]
  assert [r["level"] for r in gaussian] == [0.1, 0.3, 0.5, 0.7, 1.5]
  assert 0 < summary["test_mse"] < 1 and summary["noisy_input_mse"] > gaussian[3]["noisy_input_mse"]
  trained = [r for r in gaussian if r["level"] == 1.5]
  assert [(r["noisy_input_mse"], r["denoised_mse"]) for r in trained] == [
      (summary["noisy_input_mse"], summary["denoised_mse"])]
  assert f"per-pixel MSE {summary['noisy_input_mse']:.5f} -> {summary['denoised_mse']:.5f}" in last
  assert last.startswith("DAE, gaussian σ = 1.5: ")
