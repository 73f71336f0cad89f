"""The reference autoencoder on MNIST.

  python experiments/ae.py                  # 100 epochs on the embedded digits, CPU: about a minute
  python experiments/ae.py --help           # every flag with its default

Writes config.json, metrics.jsonl, summary.json, reconstructions.png and
checkpoints/ in --workdir (default: a new folder under runs/).
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.AEConfig, lambda c, given: experiment.run(c, given, name="ae"), argv)


if __name__ == "__main__":
  main()
