"""Every variant is named from one place (aejax.variants): its display name with
the weights in force and the corruption, and its own figure on the last line."""
import os
import re

import pytest
from conftest import ROOT

from aejax import config as config_lib, variants
from aejax.run import experiment


@pytest.mark.parametrize("config, name", [
    (config_lib.AEConfig(), "AE"),
    (config_lib.DAEConfig.from_flags(corruption="masking", noise=0.25), "DAE, masking 25 %"),
    (config_lib.DAEConfig(), "DAE, gaussian σ = 0.5"),
    (config_lib.VAEConfig(), "VAE, β = 1"),
    (config_lib.VAEConfig.from_flags(beta=4.0, corruption="salt_and_pepper", noise=0.1),
     "VAE (denoising), β = 4, salt and pepper 10 %"),
    (config_lib.ContractiveConfig(), "contractive AE, λ = 0.01"),
    (config_lib.SparseConfig(), "sparse AE, L1 = 0.001"),
    (config_lib.SparseConfig.from_flags(sparsity=0.1, activation="sigmoid", corruption="gaussian", noise=0.3),
     "sparse DAE, L1 = 0.001, KL = 0.1, ρ = 0.05, gaussian σ = 0.3"),
    (config_lib.SDAEConfig(), "stacked DAE, masking 25 %"),
    (config_lib.Best3DConfig(), "DAE, gaussian σ = 0.2"),
])
def test_display_names(config, name):
  assert variants.display_name(config) == name


def test_every_experiment_is_a_declared_variant_and_no_corruption_records_no_noise():
  for script, variant in variants.VARIANTS.items():
    assert variants.of(variant.config()) is variant, script
  for cls in (config_lib.SparseConfig, config_lib.ContractiveConfig, config_lib.VAEConfig):
    assert cls().objective.noise == 0.0 and cls.from_flags(corruption="masking").objective.noise == 0.5
  assert config_lib.DAEConfig().objective.noise == 0.5


def test_the_last_line_leads_with_the_variants_own_figure():
  summary = {"test_mse": 0.031234, "test_negative_elbo": 104.567, "pca_test_mse": 0.05,
             "noisy_input_mse": 0.2, "denoised_mse": 0.04}
  vae = experiment.headline(config_lib.VAEConfig(), summary, "runs/x")
  assert vae.startswith("VAE, β = 1: test negative ELBO 104.57 nats per image; test per-pixel MSE 0.03123")
  assert vae.endswith("PCA with 3 components: 0.05000; report: runs/x/report.html")
  dae = experiment.headline(config_lib.DAEConfig(), summary, "runs/x")
  assert dae.startswith("DAE, gaussian σ = 0.5: per-pixel MSE 0.20000 -> 0.04000 (corrupted test input")
  contractive = experiment.headline(config_lib.ContractiveConfig(), {"test_mse": 0.02}, "runs/x")
  assert contractive == ("contractive AE, λ = 0.01: test per-pixel MSE 0.02000 ([0, 1] units); "
                         "no analysis: python experiments/analyze.py runs/x")


def test_help_lists_the_flags_by_section():
  from aejax.run import cli
  text = cli.make_parser(config_lib.SweepConfig).format_help()
  names = ("data", "model", "objective", "optimiser", "run")
  heads = [line[:-1] for line in text.splitlines() if line in {f"{s}:" for s in names}]
  assert heads == list(names)
  sections = {name: s.section for name, s in config_lib.SweepConfig.settings().items()}
  assert sections["beta"] == sections["noise"] == "objective" and sections["lr"] == "optimiser"
  assert sections["widths"] == "model" and sections["data"] == "data" and sections["seeds"] == "run"
  below = text[text.index("\noptimiser:"):text.index("\nrun:")]
  assert "--weight-decay" in below and "--beta" not in below


def test_the_training_step_example_of_the_docs_runs_and_learns(capsys):
  """docs/variants.md's example of train_step in research code, as it stands there."""
  text = open(os.path.join(ROOT, "docs", "variants.md"), encoding="utf-8").read()
  code = re.search(r"## The training step.*?```python\n(.*?)```", text, re.S).group(1)
  exec(compile(code, "docs/variants.md", "exec"), {})   # pylint: disable=exec-used
  mse = float(capsys.readouterr().out.split()[-1])
  assert 0 < mse < 0.09   # the untrained network's output (about 0.25) far above, PCA's 3-d code near 0.052


def test_the_config_example_of_the_docs_prints_what_its_comments_say(capsys):
  """docs/variants.md's example of a config in Python: each print's output is its comment."""
  text = open(os.path.join(ROOT, "docs", "variants.md"), encoding="utf-8").read()
  code = re.search(r"## Configs in Python.*?```python\n(.*?)```", text, re.S).group(1)
  exec(compile(code, "docs/variants.md", "exec"), {})   # pylint: disable=exec-used
  said = [line.split("#", 1)[1].strip() for line in code.splitlines() if line.startswith("print(")]
  assert capsys.readouterr().out.splitlines() == said
