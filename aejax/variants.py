"""What is special about each variant, declared once.

The trainer names no variant: a variant is its config (aejax.config) and its
loss (aejax.objectives). What the rest of a run must know about it lives here:
its script and display name, the weights its title shows, whether its encoder is
Gaussian (a VAE: the negative ELBO and prior samples) or pretrained layer by
layer (the stacked DAE), and, for any variant trained on corrupted inputs, that
it denoises. The run, the analysis and the report ask these functions; none of
them tests a variant's name, its flags or its corruption.

A variant whose step differs from `train.train_step` (two optimisers, several
samples per step) is a new `loss` over the same TrainState where it can be (as
the VAE's sampling is), else its own step function beside `train.train_step`.
No variant needs one yet, so Variant has no field for it: the first such variant
adds that field here and has `run.experiment` call its step in place of
`train.train_epoch`.
"""
import dataclasses

from aejax import config as config_lib, models, stacked

# The evaluation figures of a split, per-pixel MSE in [0, 1] units: of the clean
# input's reconstruction, and for a denoising variant of the corrupted input's.
CLEAN, DENOISED = "mse", "denoised_mse"


@dataclasses.dataclass(frozen=True)
class Variant:
  """One variant. script: experiments/<script>.py, also config.json's
  `experiment`; name: its display name; config: its config class; weights:
  (field, symbol) of the settings its title shows; variational: a Gaussian
  encoder around the architecture, scored by the negative ELBO, with prior
  samples among its pictures; stacked: pretrained layer by layer (aejax.stacked)
  for `pretrain_epochs` before training."""
  script: str
  name: str
  config: type
  weights: tuple = ()
  variational: bool = False
  stacked: bool = False


VARIANTS = {v.script: v for v in (
    Variant("ae", "AE", config_lib.AEConfig),
    Variant("dae", "AE", config_lib.DAEConfig),
    Variant("sparse", "sparse AE", config_lib.SparseConfig,
            weights=(("code_l1", "L1"), ("sparsity", "KL"), ("rho", "ρ"))),
    Variant("contractive", "contractive AE", config_lib.ContractiveConfig, weights=(("contraction", "λ"),)),
    Variant("vae", "VAE", config_lib.VAEConfig, weights=(("beta", "β"),), variational=True),
    Variant("sdae", "stacked AE", config_lib.SDAEConfig, stacked=True),
    Variant("best_3d", "AE", config_lib.Best3DConfig),
)}


def of(config):
  """The Variant of a config (by its class; a subclass takes its nearest declared base)."""
  for cls in type(config).__mro__:
    for variant in VARIANTS.values():
      if variant.config is cls:
        return variant
  raise ValueError(f"no variant declares {type(config).__name__}")


def denoising(config):
  """Whether the config's inputs are corrupted: a denoising variant."""
  return config.objective.corruption != "none"


def figures(config):
  """The evaluation figures (train.evaluate's keys) recorded for the test and
  validation splits: `CLEAN`, and `DENOISED` for a denoising variant."""
  return (CLEAN, DENOISED) if denoising(config) else (CLEAN,)


def corruption_phrase(corruption, level):
  """'gaussian σ = 0.5', 'masking 25 %', 'salt and pepper 10 %'."""
  if corruption == "gaussian":
    return f"gaussian σ = {level:g}"
  return f"{corruption.replace('_', ' ')} {level * 100:g} %"


def display_name(config):
  """'AE', 'DAE, masking 25 %', 'VAE, β = 1', 'contractive AE, λ = 0.01',
  'sparse DAE, L1 = 0.001, gaussian σ = 0.3': the variant, the weights of its
  regularisers that are in force, and the corruption."""
  variant = of(config)
  name = variant.name
  if denoising(config):
    name = name[:-2] + "DAE" if name == "AE" or name.endswith(" AE") else name + " (denoising)"
  objective = config.objective
  shown = [f"{symbol} = {getattr(objective, field):g}" for field, symbol in variant.weights
           if getattr(objective, field) and not (field == "rho" and not getattr(objective, "sparsity", 0))]
  if denoising(config):
    shown.append(corruption_phrase(config.objective.corruption, config.objective.noise))
  return ", ".join([name, *shown])


def model(config, base):
  """The model of a run: `base` (an architecture built for `latent_dim(config)`
  codes), inside a Gaussian encoder for a variational variant."""
  return models.Gaussian(base) if of(config).variational else base


def latent_dim(config):
  """The width of the architecture's code layer: twice the code for a Gaussian
  encoder (its means and log-variances)."""
  return config.model.latent_dim * (2 if of(config).variational else 1)


def pretrains(config):
  """Whether the run is pretrained layer by layer before training."""
  return of(config).stacked and config.optimiser.pretrain_epochs > 0


def pretrain(config, state, key, dataset):
  """(pretrained state, records) of a stacked variant: aejax.stacked.pretrain."""
  return stacked.pretrain(state, key, dataset.train_images, dataset.test_images,
                          config.optimiser.pretrain_epochs, config.optimiser.batch_size)


def scored_by_elbo(config):
  """Whether the variant's own figure is the negative ELBO (a VAE with the
  cross-entropy objective, whose loss is then a bound on -log p(x))."""
  return of(config).variational and config.objective.loss == "bce"


def pictures(config):
  """The names of the pictures (aejax.report.pictures) that only this variant draws."""
  return ("prior_samples.png",) if of(config).variational else ()


def own_figure(config):
  """(summary key, words) of the variant's own figure, the one its last line and
  its report lead with."""
  if scored_by_elbo(config):
    return "test_negative_elbo", "negative ELBO, nats per image"
  if denoising(config):
    return "denoised_mse", "denoised per-pixel MSE, [0, 1] units"
  return "test_mse", "per-pixel MSE, [0, 1] units"


def headline(config, summary, digits=5):
  """The run's result in one phrase, its own figure first: the negative ELBO of
  a VAE, the denoising of a denoising variant (the corrupted test input's
  per-pixel MSE -> its reconstruction's), the clean reconstruction's per-pixel MSE."""
  mse = f"{summary['test_mse']:.{digits}f}"
  if denoising(config) and "denoised_mse" in summary:
    text = (f"per-pixel MSE {summary['noisy_input_mse']:.{digits}f} -> {summary['denoised_mse']:.{digits}f} "
            f"(corrupted test input -> its reconstruction), clean input {mse} ([0, 1] units)")
  else:
    text = f"test per-pixel MSE {mse} ([0, 1] units)"
  if scored_by_elbo(config) and summary.get("test_negative_elbo") is not None:
    text = f"test negative ELBO {summary['test_negative_elbo']:.2f} nats per image; " + text
    if summary.get("test_nll") is not None:
      text = (f"test NLL {summary['test_nll']:.2f} nats per image (importance-weighted, "
              f"k = {summary['nll_samples']}), " + text[5:])
  return text
