"""The reference model as a denoising autoencoder: reconstruct clean x from x~ ~ q(x~|x).

  python experiments/dae.py --noise 0.5                      # gaussian noise, std 0.5 pixel units
  python experiments/dae.py --corruption masking --noise 0.3 # 30% of the pixels set to 0

Writes what experiments/ae.py writes; summary.json adds noisy_input_mse (the
corrupted test input against the clean one) and denoised_mse (its reconstruction
against the clean one), per-pixel MSE in [0, 1] units.
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.DAEConfig, lambda c, given: experiment.run(c, given, name="dae"), argv)


if __name__ == "__main__":
  main()
