"""The zoo's config: every variant on one budget (experiments/zoo.py)."""
import dataclasses
from typing import Optional

from aejax.config.base import Config, Section, option, section, sizes
from aejax.config.sections import DataConfig


@dataclasses.dataclass(frozen=True)
class ZooModel(Section):
  """The architecture every model of the zoo shares."""
  latent_dim: int = option(3, "size of every model's code, and PCA's number of components")
  widths: str = option("128,64,12", "encoder hidden widths of every model, comma-separated")
  models: str = option("all", "comma-separated ids of the models to train (of experiments/zoo.py "
                       "MODELS: ae, dae, sparse, contractive, vae, sdae, ...), or all")

  def check(self):
    super().check()
    self._at_least(1, "latent_dim")
    sizes(self.widths, "widths")


@dataclasses.dataclass(frozen=True)
class ZooOptimiser(Section):
  """The training budget every model of the zoo shares."""
  epochs: int = option(50, "training epochs of every model (the stacked DAE pretrains each layer "
                       "for --pretrain-epochs before)")
  batch_size: int = option(128, "examples per optimizer step")
  pretrain_epochs: int = option(10, "epochs of greedy pretraining of each layer of the stacked DAE")

  def check(self):
    super().check()
    self._at_least(1, "epochs", "batch_size", "pretrain_epochs")


@dataclasses.dataclass(frozen=True)
class ZooRun(Section):
  """Where the zoo's files go, its seed and what it records."""
  workdir: Optional[str] = option(None, "folder for zoo.json, zoo.md, zoo.html and one run folder per "
                                  "model (default: a new folder under runs/)")
  seed: int = option(0, "seed of every model")
  nll_samples: int = option(1000, "importance samples k of the VAE's test negative log-likelihood "
                            "(Burda et al. 2016; 0: not estimated)")
  overwrite: bool = option(False, "start afresh in a --workdir that holds an earlier zoo, deleting it")
  no_pictures: bool = option(False, "analyse every model without drawing its pictures and report "
                             "(experiments/analyze.py on a model's folder draws them later)")

  def check(self):
    super().check()
    self._at_least(0, "nll_samples")


@dataclasses.dataclass(frozen=True)
class ZooConfig(Config):
  """Every variant trained on the same split, seed and epoch budget, beside PCA."""
  data: DataConfig = section(DataConfig)
  model: ZooModel = section(ZooModel)
  optimiser: ZooOptimiser = section(ZooOptimiser)
  run: ZooRun = section(ZooRun)
