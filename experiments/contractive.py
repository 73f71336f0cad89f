"""The contractive autoencoder (Rifai et al. 2011).

  python experiments/contractive.py                          # lambda 0.01
  python experiments/contractive.py --corruption gaussian --noise 0.3   # denoising and contractive

Loss: reconstruction + contraction * ||J_h(x~)||_F^2, the encoder's Jacobian with
respect to [0, 1] pixels, exact by autodiff (aejax/objectives/contractive.py).
Writes what experiments/ae.py writes.
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.ContractiveConfig, lambda c, given: experiment.run(c, given, name="contractive"), argv)


if __name__ == "__main__":
  main()
