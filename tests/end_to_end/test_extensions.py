"""The worked extensions of docs/development.md, as they stand there: a new
architecture and a new measurement, each one file added to a copy of the
package, with nothing else edited, reach a real run, its summary, report.html
and compare.py's table."""
import json
import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT, fake_mnist


def worked_examples():
  """{path: code} of the fenced Python blocks of docs/development.md that open with '# aejax/...'."""
  text = open(os.path.join(ROOT, "docs", "development.md"), encoding="utf-8").read()
  blocks = re.findall(r"```python\n(# (aejax/\S+\.py)\n.*?)```", text, re.S)
  return {path: code for code, path in blocks}


def test_a_new_architecture_and_a_new_measurement_are_one_file_each(tmp_path):
  examples = worked_examples()
  assert set(examples) == {"aejax/models/linear.py", "aejax/evaluators/code_norm.py"}
  copy = tmp_path / "copy"
  for folder in ("aejax", "experiments"):
    shutil.copytree(os.path.join(ROOT, folder), copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
  for path, code in examples.items():
    assert not (copy / path).exists()
    (copy / path).write_text(code)
  env = {**os.environ, "PYTHONPATH": str(copy)}
  data, workdir, out = fake_mnist(str(tmp_path / "mnist")), str(tmp_path / "run"), str(tmp_path / "compare")
  # One process: the run, the measurement computed again from its checkpoint, and compare.py.
  script = f"""
import json, sys, numpy as np, jax
sys.path.insert(0, "experiments")
import ae, compare
from aejax import train
from aejax.run import experiment
ae.main(["--architecture", "linear", "--latent-dim", "4", "--epochs", "2", "--batch-size", "32",
         "--data-dir", {data!r}, "--workdir", {workdir!r}])
config, state, _, _ = experiment.load_run({workdir!r})
codes = np.asarray(train.encode(state, experiment.load_data(config).test_images), np.float64)
compare.main([{workdir!r}, {workdir!r}, "--out", {out!r}])
print(json.dumps([float(np.mean(np.linalg.norm(codes, axis=1))),
                  sorted(jax.tree.map(lambda p: list(p.shape), state.params).items())]))
"""
  done = subprocess.run([sys.executable, "-c", script], env=env, cwd=copy, capture_output=True, text=True,
                        timeout=240, check=False)
  assert done.returncode == 0, done.stderr[-3000:]
  norm, params = json.loads(done.stdout.splitlines()[-1])
  summary = json.load(open(os.path.join(workdir, "summary.json")))
  assert summary["mean_code_norm"] == norm > 0
  assert params == [["dec", {"bias": [784], "kernel": [4, 784]}], ["enc", {"bias": [4], "kernel": [784, 4]}]]
  report = open(os.path.join(workdir, "report.html"), encoding="utf-8").read()
  assert "mean norm of the test codes" in report and f"{summary['mean_code_norm']:.4g}"[:4] in report
  table = json.load(open(os.path.join(out, "compare.json")))
  assert {"key": "mean_code_norm", "column": "code norm",
          "unit": "mean L2 norm of the test codes, code units"} in table["metrics"]
