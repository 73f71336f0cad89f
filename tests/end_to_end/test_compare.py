"""experiments/compare.py on run folders of known content, and its refusals."""
import json
import os
import re

import pytest
from conftest import script

CONFIG = {"experiment": "dae", "workdir": None, "epochs": 3, "batch_size": 32, "lr": 0.001, "seed": 0,
          "latent_dim": 3, "loss": "mse", "corruption": "gaussian", "noise": 0.5, "resume": False}


def make_run(folder, config=None, summary=None, test_mse=(0.08, 0.06, 0.05)):
  os.makedirs(folder)
  with open(os.path.join(folder, "config.json"), "w") as f:
    json.dump({**CONFIG, "workdir": folder, **(config or {})}, f)
  if summary is not None:
    with open(os.path.join(folder, "summary.json"), "w") as f:
      json.dump(summary, f)
  with open(os.path.join(folder, "metrics.jsonl"), "w") as f:
    for epoch, mse in enumerate(test_mse, 1):
      f.write(json.dumps({"epoch": epoch, "train_loss": 4 * mse, "train_mse": mse + 0.01, "test_mse": mse,
                          "grad_norm": 1.0}) + "\n")
  return folder


@pytest.fixture
def runs(tmp_path):
  a = make_run(str(tmp_path / "a" / "dae-1"), summary={"test_mse": 0.05, "pca_test_mse": 0.0518,
                                                      "denoised_mse": 0.039, "knn_accuracy": 0.78})
  resumed = [{"epoch": 2, "time": "2026-12-03T19:03:21+00:00", "changed": {}}]   # a record, not a setting
  b = make_run(str(tmp_path / "b" / "dae-1"), {"noise": 0.3, "seed": 1, "resumptions": resumed},
               {"test_mse": 0.045, "pca_test_mse": 0.0518, "denoised_mse": 0.041, "knn_accuracy": 0.75},
               test_mse=(0.07, 0.05, 0.045))
  c = make_run(str(tmp_path / "ae-2"), {"experiment": "ae", "corruption": None, "noise": None}, None,
               test_mse=(0.09,))
  with open(os.path.join(c, "config.json")) as f:
    config = json.load(f)
  del config["corruption"], config["noise"]   # a plain AE's config.json has neither
  with open(os.path.join(c, "config.json"), "w") as f:
    json.dump(config, f)
  return [a, b, c]


def test_compare_tables_the_runs_and_what_differs(runs, tmp_path, capsys):
  out = str(tmp_path / "out")
  result = script("compare")([*runs, "--out", out])
  assert result["differing"] == ["corruption", "experiment", "noise", "seed"]   # not workdir, resumptions
  assert result["shared"]["epochs"] == 3 and not {"workdir", "resumptions"} & set(result["shared"])
  names = [r["name"] for r in result["runs"]]
  assert names == [os.path.normpath(runs[0]), os.path.normpath(runs[1]), "ae-2"]   # two share "dae-1"
  assert [r["config"]["noise"] for r in result["runs"]] == [0.5, 0.3, 0.0]
  assert [r["config"]["corruption"] for r in result["runs"]] == ["gaussian", "gaussian", "none"]
  assert [r["metrics"]["denoised_mse"] for r in result["runs"]] == [0.039, 0.041, None]
  assert [r["finished"] for r in result["runs"]] == [True, True, False]
  assert [m["key"] for m in result["metrics"]] == ["test_mse", "denoised_mse", "knn_accuracy", "pca_test_mse"]
  printed = capsys.readouterr().out
  with open(os.path.join(out, "compare.md")) as f:
    markdown = f.read()
  assert markdown in printed
  assert markdown.splitlines()[0] == ("| run | corruption | experiment | noise | seed | test MSE | denoised MSE | "
                                      "5-NN acc. | PCA test MSE |")
  assert "| ae-2 (unfinished) | none | ae | 0 | 0 | - | - | - | - |" in markdown
  assert "[0, 1] units" in markdown
  with open(os.path.join(out, "compare.json")) as f:
    assert json.load(f) == json.loads(json.dumps(result))
  with open(os.path.join(out, "compare.html")) as f:
    page = f.read()
  assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
  assert page.count('src="data:image/png;base64,') == 1 and "<td>0.039</td>" in page
  for name in ("compare_curves.png", "compare_curves.pdf"):
    assert os.path.getsize(os.path.join(out, name)) > 1000


def test_compare_refuses_what_is_no_run(runs, tmp_path, capsys):
  damaged = make_run(str(tmp_path / "damaged"), summary={})
  with open(os.path.join(damaged, "summary.json"), "w") as f:
    f.write('{"test_mse": 0.0')
  cases = [
      ([runs[0], str(tmp_path)], "not a run folder (no config.json)"),
      ([runs[0], damaged], "summary.json: not valid JSON"),
      ([runs[0], "--out", runs[1]], "holds a training run"),
      ([], "the following arguments are required: runs"),
  ]
  for argv, message in cases:
    with pytest.raises(SystemExit) as e:
      script("compare")(argv)
    assert e.value.code == 2, argv
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
  assert sorted(os.listdir(runs[1])) == ["config.json", "metrics.jsonl", "summary.json"]   # untouched


def test_labels_name_the_runs_and_augmentation_ranges_count_only_where_applied(runs, tmp_path, capsys):
  a, b, _ = runs
  for folder, augmentation, rotation in ((a, "affine", 5.0), (b, "none", 10.0)):
    with open(os.path.join(folder, "config.json")) as f:
      config = json.load(f)
    config.update(augmentation=augmentation, rotation=rotation, shift=1.5, scale=0.1, flip=0.0)
    with open(os.path.join(folder, "config.json"), "w") as f:
      json.dump(config, f)
  result = script("compare")([a, b, "--labels", "noise 0.5, noise 0.3", "--out", str(tmp_path / "out")])
  assert [r["name"] for r in result["runs"]] == ["noise 0.5", "noise 0.3"]
  assert [r["config"]["rotation"] for r in result["runs"]] == [5.0, None]   # no range where none applied
  assert "shift" in result["differing"] and "| noise 0.3 |" in capsys.readouterr().out
  with pytest.raises(SystemExit) as stop:
    script("compare")([a, b, "--labels", "only one", "--out", str(tmp_path / "out2")])
  assert stop.value.code == 2
  err = capsys.readouterr().err.strip()
  assert err.endswith("--labels must name each of the 2 runs once, separated by commas; got 'only one'")
  assert len(err.splitlines()) == 1


def test_a_sweeps_lists_show_as_their_flags_are_typed(runs, tmp_path, capsys):
  a, *_ = runs
  sweep = make_run(str(tmp_path / "sweep"), {"experiment": "sweep", "noise": [0.1, 0.5], "lr": [0.001, 0.003]})
  script("compare")([a, sweep, "--out", str(tmp_path / "out")])
  rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| sweep (unfinished) |")]
  assert len(rows) == 1 and "| 0.001,0.003 |" in rows[0] and "| 0.1,0.5 |" in rows[0], rows
  assert "()" not in rows[0]   # the lists it leaves to the variant (its config.json's, or added since)
  # a sweep folder of an earlier version holds its lists as text: the same settings, not a difference
  old = make_run(str(tmp_path / "old"), {"experiment": "sweep", "noise": "0.1,0.5", "lr": "1e-3,3e-3"})
  result = script("compare")([sweep, old, "--out", str(tmp_path / "out2")])
  assert "noise" not in result["differing"] and "lr" not in result["differing"], result["differing"]
