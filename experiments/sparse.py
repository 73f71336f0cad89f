"""The sparse autoencoder: sigmoid hidden units pulled toward a mean activation rho.

  python experiments/sparse.py                              # KL sparsity 0.01 toward rho 0.05
  python experiments/sparse.py --code-l1 1e-3 --sparsity 0  # an L1 penalty on the code instead
  python experiments/sparse.py --corruption masking --noise 0.3 --architecture mlp

Loss: reconstruction + sparsity * sum_j KL(rho || mean activation of hidden unit j)
+ code_l1 * ||z||_1 (aejax/objectives/sparse.py). Writes what experiments/ae.py writes.
"""
from aejax import cli, config, experiment


def main(argv=None):
  return cli.main(config.SparseConfig, lambda c, given: experiment.run(c, given, name="sparse"), argv)


if __name__ == "__main__":
  main()
