"""Vincent et al. 2010 (JMLR 11:3371, Table 3): three layers pretrained as denoising
autoencoders (masking noise, 25 % of the inputs set to 0) and fine-tuned with a
softmax output classify MNIST's test digits with 1.28 % error, against 1.40 % for the
same network pretrained as plain autoencoders (SAE-3); the claim is the ratio, 0.91.

  python experiments/reproduce/vincent2010.py                    # the embedded digits
  python experiments/reproduce/vincent2010.py --data-dir DIR     # MNIST's IDX files: the paper's data
  python experiments/reproduce/vincent2010.py --workdir runs/v   # the two runs in runs/v/sae, runs/v/sdae

Two runs of experiments/sdae.py, the same but for the corruption: `sae` (none) and
`sdae` (masking 25 %). Each pretrains a 784-1000-1000-1000 network layer by layer
(sigmoid units, the top layer linear, cross-entropy reconstruction, 10 epochs per
layer), trains it end to end as an autoencoder for 1 epoch (aejax's SDAE step; not
in the paper), then fine-tunes the encoder with a softmax head on the labels for 30
epochs (aejax.evaluators.finetune). Adam (lr 1e-3, no weight decay, batch 128) in
place of the paper's stochastic gradient descent, fixed epochs in place of its early
stopping on a validation set, and one width in place of its search over widths.
Both runs also report the linear probe on the frozen code. Every flag of
experiments/sdae.py applies to both runs (later flags win; with --resume, each
run's own).
"""
import os
import sys

from aejax import config
from aejax.report import literature
from aejax.run import cli, experiment

SETTING = ["--widths", "1000,1000", "--latent-dim", "1000", "--loss", "bce", "--noise", "0.25",
           "--pretrain-epochs", "10", "--epochs", "1", "--finetune-epochs", "30",
           "--lr", "1e-3", "--weight-decay", "0", "--batch-size", "128"]
RUNS = (("sae", ["--corruption", "none"]), ("sdae", ["--corruption", "masking"]))
SOURCE = "Vincent et al. 2010, JMLR 11:3371, Table 3"
CLAIMS = (
    literature.Claim(SOURCE, "SDAE-3 (masking 25 %), fine-tuned, test classification error", 1.28,
                     "% of test digits", "MNIST, 50,000 training digits (10,000 for validation), "
                     "widths and epochs chosen on the validation set"),
    literature.Claim(SOURCE, "SAE-3 (plain autoencoders), fine-tuned, test classification error", 1.40,
                     "% of test digits", "MNIST, as above"),
    literature.Claim(SOURCE, "the SDAE's error as a fraction of the SAE's", 1.28 / 1.40,
                     "ratio", "the two figures above"))


def rows(sae, sdae):
  """(Claim, aejax's figure) of each claim, from the two runs' summaries."""
  error = lambda s: None if s.get("finetuned_test_error") is None else 100 * s["finetuned_test_error"]
  return list(zip(CLAIMS, (error(sdae), error(sae), literature.ratio(error(sdae), error(sae)))))


def workdir_of(argv):
  """The value of --workdir in argv (None without it) and argv without it."""
  rest, workdir, args = [], None, iter(argv)
  for arg in args:
    if arg == "--workdir":
      workdir = next(args, None)
      if workdir is None:   # argparse then says what is missing
        rest.append(arg)
    elif arg.startswith("--workdir="):
      workdir = arg.split("=", 1)[1]
    else:
      rest.append(arg)
  return workdir, rest


def main(argv=None):
  workdir, argv = workdir_of(sys.argv[1:] if argv is None else list(argv))
  summaries = {}
  for name, corruption in RUNS:
    own = [] if workdir is None else ["--workdir", os.path.join(workdir, name)]
    summaries[name] = cli.main_preset(
        config.SDAEConfig, lambda c, given: experiment.run(c, given, name="sdae"),
        [*SETTING, *corruption], [*own, *argv], description=__doc__)
  s = summaries["sdae"]
  pretrained, finetuned = s.get("stages", [{}])[0].get("epochs"), s.get("finetune_epochs")
  data = (f"{s['data_source']}, {s['n_train']} training and {s['n_test']} test images"
          + (f", {pretrained} pretraining epochs per layer" if pretrained else "")
          + (f", {finetuned} epochs of fine-tuning" if finetuned else ""))
  probes = ", ".join(f"{name} {summaries[name].get('linear_probe_accuracy', float('nan')):.4f}"
                     for name, _ in RUNS)
  print(literature.table(rows(summaries["sae"], s), data)
        + f"\naejax's linear-probe accuracy on the frozen code: {probes}", flush=True)
  return summaries


if __name__ == "__main__":
  main()
