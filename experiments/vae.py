"""The variational autoencoder (beta-VAE): a Gaussian encoder, a cross-entropy decoder.

  python experiments/vae.py                                  # beta 1: the negative ELBO
  python experiments/vae.py --widths 500 --latent-dim 20 --epochs 10   # the Flax example's shape

Loss per pixel: cross-entropy of the decoded draw z ~ q(z|x~) + beta * KL(q(z|x~) || N(0, I)) / P
(aejax/objectives/variational.py). Writes what experiments/ae.py writes; summary.json
adds test_negative_elbo (nats per image, with --loss bce) and prior_samples.png
shows digits decoded from prior draws.
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.VAEConfig, lambda c, given: experiment.run(c, given, name="vae"), argv)


if __name__ == "__main__":
  main()
