"""The strongest 3-d code found within 15 minutes on 2 CPU cores.

  python experiments/best_3d.py                       # about 4 minutes on 2 CPU cores
  python experiments/best_3d.py --data-dir DIR --workdir runs/best-3d

A denoising autoencoder (gaussian noise of std 0.2) with a wider 784-512-256-64-3
encoder and its mirror, AdamW (lr 1e-3, weight decay 1e-4) with a cosine learning
rate schedule over 800 epochs, on training digits rotated by up to 5 degrees,
resized by up to 5% and moved by up to 1 pixel at every step (--augmentation
affine). Every flag of the variants applies; the defaults are this configuration
(aejax.config.Best3DConfig). Writes what experiments/dae.py writes.
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.Best3DConfig, lambda c, given: experiment.run(c, given, name="best_3d"), argv)


if __name__ == "__main__":
  main()
