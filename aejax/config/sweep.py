"""A sweep's config: lists of the traced settings of one variant, and the config of
every model (experiments/sweep.py)."""
import dataclasses
import itertools
import numbers
from typing import Optional

from aejax import objectives
from aejax.config.ae import EARLIER, NEWEST, AEConfig
from aejax.config.base import Config, ConfigError, Section, flag, option, section
from aejax.config.sections import AUGMENTATION_RANGES, ObjectiveConfig, OptimiserConfig, RunData, VariantModel
from aejax.config.vae import LikelihoodRun
from aejax.data import corruptions


def as_floats(value, name):
  """A list setting of a sweep as a tuple of finite floats, from a tuple, list or 1-d
  array of numbers (NumPy's too), one number, or the comma-separated text that the
  command line (and sweep folders written before the settings had types) hold, ""
  for none; ConfigError naming the flag if it is none of these."""
  finite = lambda v: -float("inf") < v < float("inf")
  if isinstance(value, str):
    try:
      values = tuple(float(v) for v in value.split(",")) if value else ()
    except ValueError:
      values = None
    if values is None or not all(map(finite, values)):
      raise ConfigError(f"--{flag(name)} must be numbers separated by commas, got {value!r}")
    return values
  number = lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool) and type(v).__name__ != "bool_"
  if hasattr(value, "tolist"):   # a NumPy array or scalar
    value = value.tolist()
  if number(value):
    value = (value,)
  if not isinstance(value, (tuple, list)) or not all(number(v) for v in value):
    raise ConfigError(f"--{flag(name)} must be numbers, got {value!r}")
  if not all(map(finite, value)):
    raise ConfigError(f"--{flag(name)} must be finite numbers, got {list(value)!r}")
  return tuple(float(v) for v in value)


def shown(values):
  """A sweep's list as its flag is typed: comma-separated."""
  return ",".join(f"{v:g}" for v in values)


# The list-valued settings of a sweep: every traced one (aejax.train: the corruption
# level, the optimiser's, the augmentation's (with --augmentation affine only) and
# each regulariser's), each a flag of the variants that have it.
SWEPT = ("noise", "lr", "weight_decay", *AUGMENTATION_RANGES, "code_l1", "sparsity", "rho", "contraction",
         "beta")
# The variants a sweep trains: those whose models differ only in traced settings.
SWEEP_VARIANTS = ("ae", "dae", "sparse", "contractive", "vae")


def listed(help, default=()):  # pylint: disable=redefined-builtin
  """A sweep's list of values of a traced setting (a tuple of floats; on the command
  line comma-separated); empty: the variant's default."""
  return dataclasses.field(default=default, metadata={
      "help": help + ", comma-separated (default: " + (shown(default) if default else "the variant's") + ")",
      "listed": True})


@dataclasses.dataclass(frozen=True)
class Listed(Section):
  """A sweep's section: its `listed` fields are read by `as_floats` (lists, one
  number, NumPy values or comma-separated text)."""

  def __post_init__(self):
    for f in dataclasses.fields(self):
      if f.metadata.get("listed"):
        object.__setattr__(self, f.name, as_floats(getattr(self, f.name), f.name))


@dataclasses.dataclass(frozen=True)
class SweepModel(VariantModel):
  """The variant every model is, and its architecture."""
  variant: str = option("dae", "the variant every model is (as its script: dae.py, vae.py, ...)",
                        SWEEP_VARIANTS)


@dataclasses.dataclass(frozen=True)
class SweepObjective(Listed, ObjectiveConfig):
  """The objective every model shares, and the lists of its traced settings."""
  corruption: Optional[str] = option(None, "the corruption q(x~|x) of every model (default: the "
                                     "variant's: gaussian for dae, none for the others)",
                                     tuple(corruptions.CORRUPTIONS))
  loss: Optional[str] = option(None, "the objective of every model (default: the variant's: bce for "
                               "vae, mse for the others)", tuple(objectives.OBJECTIVES))
  noise: tuple[float, ...] = listed("corruption levels (each as dae.py's --noise; 0.5 with a corruption)")
  rotation: tuple[float, ...] = listed("with --augmentation affine: largest rotations in degrees", (10.0,))
  shift: tuple[float, ...] = listed("with --augmentation affine: largest moves in pixels", (1.5,))
  scale: tuple[float, ...] = listed("with --augmentation affine: largest relative changes of size", (0.1,))
  flip: tuple[float, ...] = listed("with --augmentation affine: probabilities of a left-right mirror", (0.0,))
  code_l1: tuple[float, ...] = listed("with --variant sparse: weights of the code's L1 norm")
  sparsity: tuple[float, ...] = listed("with --variant sparse: weights of the KL sparsity penalty")
  rho: tuple[float, ...] = listed("with --variant sparse: target mean activations")
  contraction: tuple[float, ...] = listed("with --variant contractive: weights lambda of the Jacobian's norm")
  beta: tuple[float, ...] = listed("with --variant vae: weights beta of the KL term")

  def check(self):   # the lists are checked in each member's config
    Section.check(self)


@dataclasses.dataclass(frozen=True)
class SweepOptimiser(Listed, OptimiserConfig):
  """The optimiser every model shares, and the lists of its traced settings."""
  lr: tuple[float, ...] = listed("learning rates", (1e-3,))
  weight_decay: tuple[float, ...] = listed("weight decays (L2 term, or AdamW's with --decoupled)", (1e-5,))

  def check(self):
    Section.check(self)


@dataclasses.dataclass(frozen=True)
class SweepRun(LikelihoodRun):
  """The sweep's folder, seeds and devices, and what it records."""
  seeds: int = option(1, "seeds per setting: --seed, --seed+1, ...")
  chunk: int = option(0, "models vectorised together on a device (0: 1 on CPU, every model on GPU); "
                      "with 1 each model is computed exactly as its single run")
  model_devices: int = option(0, "devices the models are split over (0: as many of --devices as "
                              "divide the number of models); the rest split the batch")
  nll_samples: int = option(1000, "with --variant vae and --loss bce: importance samples k of each "
                            "model's test negative log-likelihood (Burda et al. 2016; 0: not estimated)")
  no_pictures: bool = option(False, "draw no plots: sweep.html holds the table alone, sweep.csv and "
                             "sweep.json every figure")

  def check(self):
    super().check()
    self._at_least(1, "seeds")
    self._at_least(0, "chunk", "model_devices")


@dataclasses.dataclass(frozen=True)
class SweepConfig(Config):
  """Many models of one variant trained at once: every combination of the listed
  values of its traced settings (corruption level, learning rate, weight decay,
  augmentation ranges with --augmentation affine, the weights of its
  regularisers), each with --seeds seeds (--seed, --seed+1, ...)."""
  data: RunData = section(RunData)
  model: SweepModel = section(SweepModel)
  objective: SweepObjective = section(SweepObjective)
  optimiser: SweepOptimiser = section(SweepOptimiser)
  run: SweepRun = section(SweepRun)

  ADDED_LATER = (*EARLIER[:2], ("variant", "activation", "code_l1", "sparsity", "rho", "contraction", "beta"),
                 *EARLIER[2:], ("nll_samples",), NEWEST)
  RESUMABLE = (*AEConfig.RESUMABLE, "nll_samples")   # read by the analysis alone

  def member_class(self):
    """The config class of every model: the variant's (aejax.variants)."""
    from aejax import variants  # pylint: disable=import-outside-toplevel  (it imports this module)
    return variants.VARIANTS[self.model.variant].config

  def __post_init__(self):
    """The corruption and objective in force, the variant's unless given, are recorded."""
    super().__post_init__()
    defaults = self.member_class().settings()
    chosen = {name: getattr(self.objective, name) for name in ("corruption", "loss")}
    filled = {name: defaults[name].default if name in defaults else getattr(ObjectiveConfig, name)
              for name, value in chosen.items() if value is None}
    if filled:
      object.__setattr__(self, "objective", dataclasses.replace(self.objective, **filled))

  def _common(self):
    """The settings every member shares: the sweep's, where the member's class has them."""
    names = set(self.member_class().settings())
    flags = self.flags()
    common = {name: value for name, value in flags.items()
              if name in names and name not in SWEPT and value is not None}
    common.update({name: flags[name][0] for name in SWEPT if name in names and flags[name]})
    return common

  def values(self):
    """{setting: tuple of its swept values} of every setting in SWEPT that the
    variant has (the augmentation ranges with --augmentation affine only), an
    unlisted one at the variant's default; plus `seed`: the seeds."""
    cls, flags = self.member_class(), self.flags()
    probe = cls.from_flags(**self._common()).flags()   # the variant's defaults under the sweep's settings
    out = {name: flags[name] or (probe[name],) for name in SWEPT
           if name in probe and (self.objective.augmentation != "none" or name not in AUGMENTATION_RANGES)}
    out["seed"] = tuple(range(self.run.seed, self.run.seed + self.run.seeds))
    return out

  def members(self):
    """The config of every model, in row order (the last axis varies fastest)."""
    cls, values = self.member_class(), self.values()
    common = self._common()
    return [cls.from_flags(**{**common, **dict(zip(values, combo))})
            for combo in itertools.product(*values.values())]

  def check(self):
    super().check()
    settings, flags, defaults = self.member_class().settings(), self.flags(), SweepConfig.settings()
    for name in SWEPT:
      if flags[name] and name not in settings and flags[name] != defaults[name].default:
        raise ConfigError(f"--{flag(name)} is not a setting of --variant {self.model.variant}")
    for name in AUGMENTATION_RANGES:
      if self.objective.augmentation == "none" and len(flags[name]) > 1:
        raise ConfigError(f"--{name} lists several values, which need --augmentation affine")
    for name, values in self.values().items():
      if name in settings and "regulariser" in settings[name].metadata and 0 in values and any(values):
        raise ConfigError(f"--{flag(name)} lists 0 beside other weights: a weight of 0 leaves its term "
                          "out of the compiled program, which the models of a sweep share; sweep 0 on its own")
    for member in self.members():
      member.check()
