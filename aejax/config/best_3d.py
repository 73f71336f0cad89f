"""The config of the strongest 3-d code found (experiments/best_3d.py)."""
import dataclasses

from aejax.config.ae import VariantConfig
from aejax.config.base import section
from aejax.config.sections import OptimiserConfig, VariantModel, VariantObjective


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
