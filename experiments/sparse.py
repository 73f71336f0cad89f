"""The sparse autoencoder: an L1 penalty on the code, and/or the KL sparsity of
sigmoid hidden units toward a mean activation rho.

  python experiments/sparse.py                                  # L1 on the code, weight 1e-3
  python experiments/sparse.py --activation sigmoid --sparsity 0.001 --rho 0.05 --code-l1 0
  python experiments/sparse.py --corruption masking --noise 0.3 # a sparse denoising AE

Loss: reconstruction + code_l1 * ||z||_1 + sparsity * sum_j KL(rho || mean activation
of hidden unit j) (aejax/objectives/sparse.py). Writes what experiments/ae.py writes.
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.SparseConfig, lambda c, given: experiment.run(c, given, name="sparse"), argv)


if __name__ == "__main__":
  main()
