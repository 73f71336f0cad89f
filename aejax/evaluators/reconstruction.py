"""The reconstruction of the test split, per-pixel MSE in [0, 1] units and PSNR:
of the clean input, and for a denoising variant of the corrupted input."""
from aejax import units, variants
from aejax.evaluators import Column, Evaluator


def measure(subject):
  test, config = subject.test, subject.config
  out = {"test_mse": float(test["mse"]), "test_psnr": units.psnr(test["mse"]),
         "test_loss": float(test["loss"])}
  if variants.denoising(config):
    out.update(corruption=config.objective.corruption, noise=config.objective.noise,
               noisy_input_mse=float(test["noisy_input_mse"]),
               denoised_mse=float(test["denoised_mse"]),
               denoised_psnr=units.psnr(test["denoised_mse"]))
  return out


EVALUATOR = Evaluator("reconstruction", measure, order=10, cheap=True, columns=(
    Column("test_mse", "test per-pixel MSE", "test MSE",
           "per-pixel MSE of the clean test images, [0, 1] units, lower is better",
           units="[0, 1] units", plotted=True),
    Column("test_psnr", "test PSNR", "PSNR", "dB, higher is better", units="dB", fmt=".2f"),
    Column("noisy_input_mse", "corrupted test input per-pixel MSE", "corrupted input MSE",
           "denoising variants: the corrupted test images against the clean ones, [0, 1] units",
           units="[0, 1] units"),
    Column("denoised_mse", "denoised test per-pixel MSE", "denoised MSE",
           "denoising variants: their reconstruction against the clean ones, [0, 1] units",
           units="[0, 1] units", plotted=True),
))
