"""The sparse autoencoder's config."""
import dataclasses

from aejax.config.ae import VariantConfig
from aejax.config.base import ConfigError, hparam, section, weight
from aejax.config.sections import VariantObjective
from aejax.objectives import sparse


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
