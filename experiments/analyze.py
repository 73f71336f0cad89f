"""Re-run the analysis of a trained run from its newest checkpoint, without training.

  python experiments/analyze.py runs/ae-20261127-120000
  python experiments/analyze.py --no-pictures runs/ae-20261127-120000   # the figures alone

Rewrites the metrics in WORKDIR/summary.json (the training figures are
recomputed from metrics.jsonl; the provenance stays), the pictures and
report.html. For an unchanged run the metrics equal the training run's. With
--no-pictures the pictures, report.html and TensorBoard's images are not drawn
(those already in WORKDIR, if any, stay as an earlier analysis drew them). It
holds the workdir's lock while it works: not beside a run in the same folder.
"""
from aejax.report import progress
from aejax.run import cli, experiment, workdir as workdir_lib


def analyze(workdir, draw=True):
  experiment.read_config(workdir)   # no lock file in a folder that holds no run
  records = workdir_lib.Records(workdir)
  with records.lock():
    cfg, state, eval_key, epoch = experiment.load_run(workdir)
    summary = records.read_summary()
    if isinstance(summary.get("epochs"), int) and summary["epochs"] > epoch:
      raise workdir_lib.WorkdirError(
          f"{records.file(workdir_lib.SUMMARY_FILE)}: of epoch {summary['epochs']}, but the newest "
          f"usable checkpoint is of epoch {epoch}; train again with --resume --workdir {workdir}")
    history = experiment.read_metrics(records.file(workdir_lib.METRICS_FILE), epoch)
    workdir_lib.check_progress(records.file(progress.PROGRESS_FILE))
    dataset = experiment.load_data(cfg)
    print(dataset.describe(), flush=True)
    experiment.check_shape(cfg, dataset)
    print(f"analysing the checkpoint of epoch {epoch}", flush=True)
    summary.update(experiment.training_summary(dataset, history))
    summary.update(experiment.analyse(workdir, cfg, dataset, state, eval_key, history,
                                      provenance_record=summary.get("provenance"), draw=draw))
    records.write_summary(summary)
  print(experiment.headline(cfg, summary, workdir, drawn=draw), flush=True)
  return summary


def main(argv=None):
  parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("workdir", help="folder of a training run")
  parser.add_argument("--no-pictures", action="store_true",
                      help="compute the figures of summary.json without drawing the pictures, "
                           "report.html and TensorBoard's images")

  def parsed():
    args = parser.parse_args(argv)
    return analyze(args.workdir, draw=not args.no_pictures)
  return cli.run_guarded(parsed)


if __name__ == "__main__":
  main()
