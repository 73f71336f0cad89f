"""notebooks/walkthrough.ipynb: committed with its outputs, small, and still running
from top to bottom through the library (at 1 epoch per model)."""
import os
import re

import nbformat
import pytest
from conftest import ROOT

NOTEBOOK = os.path.join(ROOT, "notebooks", "walkthrough.ipynb")


def printed(notebook):
  return "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
                 if o.output_type == "stream")


def number(pattern, text):
  return float(re.search(pattern, text).group(1))


def test_committed_notebook_holds_its_outputs_and_is_small():
  assert os.path.getsize(NOTEBOOK) < 1_000_000
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  code = [c for c in notebook.cells if c.cell_type == "code"]
  assert [c.execution_count for c in code] == list(range(1, len(code) + 1))   # run in order, once
  assert not any(o.output_type == "error" for c in code for o in c.outputs)
  images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
  assert len(images) >= 5
  text = printed(notebook)
  assert number(r"after (\d+) epochs", text) == 30


def test_notebook_runs_through_the_library(tmp_path):
  nbclient = pytest.importorskip("nbclient")
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  env = {"AEJAX_NOTEBOOK_EPOCHS": "1", "OPENBLAS_NUM_THREADS": "1"}
  saved = {k: os.environ.get(k) for k in env}
  os.environ.update(env)   # the kernel inherits this process's environment
  try:
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
  finally:
    for k, v in saved.items():
      if v is None:
        os.environ.pop(k)
      else:
        os.environ[k] = v
  text = printed(notebook)
  untrained, trained = (number(p, text) for p in (r"MSE: ([\d.]+) untrained", r"-> ([\d.]+) after 1 epochs"))
  assert trained < untrained
  noisy, denoised = (number(p, text) for p in (r"corrupted test input MSE ([\d.]+)", r"-> denoised ([\d.]+)"))
  assert denoised < noisy
  assert number(r"MNIST pixels, d = 784: ([\d.]+)", text) > number(r"uniform, d =  784: .*= +([\d.]+)", text)
  assert 0 < number(r"cross-entropy AE: test per-pixel MSE ([\d.]+)", text) < untrained
