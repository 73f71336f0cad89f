"""Many models of one variant (DAEs by default) trained at once in one compiled
program: every combination of the listed values times seeds, each model exactly
the single run of its settings.

  python experiments/sweep.py --noise 0,0.1,0.3,0.5,0.7 --seeds 5
  python experiments/sweep.py --lr 3e-4,1e-3,3e-3 --seeds 3 --noise 0.3
  python experiments/sweep.py --augmentation affine --rotation 0,5,10 --seeds 3
  python experiments/sweep.py --variant vae --beta 0.5,1,2,4 --seeds 3
  python experiments/sweep.py --variant contractive --contraction 0.001,0.01,0.1

All other flags as in the variant's script (dae.py, vae.py, ...). Writes config.json, metrics.jsonl (a list per
figure: a value per model), checkpoints of the stacked state (--resume works as
for a single run), summary.json (training figures of all models together),
sweep.json (a row per model with every figure of a single run's summary),
sweep.csv, sweep_<figure>.png (mean and spread over seeds against the swept
axis; sweep.png: all of them), sweep.html. Per-pixel MSE in [0, 1] units.
"""
from aejax import config
from aejax.run import cli, sweep


def main(argv=None):
  return cli.main(config.SweepConfig, sweep.run, argv)


if __name__ == "__main__":
  main()
