"""Compare training runs: one table of their results with the settings that differ,
and their curves overlaid.

  python experiments/compare.py runs/ae-20261127-120000 runs/dae-20261127-121500

Prints the table as markdown and writes compare.md, compare.json, compare.html
(one self-contained page) and compare_curves.png / .pdf into --out (default: a
new folder runs/compare-<date>-<time>). A run that has not finished (no
summary.json) shows its curves and no results.
"""
import base64
import html
import json
import os

from aejax import evaluators
from aejax.config import AUGMENTATION_RANGES, as_floats
from aejax.errors import UserError
from aejax.report import plots
from aejax.run import cli, experiment

METRICS = [  # (summary key, column, unit): the columns the evaluators declare, and the speed
    *((c.key, c.short, c.unit) for c in evaluators.columns()),
    ("samples_per_s", "samples/s", "training throughput, median over epochs"),
]
# What never changes a result: the folder, the flags of one invocation, the resumptions (exact).
BOOKKEEPING = ("workdir", *experiment.ACTIONS, "resumptions")


def _read_json(path, what):
  try:
    with open(path) as f:
      value = json.load(f)
  except ValueError as e:
    raise UserError(f"{path}: not valid JSON ({e}); is this {what}?") from None
  if not isinstance(value, dict):
    raise UserError(f"{path}: not a JSON object; is this {what}?")
  return value


def read_run(workdir):
  """{"workdir", "config", "summary", "history"} of a run folder; UserError
  (exit 2) for a folder that holds no run or damaged records."""
  path = os.path.join(workdir, "config.json")
  if not os.path.isfile(path):
    raise UserError(f"{workdir}: not a run folder (no config.json)")
  config = _read_json(path, "a run's config")
  defaults = experiment.CONFIGS.get(config.get("experiment"))
  if defaults is not None:
    for name in ("corruption", "noise"):  # constants of a plain AE's objective, not saved
      config.setdefault(name, getattr(defaults().objective, name))
  if config.get("augmentation", "none") == "none":   # the ranges of an augmentation not applied
    config.update({name: None for name in AUGMENTATION_RANGES})
  if defaults is not None:   # settings added after the run was written: what that version did
    added = {n for group in defaults.ADDED_LATER for n in group}
    settings = defaults.settings()
    config.update({name: s.default for name, s in settings.items() if name in added and name not in config})
    for name, s in settings.items():   # a sweep's lists: JSON lists, or text in older folders
      if s.metadata.get("listed") and config.get(name) is not None:
        try:
          config[name] = list(as_floats(config[name], name))
        except UserError:
          pass   # shown as it is
  summary_path = os.path.join(workdir, "summary.json")
  summary = _read_json(summary_path, "a run's summary") if os.path.isfile(summary_path) else {}
  try:
    history = experiment.read_metrics(os.path.join(workdir, "metrics.jsonl"))
  except (ValueError, KeyError, TypeError) as e:
    raise UserError(f"{os.path.join(workdir, 'metrics.jsonl')}: damaged ({e})") from None
  return {"workdir": workdir, "config": config, "summary": summary, "history": history}


def names(workdirs):
  """Short unique names: the folder's name, or the path as given where two share one."""
  base = [os.path.basename(os.path.normpath(w)) for w in workdirs]
  return [b if base.count(b) == 1 else os.path.normpath(w) for b, w in zip(base, workdirs)]


def _cell(value):
  if value is None:
    return "-"
  if isinstance(value, float):
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
  if isinstance(value, (list, tuple)):   # a sweep's list of a setting; empty: the variant's default
    return ",".join(_cell(v) for v in value) or "-"
  return str(value)


def compare(runs, run_names):
  """The comparison as a JSON-ready dict: for each run its name, folder, the
  settings that differ between runs, its metrics and the epochs it recorded; the
  settings all runs share."""
  keys = sorted({k for r in runs for k in r["config"]} - set(BOOKKEEPING))
  differing = [k for k in keys if len({json.dumps(r["config"].get(k)) for r in runs}) > 1]
  shared = {k: runs[0]["config"].get(k) for k in keys if k not in differing}
  metrics = [m for m in METRICS if any(m[0] in r["summary"] for r in runs)]
  return {
      "differing": differing, "shared": shared,
      "metrics": [{"key": k, "column": c, "unit": u} for k, c, u in metrics],
      "runs": [{"name": n, "workdir": r["workdir"],
                "config": {k: r["config"].get(k) for k in differing},
                "metrics": {k: r["summary"].get(k) for k, _, _ in metrics},
                "epochs_recorded": len(r["history"]), "finished": bool(r["summary"])}
               for n, r in zip(run_names, runs)],
  }


def table_rows(result):
  """The table as a header and rows of strings."""
  header = ["run"] + result["differing"] + [m["column"] for m in result["metrics"]]
  rows = [[r["name"] + ("" if r["finished"] else " (unfinished)")]
          + [_cell(r["config"][k]) for k in result["differing"]]
          + [_cell(r["metrics"][m["key"]]) for m in result["metrics"]] for r in result["runs"]]
  return header, rows


def markdown(result):
  header, rows = table_rows(result)
  lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
  lines += ["| " + " | ".join(row) + " |" for row in rows]
  lines.append("")
  lines += [f"- {m['column']}: {m['unit']}" for m in result["metrics"]]
  if result["shared"]:
    lines.append("- same in every run: " + ", ".join(f"{k} = {_cell(v)}" for k, v in result["shared"].items()))
  return "\n".join(lines) + "\n"


def page(result, curves_png):
  esc = html.escape
  header, rows = table_rows(result)
  table = ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
           + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
           + "</table>")
  notes = "".join(f"<li>{esc(m['column'])}: {esc(m['unit'])}</li>" for m in result["metrics"])
  shared = "".join(f"<tr><td>{esc(k)}</td><td>{esc(_cell(v))}</td></tr>" for k, v in result["shared"].items())
  image = base64.b64encode(curves_png).decode("ascii")
  return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{len(result['runs'])} runs compared</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}} td,th{{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}}
td:first-child,th:first-child{{text-align:left}} img{{max-width:100%}}</style></head><body>
<h1>{len(result['runs'])} runs compared</h1>
<h2>Results, and the settings that differ</h2>{table}<ul>{notes}</ul>
<h2>Curves</h2><img alt="compare_curves.png" src="data:image/png;base64,{image}">
<h2>Settings every run shares</h2><table>{shared}</table>
</body></html>
"""


def run(args):
  runs = [read_run(w) for w in args.runs]
  run_names = names(args.runs)
  if args.labels is not None:
    run_names = [label.strip() for label in args.labels.split(",")]
    if len(run_names) != len(runs) or len(set(run_names)) != len(runs) or not all(run_names):
      raise UserError(f"--labels must name each of the {len(runs)} runs once, separated by commas; "
                      f"got {args.labels!r}")
  out = args.out or experiment.new_workdir("compare")
  if os.path.isfile(os.path.join(out, "config.json")):
    raise UserError(f"--out {out}: holds a training run; choose another folder")
  result = compare(runs, run_names)
  os.makedirs(out, exist_ok=True)
  curves = os.path.join(out, "compare_curves.png")
  plots.save(plots.compare_curves({n: r["history"] for n, r in zip(run_names, runs)},
                                  {n: r["summary"].get("pca_test_mse") for n, r in zip(run_names, runs)},
                                  title=f"{len(runs)} runs compared"), curves)
  text = markdown(result)
  with open(os.path.join(out, "compare.md"), "w") as f:
    f.write(text)
  experiment.write_json(os.path.join(out, "compare.json"), result)
  with open(curves, "rb") as f:
    with open(os.path.join(out, "compare.html"), "w") as g:
      g.write(page(result, f.read()))
  print(text + f"\nwritten: {out}/compare.md, compare.json, compare.html, compare_curves.png", flush=True)
  return result


def main(argv=None):
  parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("runs", nargs="+", help="folders of training runs")
  parser.add_argument("--out", help="folder for the comparison (default: a new runs/compare-<date>-<time>)")
  parser.add_argument("--labels", help="names of the runs in the tables and the legend, comma-separated, "
                      "one per run in order (default: their folders' names)")
  return cli.run_guarded(lambda: run(parser.parse_args(argv)))


if __name__ == "__main__":
  main()
