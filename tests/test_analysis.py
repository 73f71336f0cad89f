"""The manifold metrics, the pictures, the report, analyze.py and curse.py."""
import json
import os
import re
import struct

import numpy as np
import pytest
from sklearn.manifold import trustworthiness as sklearn_trustworthiness
from sklearn.neighbors import KNeighborsClassifier

from aejax import analysis, metrics, plots
from conftest import fake_mnist
from test_cli import script

RNG = np.random.default_rng(0)


def test_trustworthiness_and_continuity_match_sklearn():
  x = RNG.normal(size=(200, 30))
  z = x[:, :3] + 0.5 * RNG.normal(size=(200, 3))
  for k in (1, 5, 12):
    assert metrics.trustworthiness(x, z, k) == pytest.approx(sklearn_trustworthiness(x, z, n_neighbors=k))
    assert metrics.continuity(x, z, k) == pytest.approx(sklearn_trustworthiness(z, x, n_neighbors=k))


def test_trustworthiness_by_hand():
  # Points on a line; the embedding swaps the two ends' order: a hand-countable penalty.
  x = np.arange(6, dtype=float)[:, None]
  assert metrics.trustworthiness(x, x, 1) == 1.0
  z = np.array([0, 1, 2, 3, 5, 4], dtype=float)[:, None]
  # With k = 1, points 4 and 5 each take a neighbour of rank 2 in x (ties go to the
  # lower index): penalty 2, so T = 1 - 2 / (6 * 1 * (12 - 3 - 1)) * 2 = 11 / 12.
  assert metrics.trustworthiness(x, z, 1) == pytest.approx(11 / 12)
  assert metrics.trustworthiness(x, z, 1) == pytest.approx(sklearn_trustworthiness(x, z, n_neighbors=1))


def test_knn_accuracy_matches_sklearn_and_separable_cases():
  train_z, test_z = RNG.normal(size=(300, 3)), RNG.normal(size=(120, 3))
  train_y, test_y = RNG.integers(0, 10, 300), RNG.integers(0, 10, 120)
  expected = KNeighborsClassifier(5).fit(train_z, train_y).score(test_z, test_y)
  assert metrics.knn_accuracy(train_z, train_y, test_z, test_y, k=5, chunk=50) == pytest.approx(expected)
  centres = 10.0 * np.eye(3)
  labels = np.arange(3).repeat(20)
  points = centres[labels] + RNG.normal(size=(60, 3))
  assert metrics.knn_accuracy(points, labels, points + 0.1, labels) == 1.0
  assert metrics.linear_probe_accuracy(points, labels, points, labels) == 1.0


def png_size(path):
  with open(path, "rb") as f:
    head = f.read(24)
  assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
  return struct.unpack(">II", head[16:24])


def inches(size):
  return tuple(round(v * plots.DPI) for v in size)


@pytest.fixture(scope="module")
def dae_run(tmp_path_factory):
  root = tmp_path_factory.mktemp("analysis")
  data_dir = fake_mnist(str(root / "mnist"))
  workdir = str(root / "run")
  summary = script("dae")(["--workdir", workdir, "--data-dir", data_dir, "--epochs", "3", "--batch-size", "32",
                           "--noise", "0.3", "--corruption", "masking"])
  return workdir, summary


def test_a_run_writes_every_picture_at_its_size(dae_run):
  workdir, summary = dae_run
  expected = {
      "reconstructions.png": inches(plots.grid_size(4, 10)),
      "progress.png": inches(plots.grid_size(1 + len(analysis.progress_epochs(3)), 10)),
      "latent.png": inches(plots.LATENT_SIZE),
      "traversals.png": inches(plots.grid_size(3, 10)),
      "interpolation.png": inches(plots.grid_size(1, 10)),
      "curves.png": inches(plots.CURVES_SIZE),
  }
  assert set(expected) == set(analysis.PICTURES)
  for name, size in expected.items():
    assert png_size(os.path.join(workdir, name)) == size, name


def test_summary_holds_every_metric_beside_pca(dae_run):
  _, summary = dae_run
  for key in ("knn_accuracy", "linear_probe_accuracy", "trustworthiness", "continuity", "test_mse"):
    assert 0.0 <= summary[key] <= 1.0 and 0.0 <= summary["pca_" + key] <= 1.0, key
  assert summary["pca_test_psnr"] > 0
  table = summary["denoising"]
  assert {(r["corruption"], r["level"]) for r in table} == {
      (c, l) for c in ("gaussian", "masking", "salt_and_pepper") for l in analysis.DENOISING_LEVELS}
  for name in ("gaussian", "masking", "salt_and_pepper"):
    noisy = [r["noisy_input_mse"] for r in table if r["corruption"] == name]
    assert noisy == sorted(noisy), name       # more corruption, larger input error
  masking_03 = next(r for r in table if r["corruption"] == "masking" and r["level"] == 0.3)
  assert masking_03["noisy_input_mse"] == pytest.approx(summary["noisy_input_mse"], rel=0.05)


def test_report_is_self_contained(dae_run):
  workdir, summary = dae_run
  with open(os.path.join(workdir, "report.html")) as f:
    page = f.read()
  assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
  assert page.count('src="data:image/png;base64,') == len(analysis.PICTURES)
  assert "<canvas" in page and "digit " in page
  assert f"{summary['knn_accuracy']:.4f}" in page and f"{summary['pca_knn_accuracy']:.4f}" in page


def test_analyze_reproduces_the_training_metrics(dae_run, tmp_path):
  workdir, summary = dae_run
  with open(os.path.join(workdir, "summary.json")) as f:
    before = json.load(f)
  os.remove(os.path.join(workdir, "latent.png"))
  again = script("analyze")([workdir])
  assert again == before == json.loads(json.dumps(summary))
  assert png_size(os.path.join(workdir, "latent.png")) == inches(plots.LATENT_SIZE)


def test_analyze_and_curse_refuse_a_folder_that_is_no_run(capsys, tmp_path):
  for name, argv in (("analyze", [str(tmp_path)]), ("curse", ["--workdir", str(tmp_path)])):
    with pytest.raises(SystemExit) as e:
      script(name)(argv)
    assert e.value.code == 2
    assert "not a run folder" in capsys.readouterr().err


def test_curse_of_dimensionality(dae_run, tmp_path):
  workdir, _ = dae_run
  result = script("curse")(["--workdir", workdir, "--points", "150", "--out", str(tmp_path)])
  contrast = result["uniform_relative_contrast"]
  assert all(a > b for a, b in zip(contrast, contrast[1:]))   # concentrates with the dimension
  assert contrast[-1] < 0.5 < 10 < contrast[0]
  assert png_size(tmp_path / "curse.png") == inches(plots.CURSE_SIZE)
