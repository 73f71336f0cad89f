"""The reference autoencoder's config, the denoising one's, and what every variant's extends."""
import dataclasses

from aejax.config.base import Config, section
from aejax.config.sections import (
  DenoisingObjective,
  ModelConfig,
  ObjectiveConfig,
  OptimiserConfig,
  RunConfig,
  RunData,
  VariantModel,
  VariantObjective,
)

# The settings of a single run added after its first version (Config.ADDED_LATER), a
# group per version, up to the newest; a variant adds its own groups where they came.
EARLIER = (("lr_schedule", "augmentation", "rotation", "shift", "scale"),
           ("data", "train_split", "test_split", "resize", "test_fraction",
            "validation_fraction", "image_shape", "channels", "kernel_size", "flip"),
           ("binarize",))
NEWEST = ("strides",)


@dataclasses.dataclass(frozen=True)
class AEConfig(Config):
  """The reference autoencoder: 784-128-64-12-3, MSE, Adam with L2 decay, batch 128."""
  data: RunData = section(RunData)
  model: ModelConfig = section(ModelConfig)
  objective: ObjectiveConfig = section(ObjectiveConfig)
  optimiser: OptimiserConfig = section(OptimiserConfig)
  run: RunConfig = section(RunConfig)

  ADDED_LATER = (*EARLIER, NEWEST)
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
