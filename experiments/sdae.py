"""The stacked denoising autoencoder (Vincent et al. 2010): greedy layer-wise
pretraining of each layer as a DAE of the codes below, then end-to-end fine-tuning.

  python experiments/sdae.py                                 # masking 0.25, 10 epochs per layer
  python experiments/sdae.py --corruption gaussian --noise 0.3 --pretrain-epochs 5
  python experiments/sdae.py --finetune-epochs 30   # then a softmax head on the encoder, trained on the labels

Writes what experiments/ae.py writes, and pretraining.json; summary.json adds
`stages`: each stage's test reconstruction error (aejax/stacked.py); with
--finetune-epochs, `finetuned_test_error`: the test classification error of the encoder
fine-tuned with a softmax head (aejax/evaluators/finetune.py).
"""
from aejax import config
from aejax.run import cli, experiment


def main(argv=None):
  return cli.main(config.SDAEConfig, lambda c, given: experiment.run(c, given, name="sdae"), argv)


if __name__ == "__main__":
  main()
