"""What a sweep writes beside its checkpoints: sweep.json (the axes, a row per
model with every summary figure of a single run, the aggregate training
samples/s), sweep.csv (the rows' numbers), a plot per headline figure against
the swept axis (mean and standard deviation over seeds) and all of them in
sweep.png, and sweep.html.
Reconstruction errors are per-pixel MSE in [0, 1] pixel units.
"""
import csv
import html
import itertools
import os

import numpy as np

from aejax import evaluators

SWEEP_FILE = "sweep.json"
CSV_FILE = "sweep.csv"
HTML_FILE = "sweep.html"
# The figures drawn against the swept axis: the evaluators' plotted columns.
HEADLINE = {c.key: c for c in evaluators.columns() if c.plotted}
AXIS_LABELS = {"noise": "noise level", "lr": "learning rate", "weight_decay": "weight decay",
               "rotation": "largest rotation (degrees)", "shift": "largest shift (pixels)",
               "scale": "largest change of size", "flip": "mirror probability",
               "code_l1": "weight of the code's L1 norm", "sparsity": "weight of the KL sparsity",
               "rho": "target mean activation", "contraction": "contraction weight λ", "beta": "β"}


def swept_axis(axes):
  """The axis drawn along x: the first setting with several values (else `noise`)."""
  return next((name for name, values in axes.items() if name != "seed" and len(values) > 1), "noise")


def series(result, figure):
  """{other settings (tuple of (name, value)): [(x, mean, std, n)]} of `figure`
  over the seeds, x the value of the swept axis."""
  axes = result["axes"]
  x_name = swept_axis(axes)
  others = [name for name in axes if name not in ("seed", x_name) and len(axes[name]) > 1]
  out = {}
  for combo in itertools.product(*(axes[name] for name in others)):
    key = tuple(zip(others, combo))
    points = []
    for x in axes[x_name]:
      values = [r[figure] for r in result["rows"] if r[x_name] == x and r.get(figure) is not None
                and all(r[name] == value for name, value in key)]
      if values:
        points.append((x, float(np.mean(values)), float(np.std(values)), len(values)))
    out[key] = points
  return out


def plot(path, result, figures):
  """One panel per figure of `figures` against the swept axis: the mean over
  seeds with error bars of one standard deviation, a line per other setting.
  (matplotlib is imported here: a sweep with --no-pictures, and --help, start without it.)"""
  from matplotlib import ticker  # pylint: disable=import-outside-toplevel

  from aejax.report import plots  # pylint: disable=import-outside-toplevel  (it selects Agg before pyplot)
  plt = plots.plt
  x_name = swept_axis(result["axes"])
  fig, axs = plt.subplots(1, len(figures), figsize=(3.6 * len(figures), 3.0), squeeze=False)
  for ax, figure in zip(axs[0], figures):
    for key, points in series(result, figure).items():
      if not points:
        continue
      x, mean, std, _ = map(np.array, zip(*points))
      label = ", ".join(f"{AXIS_LABELS.get(k, k)} {v:g}" for k, v in key) or None
      ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=label)
    if x_name in ("lr", "weight_decay") and min(result["axes"][x_name]) > 0:
      ax.set_xscale("log")
    ax.set_xticks(sorted(result["axes"][x_name]))   # the swept values, not a dense overlapping scale
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.tick_params(axis="x", labelrotation=45 if len(result["axes"][x_name]) > 4 else 0)
    ax.set_xlabel(AXIS_LABELS.get(x_name, x_name))
    ax.set_title(f"{HEADLINE[figure].label} ({HEADLINE[figure].units})", fontsize=8)
    ax.grid(alpha=0.3)
    if any(key for key in series(result, figure)):
      ax.legend(fontsize=plots.MIN_FONT)
  n_seeds = len(result["axes"]["seed"])
  fig.suptitle(f"mean and std over {n_seeds} seed{'s' if n_seeds > 1 else ''}, "
               f"{result['epochs']} epochs", fontsize=9)
  fig.tight_layout()
  plots.save(fig, path)


def scalar_columns(rows):
  """The names of the rows' number (and string) fields, in first-seen order."""
  names = []
  for row in rows:
    names += [k for k, v in row.items() if not isinstance(v, (list, dict)) and k not in names]
  return names


def write_csv(path, rows):
  columns = scalar_columns(rows)
  with open(path + ".tmp", "w", newline="") as f:
    writer = csv.DictWriter(f, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
  os.replace(path + ".tmp", path)


def spread(mean, std, fmt):
  """'0.055913 &plusmn; 0.000035': a mean and its standard deviation to the same
  decimal places, at least those of `fmt` (a '.Nf' spec) and enough for two
  significant digits of the deviation."""
  places = int(fmt[1:-1]) if fmt.endswith("f") else 4
  if std > 0:
    places = max(places, 1 - int(np.floor(np.log10(std))))
  return f"{mean:.{places}f} &plusmn; {std:.{places}f}"


def measured(result):
  """The figures of HEADLINE that the sweep's rows hold."""
  return [f for f in HEADLINE if any(r.get(f) is not None for r in result["rows"])]


def write_html(path, config, result, pictures):
  """sweep.html: the command's settings, the pictures, and the table of mean +- std."""
  x_name = swept_axis(result["axes"])
  figures = measured(result)
  head = "".join(f'<th title="{html.escape(HEADLINE[f].unit)}">{html.escape(HEADLINE[f].short)}</th>'
                 for f in figures)
  body = []
  for figure_points in zip(*(
      [(key, p) for key, points in series(result, f).items() for p in points] for f in figures)):
    key, (x, _, _, n) = figure_points[0]
    setting = ", ".join([f"{x_name} {x:g}"] + [f"{k} {v:g}" for k, v in key])
    cells = "".join(f"<td>{spread(mean, std, HEADLINE[f].fmt)}</td>"
                    for f, (_, (_, mean, std, _)) in zip(figures, figure_points))
    body.append(f"<tr><td>{html.escape(setting)}</td><td>{n}</td>{cells}</tr>")
  images = "".join(f'<img src="{p}" alt="{html.escape(p)}">' for p in pictures)
  axes = ", ".join(f"{k}: {', '.join(f'{v:g}' for v in vs)}" for k, vs in result["axes"].items())
  page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>sweep</title>
<style>body{{font-family:sans-serif;margin:1.5em}} td,th{{padding:2px 8px;text-align:right}}
img{{max-width:100%}}</style></head><body>
<h1>Sweep of {len(result['rows'])} models</h1>
<p>{html.escape(axes)}; {result['epochs']} epochs on {html.escape(result['data_source'])};
{html.escape(result.get("variant_name", ""))}; widths {html.escape(config.model.widths)}, code
{config.model.latent_dim}-d; trained at once: {result['samples_per_s']:.0f} training samples/s for all
models together. Mean &plusmn; standard deviation over the seeds; MSE per pixel in [0, 1] units.
Every model's figures: <a href="{SWEEP_FILE}">{SWEEP_FILE}</a>, <a href="{CSV_FILE}">{CSV_FILE}</a>.</p>
<table><tr><th>setting</th><th>seeds</th>{head}</tr>
{''.join(body)}
</table>
{images}
</body></html>
"""
  with open(path, "w", encoding="utf-8") as f:
    f.write(page)


def write(workdir, config, result, draw=True):
  """sweep.csv, sweep_<figure>.png for each headline figure, sweep.png (all of
  them side by side), sweep.html (sweep.json is the run's: aejax.run.sweep);
  without the pictures unless `draw`."""
  write_csv(os.path.join(workdir, CSV_FILE), result["rows"])
  pictures = []
  if draw:
    figures = measured(result)
    plot(os.path.join(workdir, "sweep.png"), result, figures)
    for figure in figures:
      pictures.append(f"sweep_{figure}.png")
      plot(os.path.join(workdir, pictures[-1]), result, [figure])
  write_html(os.path.join(workdir, HTML_FILE), config, result, pictures)


def chosen_by(rows, own):
  """The figure that picks a sweep's best row: the variant's own figure (`own`, a
  summary key: aejax.variants.own_figure), of the validation split when the sweep
  held one out (--validation-fraction) and the variant has it there."""
  validation = "validation_" + own.removeprefix("test_")
  return validation if validation in rows[0] else own


def best_rows(result):
  """[(words naming a group of rows, its best row)] by `chosen_by`: one group of
  all rows, or, for a denoising sweep over several noise levels, a group per level
  (a lower level is always easier to undo, so levels are not ranked together)."""
  rows, axes, own = result["rows"], result["axes"], result["own_figure"]
  key = chosen_by(rows, own)
  groups = [("", rows)]
  if own == "denoised_mse" and len(axes.get("noise", ())) > 1:
    groups = [(f"at noise {level:g}: ", [r for r in rows if r["noise"] == level]) for level in axes["noise"]]
  return [(words, min(group, key=lambda r: r[key])) for words, group in groups]


def headline(result, workdir):
  """The last line a sweep prints: the best row (of each noise level of a
  denoising sweep) by `chosen_by`, and its test figure."""
  rows, own = result["rows"], result["own_figure"]
  key = chosen_by(rows, own)
  column = HEADLINE[own]
  label = column.label if key == own else "validation " + column.label.replace("test ", "")
  parts = []
  for words, best in best_rows(result):
    settings = ", ".join(f"{k} {best[k]:g}" for k in result["axes"] if not (words and k == "noise"))
    chosen = f"{words}lowest {label} {best[key]:.5f} ({column.units}) at {settings}"
    parts.append(chosen + (f" (test {best[own]:.5f})" if key != own else ""))
  return (f"{len(rows)} models, {result['samples_per_s']:.0f} training samples/s together; "
          f"{'; '.join(parts)}; report: {os.path.join(workdir, HTML_FILE)}")
