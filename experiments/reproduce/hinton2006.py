"""Hinton & Salakhutdinov 2006 (Science 313:504, Fig. 2): a deep 784-1000-500-250-30
autoencoder reconstructs MNIST test digits with an average squared error of 3.00 per
image, against 13.87 for PCA with 30 components; the claim is the ratio, 0.22.

  python experiments/reproduce/hinton2006.py                   # the embedded digits
  python experiments/reproduce/hinton2006.py --data-dir DIR    # MNIST's IDX files: the paper's data

A linear 30-d code and a logistic output trained with the cross-entropy, as in the
paper; modern training in place of its RBM pretraining and conjugate-gradient
fine-tuning: ReLU hidden units (the paper's are logistic), Adam (lr 1e-3, no weight
decay), batch 128, 100 epochs from a random start. The squared error per image is
the per-pixel MSE in [0, 1] units times 784; PCA's reconstruction is clipped to
[0, 1]. Every flag of experiments/ae.py applies (later flags win; with --resume, the
run's own); the run's folder holds what ae.py writes.
"""
from aejax import config
from aejax.report import literature
from aejax.run import cli, experiment

SETTING = ["--widths", "1000,500,250",
           "--latent-dim", "30", "--loss", "bce", "--lr", "1e-3", "--weight-decay", "0",
           "--batch-size", "128", "--epochs", "100"]
SOURCE = "Hinton & Salakhutdinov 2006, Science 313:504, Fig. 2"
CLAIMS = (
    literature.Claim(SOURCE, "deep autoencoder, test squared error per image", 3.00,
                     "squared error per image, [0, 1] pixels", "MNIST, 60,000 training digits, RBM "
                     "pretraining and conjugate-gradient fine-tuning"),
    literature.Claim(SOURCE, "PCA with 30 components, test squared error per image", 13.87,
                     "squared error per image, [0, 1] pixels", "MNIST, 60,000 training digits"),
    literature.Claim(SOURCE, "the autoencoder's error as a fraction of PCA's", 3.00 / 13.87,
                     "ratio", "the two figures above"))


def rows(summary):
  """(Claim, aejax's figure) of each claim, from a run's summary."""
  pixels = 784 if list(summary["image_shape"]) == [28, 28, 1] else None   # the paper's images
  ae = pixels and summary["test_mse"] * pixels
  pca = pixels and summary.get("pca_test_mse") and summary["pca_test_mse"] * pixels
  return list(zip(CLAIMS, (ae, pca, literature.ratio(ae, pca))))


def main(argv=None):
  summary = cli.main_preset(config.AEConfig, lambda c, given: experiment.run(c, given, name="ae"),
                            SETTING, argv, description=__doc__)
  data = (f"{summary['data_source']}, {summary['n_train']} training and {summary['n_test']} test "
          f"images, {summary['epochs']} epochs")
  print(literature.table(rows(summary), data), flush=True)
  return summary


if __name__ == "__main__":
  main()
