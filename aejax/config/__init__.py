"""Frozen experiment configs in sections; the command line of each experiment is derived from them.

A config is a frozen dataclass of sections, each a frozen dataclass of its own:
`data` (where the images come from), `model` (the architecture), `objective`
(the loss, corruption, augmentation and regularisers), `optimiser` (epochs, batch,
learning rate, weight decay) and `run` (workdir, seed, checkpoints, what is
recorded). A variant is a config whose sections it extends: the sparse
autoencoder's objective adds its two weights and rho, the VAE's run its number of
importance samples. Code reads a setting where it belongs, `config.optimiser.lr`;
the data loader's and the optimiser's arguments come from their sections
(`DataConfig.load_kwargs`, `OptimiserConfig.schedule_kwargs`). The zoo's and the
curse of dimensionality's configs have the sections they need.

Every setting is a flag of the same name (`--lr`); flag names are unique across
sections, so the flat `{flag: value}` of `Config.flags` is the config on the
command line, in config.json and in compare.py's columns, and
`Config.from_flags(lr=1e-2, noise=0.3)` is the command line in Python. A field's
`help` metadata is its flag's help; `choices` restricts its values. A config is
validated as a whole by `check`, which names the offending flag.

An objective's regularisers are the fields made with `weight(fn, ...)` (the flag
sets the weight; 0 leaves the term out), and its other continuous settings the
fields made with `hparam` (traced in the train state, like every weight and the
noise level; see aejax.objectives).

One file per piece: `base` (how a config works: `Config`, `Section`, the field
makers), `sections` (a single run's data, model, objective, optimiser and run), and
one file per experiment: `ae` (AEConfig, DAEConfig and VariantConfig, which every
variant's extends), `sparse`, `contractive`, `vae`, `sdae`, `best_3d`, `sweep`, `zoo`
and `curse`. Everything is imported from here: `from aejax import config`,
`config.DAEConfig`.
"""
# ruff: noqa: F401  (the package's names, imported from here)
from aejax.config.ae import AEConfig, DAEConfig, VariantConfig
from aejax.config.base import (
  Config,
  ConfigError,
  Section,
  Setting,
  derived,
  flag,
  hparam,
  hparams,
  option,
  regularisers,
  section,
  shape,
  sizes,
  weight,
)
from aejax.config.best_3d import Best3DConfig
from aejax.config.contractive import ContractiveConfig, ContractiveObjective
from aejax.config.curse import CurseConfig, CurseData, CurseRun
from aejax.config.sdae import FinetunedRun, SDAEConfig, StackedModel, StackedObjective, StackedOptimiser
from aejax.config.sections import (
  AUGMENTATION_RANGES,
  DataConfig,
  DenoisingObjective,
  ModelConfig,
  ObjectiveConfig,
  OptimiserConfig,
  RunConfig,
  RunData,
  VariantModel,
  VariantObjective,
)
from aejax.config.sparse import SparseConfig, SparseObjective
from aejax.config.sweep import (
  SWEEP_VARIANTS,
  SWEPT,
  Listed,
  SweepConfig,
  SweepModel,
  SweepObjective,
  SweepOptimiser,
  SweepRun,
  as_floats,
  listed,
  shown,
)
from aejax.config.vae import LikelihoodRun, VAEConfig, VAEObjective
from aejax.config.zoo import ZooConfig, ZooModel, ZooOptimiser, ZooRun
