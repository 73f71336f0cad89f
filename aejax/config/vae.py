"""The variational autoencoder's config."""
import dataclasses

from aejax import objectives
from aejax.config.ae import EARLIER, NEWEST, VariantConfig
from aejax.config.base import option, section, weight
from aejax.config.sections import RunConfig, VariantObjective
from aejax.objectives import variational


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

  ADDED_LATER = (*EARLIER[:-1], (*EARLIER[-1], "nll_samples"), NEWEST)
  RESUMABLE = (*VariantConfig.RESUMABLE, "nll_samples")   # read by the analysis alone
