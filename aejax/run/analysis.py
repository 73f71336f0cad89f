"""The analysis step of a run: every evaluator (aejax.evaluators) on the trained
state, then the pictures and report.html (aejax.report.pictures) that show its
figures. A training run ends with it, and experiments/analyze.py repeats it from
a checkpoint with the same result.
"""
from aejax import evaluators, stacked, variants


def summary_metrics(config, dataset, state, eval_key, test=None, shared=None, cheap_only=False):
  """(the figures of every evaluator, the Subject they measured): what a sweep
  reports for each of its models. test: the test split's `train.evaluate` if the
  caller has it; shared: figures computed once for every model of a sweep (the
  PCA baseline's), filled on first use; cheap_only: the evaluators that run with
  --no-analysis alone."""
  subject = evaluators.Subject(config, dataset, state, eval_key, test,
                               shared if shared is not None else {})
  return evaluators.measure(subject, cheap_only=cheap_only), subject


def analyze(workdir, config, dataset, state, eval_key, history, test=None, provenance=None,
            draw=True):
  """Writes the pictures and report.html into `workdir` (unless `draw` is False); returns
  the figures for summary.json. Deterministic in (config, dataset, state, eval_key).

  test: `train.evaluate(state, test_images, eval_key)` if the caller has it
  already (the final epoch's evaluation), else computed here. provenance: the
  dict of aejax.run.provenance.collect, shown in the report."""
  out, subject = summary_metrics(config, dataset, state, eval_key, test)
  if variants.pretrains(config):
    out.update(stacked.read_records(workdir))
  if draw:
    # imported here: matplotlib (half a second) is paid by the processes that draw alone
    from aejax.report import pictures  # pylint: disable=import-outside-toplevel
    pictures.draw(workdir, config, dataset, state, eval_key, subject.test_pixels, subject.test_codes,
                  history, out, provenance)
  return out
