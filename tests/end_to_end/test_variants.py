"""The variants end to end: the zoo on a tiny budget, resume of a variant, and
fuzzed flags of the new scripts."""
import json
import os

import hypothesis
import pytest
from conftest import expect_error, fake_mnist, script
from hypothesis import strategies as st

from aejax import stacked

EPOCHS = 3
SHARED = ["--epochs", str(EPOCHS), "--widths", "16", "--batch-size", "32"]
ZOO_MODELS = script("zoo").__globals__["MODELS"]
# The variants whose runs differ from the AE's beyond the loss: the other variants train in
# tests/test_train.py, and a whole zoo takes the time of six runs.
IN_ZOO = ("vae", "sdae")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  """The fake MNIST of the file's runs, written once."""
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")))


def read(path):
  with open(path) as f:
    return json.load(f) if path.endswith(".json") else [json.loads(line) for line in f]


def test_zoo_of_the_variants_beside_pca_and_resume_of_a_variant(capsys, tmp_path, data_dir):
  """One test, so that test processes do not each train the zoo."""
  workdir = str(tmp_path / "zoo")
  rows = script("zoo")(["--workdir", workdir, "--data-dir", data_dir,
                        "--pretrain-epochs", "1", "--nll-samples", "16", "--models", ",".join(IN_ZOO),
                        "--no-pictures", *SHARED])
  folders = {ZOO_MODELS[i][0]: os.path.join(workdir, i) for i in IN_ZOO}
  names = [r["name"] for r in rows]
  assert names == ["PCA, 3 components", *folders]
  assert read(os.path.join(workdir, "zoo.json"))["rows"] == rows
  for name in ("zoo.md", "zoo.html"):
    with open(os.path.join(workdir, name)) as f:
      text = f.read()
    assert all(n in text for n in names), name
  for row in rows:
    assert set(row) == {"name", "test_mse", "test_psnr", "test_negative_elbo", "knn_accuracy",
                        "linear_probe_accuracy", "trustworthiness", "continuity", "denoised_mse",
                        "seconds", "parameters", "test_nll", "test_nll_bits_per_dim"}
    assert 0 < row["test_mse"] < 0.3 and 0 < row["denoised_mse"] < 0.3 and row["parameters"] > 0, row
    assert 0 <= row["knn_accuracy"] <= 1 and row["seconds"] > 0, row
  by_name = {r["name"]: r for r in rows}
  for name, folder in folders.items():   # each variant's loss falls over its short run
    losses = [r["train_loss"] for r in read(os.path.join(folder, "metrics.jsonl"))]
    assert len(losses) == EPOCHS and losses[-1] < losses[0], (name, losses)
  vae = read(os.path.join(folders["VAE"], "summary.json"))
  assert by_name["PCA, 3 components"]["knn_accuracy"] == vae["pca_knn_accuracy"]
  assert vae["test_negative_elbo"] > 0
  # analysed without pictures: the folders hold none, and zoo.html links to no report
  assert not [f for f in folders.values() for name in os.listdir(f) if name.endswith((".png", ".html"))]
  assert "report.html" not in text
  assert vae["nll_samples"] == 16 and 0 < vae["test_nll"] <= vae["test_negative_elbo"]
  sdae = read(os.path.join(folders["stacked DAE"], "summary.json"))
  # The same noise for every model: the zoo's figure is the denoising table's entry of a run
  # trained with a corruption.
  entry = [e for e in sdae["denoising"] if e["corruption"] == "gaussian" and e["level"] == 0.5][0]
  assert by_name["stacked DAE"]["denoised_mse"] == pytest.approx(entry["denoised_mse"], rel=1e-5)
  assert [s["stage"] for s in sdae["stages"]] == ["1: 784-16", "2: 16-3", "stacked, before fine-tuning"]
  assert all(0 < s["test_mse"] < 1 for s in sdae["stages"])
  assert sdae["stages"] == read(os.path.join(folders["stacked DAE"], stacked.RECORDS))

  # A variant keeps its settings; the stacked DAE resumes without pretraining again.
  capsys.readouterr()
  expect_error(capsys, "vae", ["--workdir", folders["VAE"], "--resume", "--beta", "2"],
               "--resume cannot change --beta (was 1.0, now 2.0)")
  records = os.path.join(folders["stacked DAE"], stacked.RECORDS)
  before = os.stat(records).st_mtime_ns
  summary = script("sdae")(["--workdir", folders["stacked DAE"], "--resume", "--epochs", str(EPOCHS + 1),
                             "--no-pictures"])
  assert os.stat(records).st_mtime_ns == before
  assert summary["epochs"] == EPOCHS + 1 and summary["stages"] == read(records)
  metrics = read(os.path.join(folders["stacked DAE"], "metrics.jsonl"))
  assert [r["epoch"] for r in metrics] == list(range(1, EPOCHS + 2))


def test_best_3d_runs_its_configuration_and_resumes_by_name(capsys, tmp_path, data_dir):
  workdir = str(tmp_path / "best")
  tiny = ["--workdir", workdir, "--data-dir", data_dir, "--epochs", "1",
          "--widths", "16", "--batch-size", "32", "--no-analysis"]
  script("best_3d")(tiny)
  saved = read(os.path.join(workdir, "config.json"))
  assert saved["experiment"] == "best_3d"
  assert (saved["decoupled"], saved["weight_decay"], saved["corruption"], saved["noise"],
          saved["augmentation"], saved["rotation"], saved["shift"], saved["scale"]) == (
      True, 1e-4, "gaussian", 0.2, "affine", 5.0, 1.0, 0.05)
  assert saved["lr_schedule"] == "cosine"
  summary = script("best_3d")(["--workdir", workdir, "--resume", "--epochs", "2", "--no-analysis"])
  assert summary["epochs"] == 2 and summary["denoised_mse"] > 0
  expect_error(capsys, "best_3d", ["--workdir", workdir, "--resume", "--no-decoupled"],
               "--resume cannot change --decoupled")


def not_a(kind):
  def parses(text):
    try:
      kind(text)
      return True
    except ValueError:
      return False
  return st.text(max_size=6).filter(lambda t: not parses(t))


NEGATIVE = st.floats(max_value=-1e-6, allow_nan=False).map(str)
OUTSIDE_UNIT = st.one_of(st.floats(max_value=-1e-6), st.floats(min_value=1.000001), st.just("nan")).map(str)
NOT_POSITIVE = st.integers(max_value=0).map(str)
BAD = {  # (script, flag): values it refuses
    **{(s, "noise"): st.one_of(OUTSIDE_UNIT, not_a(float)) for s in ("sparse", "contractive", "vae", "sdae")},
    **{(s, "corruption"): st.text(max_size=8).filter(lambda t: t not in ("none", "gaussian", "masking",
                                                                          "salt_and_pepper"))
       for s in ("sparse", "contractive", "vae", "sdae")},
    **{(s, "activation"): st.text(max_size=8).filter(lambda t: t not in ("relu", "sigmoid"))
       for s in ("sparse", "contractive", "vae")},
    ("sdae", "activation"): st.just("relu"),
    **{(s, w): st.one_of(NEGATIVE, not_a(float)) for s, w in (
        ("sparse", "code_l1"), ("sparse", "sparsity"), ("contractive", "contraction"), ("vae", "beta"))},
    ("sparse", "rho"): st.one_of(st.floats(max_value=0), st.floats(min_value=1), not_a(float)).map(str),
    **{(s, "pretrain_epochs"): st.one_of(NOT_POSITIVE, not_a(int)) for s in ("sdae", "zoo")},
    **{("zoo", f): st.one_of(NOT_POSITIVE, not_a(int)) for f in ("epochs", "latent_dim", "batch_size")},
    ("zoo", "models"): st.text(max_size=8).filter(lambda t: t != "all" and not {p.strip() for p in t.split(",")} <= set(ZOO_MODELS)),
    ("zoo", "widths"): st.text(max_size=8).filter(
        lambda t: not all(p.strip().isdigit() and int(p) > 0 for p in t.split(","))),
}


@hypothesis.settings(max_examples=80, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(st.sampled_from(sorted(BAD)).flatmap(lambda k: st.tuples(st.just(k), BAD[k])))
def test_fuzzed_flags_of_the_variants_exit_2_naming_the_flag(capsys, tmp_path, case):
  (name, field), value = case
  flag = "--" + field.replace("_", "-")
  workdir = tmp_path / "never"
  expect_error(capsys, name, [f"{flag}={value}", "--workdir", str(workdir)], flag)
  assert not workdir.exists()


def test_kl_sparsity_needs_sigmoid_units_and_a_zoo_never_replaces_other_files(capsys, tmp_path):
  expect_error(capsys, "sparse", ["--sparsity", "0.1", "--activation", "relu"],
               "--sparsity needs --activation sigmoid")
  (tmp_path / "notes.txt").write_text("mine")
  expect_error(capsys, "zoo", ["--workdir", str(tmp_path), "--overwrite"], "files that are not a zoo's")
  assert (tmp_path / "notes.txt").read_text() == "mine"
