"""The config of the curse of dimensionality's measurement (experiments/curse.py)."""
import dataclasses
from typing import Optional

from aejax.config.base import Config, ConfigError, Section, option, section
from aejax.config.sections import DataConfig


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
