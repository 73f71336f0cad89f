"""The contractive autoencoder's config."""
import dataclasses

from aejax.config.ae import VariantConfig
from aejax.config.base import section, weight
from aejax.config.sections import VariantObjective
from aejax.objectives import contractive


@dataclasses.dataclass(frozen=True)
class ContractiveObjective(VariantObjective):
  """lambda * ||J_h(x)||_F^2 of the encoder, exact by autodiff."""
  contraction: float = weight(contractive.contraction, 0.01, "weight lambda of the squared Frobenius "
                              "norm of the encoder's Jacobian (code units per [0, 1] pixel unit)")


@dataclasses.dataclass(frozen=True)
class ContractiveConfig(VariantConfig):
  """The contractive autoencoder: lambda * ||J_h(x)||_F^2 of the encoder, exact by autodiff."""
  objective: ContractiveObjective = section(ContractiveObjective)
