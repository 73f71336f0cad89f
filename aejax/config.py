"""Frozen experiment configs; the command line of each experiment is derived from them.

A field's `help` metadata is its flag's help; `choices` restricts its values. A
config is validated as a whole by `check`, which names the offending flag.
"""
import dataclasses
import typing
from typing import Optional

from aejax import corruptions, data, losses, models
from aejax.errors import UserError


class ConfigError(UserError):
  """An invalid setting; the message names the flag."""


def option(default, help, choices=None):  # pylint: disable=redefined-builtin
  return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


@dataclasses.dataclass(frozen=True)
class AEConfig:
  """The reference autoencoder: 784-128-64-12-3, MSE, Adam with L2 decay, batch 128."""
  workdir: Optional[str] = option(None, "folder for the run's files (default: a new folder under runs/)")
  epochs: int = option(100, "training epochs (passes over the training split)")
  batch_size: int = option(128, "examples per optimizer step")
  lr: float = option(1e-3, "Adam learning rate")
  weight_decay: float = option(1e-5, "weight decay: an L2 term on the gradient (PyTorch Adam)")
  decoupled: bool = option(False, "decoupled weight decay (AdamW) instead of the L2 term")
  architecture: str = option("mlp", "encoder/decoder architecture", tuple(models.ARCHITECTURES))
  widths: str = option("128,64,12", "encoder hidden widths, comma-separated (for --architecture "
                       "conv, the dense layers between the convolutions and the code, e.g. 256); "
                       "the decoder mirrors them")
  latent_dim: int = option(3, "size of the code z")
  loss: str = option("mse", "mse: tanh output against pixels in [-1, 1]; bce: sigmoid "
                     "cross-entropy against pixels in [0, 1]", tuple(losses.OBJECTIVES))
  seed: int = option(0, "seed of initialisation, shuffling and noise")
  data_source: str = option("auto", "auto: IDX files in --data-dir, else TFDS mnist if prepared "
                            "locally, else the embedded digits", data.SOURCES)
  data_dir: Optional[str] = option(None, "folder with the four MNIST IDX files (raw or .gz)")
  eval_every: int = option(1, "evaluate on the test split every K epochs (0: only at the end)")
  checkpoint_every: int = option(10, "write a checkpoint every K epochs (and always at the end)")
  keep_checkpoints: int = option(3, "how many of the newest checkpoints to keep")
  devices: int = option(0, "how many local devices to train on (0: all); the batch is split across them")
  dtype: str = option("float32", "compute dtype; parameters and optimizer state stay float32",
                      ("float32", "bfloat16"))
  resume: bool = option(False, "continue from the newest checkpoint in --workdir")
  overwrite: bool = option(False, "start afresh in a --workdir that holds an earlier run, deleting it")

  corruption = "none"  # the AE is the DAE with no corruption
  noise = 0.0

  # Fields that may differ between a run and its resumption.
  RESUMABLE = ("workdir", "epochs", "eval_every", "checkpoint_every", "keep_checkpoints",
               "resume", "overwrite", "devices")

  @property
  def hidden_widths(self):
    return tuple(int(w) for w in self.widths.split(","))

  def check(self):
    """Raises ConfigError naming the first invalid flag."""
    positive = ("epochs", "batch_size", "latent_dim", "keep_checkpoints")
    for name in positive:
      if getattr(self, name) <= 0:
        raise ConfigError(f"--{flag(name)} must be positive, got {getattr(self, name)}")
    for name in ("eval_every", "checkpoint_every", "weight_decay", "devices"):
      if getattr(self, name) < 0:
        raise ConfigError(f"--{flag(name)} must be non-negative, got {getattr(self, name)}")
    if not self.lr > 0:
      raise ConfigError(f"--lr must be positive, got {self.lr}")
    try:
      if not self.hidden_widths or min(self.hidden_widths) <= 0:
        raise ValueError
    except ValueError:
      raise ConfigError(f"--widths must be positive integers separated by commas, got {self.widths!r}") from None
    for f in dataclasses.fields(self):
      choices = f.metadata.get("choices")
      if choices and getattr(self, f.name) not in choices:
        raise ConfigError(f"--{flag(f.name)} must be one of {', '.join(choices)}, got {getattr(self, f.name)!r}")
    if self.resume and not self.workdir:
      raise ConfigError("--resume needs --workdir")
    if self.resume and self.overwrite:
      raise ConfigError("--resume and --overwrite exclude each other")


@dataclasses.dataclass(frozen=True)
class DAEConfig(AEConfig):
  """The reference model as a denoising autoencoder: reconstruct x from x~ ~ q(x~|x)."""
  corruption: str = option("gaussian", "the corruption q(x~|x)",
                           tuple(c for c in corruptions.CORRUPTIONS if c != "none"))
  noise: float = option(0.5, "corruption level in [0, 1]: gaussian standard deviation in "
                        "[0, 1] pixel units, or the fraction of pixels masked or flipped")

  def check(self):
    super().check()
    if not 0.0 <= self.noise <= 1.0:
      raise ConfigError(f"--noise must be in [0, 1], got {self.noise}")


def flag(name):
  return name.replace("_", "-")


def field_type(cls, f):
  """The plain type of a config field (Optional[X] -> X)."""
  hint = typing.get_type_hints(cls)[f.name]
  args = [a for a in typing.get_args(hint) if a is not type(None)]
  return args[0] if args else hint
