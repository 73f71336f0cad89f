"""Re-run the analysis of a trained run from its newest checkpoint, without training.

  python experiments/analyze.py runs/ae-20261127-120000

Rewrites the metrics in WORKDIR/summary.json (the training figures stay), the
pictures and report.html. For an unchanged run the metrics equal the training run's.
"""
import json
import os

from aejax import analysis, cli, data, experiment


def analyze(workdir):
  cfg, state, eval_key, epoch = experiment.load_run(workdir)
  dataset = data.load_mnist(cfg.data_source, cfg.data_dir)
  print(dataset.describe(), flush=True)
  print(f"analysing the checkpoint of epoch {epoch}", flush=True)
  history = experiment.read_metrics(os.path.join(workdir, "metrics.jsonl"), epoch)
  summary_path = os.path.join(workdir, "summary.json")
  summary = {}
  if os.path.isfile(summary_path):
    with open(summary_path) as f:
      summary = json.load(f)
  summary.update(analysis.analyze(workdir, cfg, dataset, state, eval_key, history))
  experiment.write_json(summary_path, summary)
  print(f"test per-pixel MSE {summary['test_mse']:.5f}; report: {os.path.join(workdir, 'report.html')}")
  return summary


def main(argv=None):
  parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("workdir", help="folder of a training run")
  return cli.run_guarded(lambda: analyze(parser.parse_args(argv).workdir))


if __name__ == "__main__":
  main()
