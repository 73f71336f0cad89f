"""Configs in sections (aejax/config/): what a new section, setting or variant may not
get wrong is refused where it is declared, and every script's config checks its values."""
import dataclasses

import pytest
from conftest import expect_error

from aejax import config
from aejax.objectives import sparse


def test_a_flag_in_two_sections_or_a_weight_outside_the_objective_is_refused_where_declared():
  @dataclasses.dataclass(frozen=True)
  class SeededModel(config.ModelConfig):
    seed: int = config.option(7, "a second --seed")

  @dataclasses.dataclass(frozen=True)
  class Twice(config.AEConfig):
    model: SeededModel = config.section(SeededModel)
  with pytest.raises(TypeError, match="--seed is a setting of both model and run"):
    Twice.settings()

  @dataclasses.dataclass(frozen=True)
  class WeightedModel(config.VariantModel):
    code_l1: float = config.weight(sparse.code_l1, 0.5, "a weight in the wrong section")

  @dataclasses.dataclass(frozen=True)
  class Misplaced(config.VariantConfig):
    model: WeightedModel = config.section(WeightedModel)
  with pytest.raises(TypeError, match="code_l1 weighs or tunes the loss, and belongs to the objective"):
    Misplaced.settings()
  with pytest.raises(TypeError, match="RunData has no field data"):   # fields, not flags: its `name`
    config.section(config.RunData, data="embedded")
  with pytest.raises(TypeError, match="SparseConfig.objective must be a SparseObjective"):
    config.SparseConfig(objective=config.VariantObjective())
  with pytest.raises(TypeError):   # read-only: no caller changes the class's settings
    config.AEConfig.settings()["lr"] = None


def test_every_scripts_config_checks_its_values(capsys, tmp_path):
  for cls, flags, named in ((config.ZooConfig, {"epochs": 0}, "--epochs must be positive"),
                            (config.ZooConfig, {"widths": "8,x"}, "--widths must be positive integers"),
                            (config.ZooConfig, {"nll_samples": -1}, "--nll-samples must be non-negative"),
                            (config.CurseConfig, {"points": 9}, "--points must be at least 10")):
    with pytest.raises(config.ConfigError, match=named):
      cls.from_flags(**flags).check()
  expect_error(capsys, "zoo", ["--pretrain-epochs", "0", "--workdir", str(tmp_path / "zoo")],
               "--pretrain-epochs must be positive")
  expect_error(capsys, "curse", ["--points", "3", "--out", str(tmp_path / "curse")], "--points must be at least 10")
  assert not (tmp_path / "zoo").exists() and not (tmp_path / "curse").exists()
