"""The stacked denoising autoencoder's config."""
import dataclasses

from aejax.config.ae import EARLIER, NEWEST, VariantConfig
from aejax.config.base import ConfigError, option, section
from aejax.config.sections import ModelConfig, OptimiserConfig, RunConfig, VariantObjective
from aejax.data import corruptions


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

  ADDED_LATER = (*EARLIER, ("finetune_epochs",), NEWEST)
  RESUMABLE = (*VariantConfig.RESUMABLE, "finetune_epochs")   # read by the analysis alone

  def check(self):
    super().check()
    if self.model.architecture != "mlp":
      raise ConfigError(f"--architecture must be mlp: the stacked autoencoder is pretrained "
                        f"dense layer by dense layer, got {self.model.architecture!r}")
