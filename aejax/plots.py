"""Pictures of a run, sized for print: each figure is built at the width it is
printed (COLUMN_WIDTH or TEXT_WIDTH inches) with fonts of MIN_FONT points or
more, and `save` writes it as PNG (DPI dots per inch) and PDF.

Builders return a matplotlib Figure, so a notebook can show it; `save` writes
and closes it.
"""
import functools
import os
import textwrap

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

DPI = 200
VECTOR = "pdf"
COLUMN_WIDTH = 3.5   # inches: one column of a two-column paper
TEXT_WIDTH = 7.0     # inches: the full text width
MIN_FONT = 7         # points, at the printed size
STYLE = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "figure.titlesize": 8,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7, "legend.title_fontsize": 7,
    "axes.linewidth": 0.6, "lines.linewidth": 1.2,
}  # PDF fonts follow matplotlib's pdf.fonttype: 3 by default, 42 (TrueType) from a matplotlibrc
CLASS_COLORS = plt.get_cmap("tab10")
OBJECTIVE_UNITS = {"mse": "MSE, [-1, 1] pixel units", "bce": "cross-entropy, nats per pixel"}


def styled(build):
  """Runs a figure builder under STYLE."""
  @functools.wraps(build)
  def wrapper(*args, **kwargs):
    with plt.rc_context(STYLE):
      return build(*args, **kwargs)
  return wrapper


def vector_path(path):
  """The PDF beside a PNG path."""
  return os.path.splitext(path)[0] + "." + VECTOR


def save(fig, path):
  """Writes `fig` to `path` (PNG, DPI) and to its PDF twin; closes it."""
  with plt.rc_context(STYLE):
    fig.savefig(path, dpi=DPI)
    fig.savefig(vector_path(path))
  plt.close(fig)


GRID_CELL = 0.45        # inches: the largest digit cell
GRID_TITLE_LINE = 0.17  # inches per title line


def wrap(title, width=COLUMN_WIDTH):
  """`title` broken into lines that fit `width` inches at MIN_FONT + 0.5 points."""
  chars = int(width * 72 / (0.53 * (MIN_FONT + 0.5)))
  return "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))


def grid_layout(row_labels, n_cols, title=None, col_labels=None):
  """(width, height, label width, cell, top margin, bottom margin) in inches of
  an image grid: as wide as COLUMN_WIDTH at most, the label column as wide as
  its longest label at 7 points; `title` as `wrap` breaks it."""
  title = wrap(title) if title else None
  label_width = 0.12 + 0.055 * max(len(label) for label in row_labels)
  cell = min(GRID_CELL, (COLUMN_WIDTH - label_width - 0.03) / n_cols)
  top = 0.06 + (GRID_TITLE_LINE * (title.count("\n") + 1) + 0.04 if title else 0.0)
  bottom = 0.18 if col_labels else 0.03
  return label_width + n_cols * cell + 0.03, top + len(row_labels) * cell + bottom, label_width, cell, top, bottom


def grid_size(row_labels, n_cols, title=None, col_labels=None):
  """(width, height) in inches of an image grid."""
  return grid_layout(row_labels, n_cols, title, col_labels)[:2]


@styled
def image_grid(rows, title=None, col_labels=None, side=28, gap=2):
  """Rows of digits: `rows` maps a row label to [n, side*side] pixels in [0, 1],
  every row with the same n; `col_labels` (n strings, '' for none) go under the
  columns. Drawn as one image, so it is quick."""
  labels, images = list(rows), [np.clip(np.asarray(r, np.float32), 0, 1) for r in rows.values()]
  n = images[0].shape[0]
  step = side + gap
  canvas = np.ones((len(images) * step - gap, n * step - gap), np.float32)
  for r, row in enumerate(images):
    for c in range(n):
      canvas[r * step:r * step + side, c * step:c * step + side] = row[c].reshape(side, side)
  width, height, label_width, cell, top, bottom = grid_layout(labels, n, title, col_labels)
  fig = plt.figure(figsize=(width, height))
  ax = fig.add_axes((label_width / width, bottom / height, n * cell / width, len(images) * cell / height))
  ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
  ax.set_yticks([r * step + side / 2 for r in range(len(images))], labels, fontsize=MIN_FONT)
  if col_labels:
    ax.set_xticks([c * step + side / 2 for c in range(n)], col_labels, fontsize=MIN_FONT)
  else:
    ax.set_xticks([])
  ax.tick_params(length=0, pad=2)
  for spine in ax.spines.values():
    spine.set_visible(False)
  if title:
    fig.suptitle(wrap(title), y=1 - 0.04 / height, va="top", fontsize=MIN_FONT + 0.5)
  return fig


def code_axes(codes):
  """[N, d] codes -> ([N, min(d, 3)] coordinates to draw, their names): the code
  itself for d <= 3, else its first 3 principal axes."""
  codes = np.asarray(codes, np.float64)
  if codes.shape[1] <= 3:
    return codes, [f"z{i + 1}" for i in range(codes.shape[1])]
  centred = codes - codes.mean(0)
  _, _, vt = np.linalg.svd(centred, full_matrices=False)
  return centred @ vt[:3].T + codes.mean(0) @ vt[:3].T, ["PC1 of z", "PC2 of z", "PC3 of z"]


def equal_limits(coords, margin=0.05):
  """[N, k] -> [k, 2] axis limits that share one span (the largest range, plus
  `margin` on each side), each centred on its own axis: equal scale on every axis."""
  lo, hi = coords.min(0), coords.max(0)
  half = max(float(np.max(hi - lo)), 1e-9) * (0.5 + margin)
  centre = (lo + hi) / 2
  return np.stack([centre - half, centre + half], axis=1)


LATENT_SIZES = {1: (COLUMN_WIDTH, 2.6), 2: (COLUMN_WIDTH, 3.9), 3: (TEXT_WIDTH, 7.0)}


def _legend(fig, labels, **kwargs):
  handles = [plt.Line2D([], [], marker="o", ls="", ms=4, color=CLASS_COLORS(c % 10), label=str(c))
             for c in np.unique(labels)]
  return fig.legend(handles=handles, title="digit", ncol=len(handles), handletextpad=0.1,
                    columnspacing=0.8, frameon=False, **kwargs)


@styled
def latent_scatter(codes, labels, title):
  """The test codes coloured by digit class, on equal-scale axes. For a code of 3
  or more dimensions: the 3-d view beside the 2-d projections z1-z2, z1-z3 and
  z2-z3 (of the first 3 principal axes for more than 3 dimensions, said in the
  axis names); a 2-d code as it is; a 1-d code against the digit class."""
  coords, names = code_axes(codes)
  labels = np.asarray(labels)
  colors = CLASS_COLORS(labels % 10)
  dims = coords.shape[1]
  size = 4.0 if len(coords) <= 2000 else 1.5
  fig = plt.figure(figsize=LATENT_SIZES[dims])
  limits = equal_limits(coords)
  if dims == 1:
    ax = fig.add_axes((0.14, 0.2, 0.82, 0.62))
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(labels))
    ax.scatter(coords[:, 0], labels + jitter, c=colors, s=size, linewidths=0)
    ax.set_xlim(*limits[0])
    ax.set_xlabel(names[0])
    ax.set_ylabel("digit")
    ax.set_yticks(np.unique(labels))
  elif dims == 2:
    ax = fig.add_axes((0.16, 0.2, 0.8, 0.8 * LATENT_SIZES[2][0] / LATENT_SIZES[2][1] * 0.84))
    _projection(ax, coords, colors, size, limits, names, (0, 1))
  else:
    pairs = [None, (0, 1), (0, 2), (1, 2)]
    grid = fig.add_gridspec(2, 2, left=0.08, right=0.98, bottom=0.1, top=0.93, wspace=0.25, hspace=0.22)
    for k, pair in enumerate(pairs):
      if pair is None:
        ax = fig.add_subplot(grid[0, 0], projection="3d")
        ax.scatter(*coords.T, c=colors, s=size, depthshade=False, linewidths=0)
        for axis, (lo, hi), name in zip("xyz", limits, names):
          getattr(ax, f"set_{axis}lim")(lo, hi)
          getattr(ax, f"set_{axis}label")(name, labelpad=-4)
        ax.set_box_aspect((1, 1, 1), zoom=0.9)
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
          axis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
        ax.tick_params(pad=-2)
        ax.set_title("3-d view", pad=0)
      else:
        ax = fig.add_subplot(grid[k // 2, k % 2])
        _projection(ax, coords, colors, size, limits, names, pair)
  if dims > 3 or codes.shape[1] > 3:
    title += f"\n(first 3 principal axes of the {codes.shape[1]}-d code)"
  _legend(fig, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0))
  fig.suptitle(wrap(title, fig.get_figwidth()), y=0.995, va="top", fontsize=MIN_FONT + 0.5)
  return fig


def _projection(ax, coords, colors, size, limits, names, pair):
  i, j = pair
  ax.scatter(coords[:, i], coords[:, j], c=colors, s=size, linewidths=0)
  ax.set_xlim(*limits[i])
  ax.set_ylim(*limits[j])
  ax.set_aspect("equal")
  for axis in (ax.xaxis, ax.yaxis):
    axis.set_major_locator(matplotlib.ticker.MaxNLocator(6, steps=[1, 2, 5, 10]))
  ax.set_xlabel(names[i], labelpad=1)
  ax.set_ylabel(names[j], labelpad=1)
  ax.set_title(f"{names[i]}-{names[j]}", pad=2)
  ax.grid(alpha=0.25, lw=0.5)


CURVES_SIZE = (TEXT_WIDTH, 2.6)


def _log_label(value, _):
  return f"{value:g}"


def _epoch_axis(ax):
  """Integer epochs; a log y axis whose ticks read as plain numbers (0.05, not 5 x 10^-2)."""
  ax.set_xlabel("epoch")
  ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
  ax.set_yscale("log")
  ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_log_label))
  lo, hi = ax.get_ylim()
  if hi / lo < 30:
    ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: _log_label(v, _) if round(v / 10 ** np.floor(np.log10(v))) in (2, 3, 5) else ""))
  else:
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.grid(alpha=0.25, lw=0.5, which="both")


def objective_label(loss):
  """The axis label of a training objective, with its unit."""
  return f"objective: {OBJECTIVE_UNITS.get(loss, loss)}"


@styled
def loss_curves(history, loss, title, pca_mse=None, pca_components=None):
  """Left: train and test per-pixel MSE in [0, 1] units over the epochs, with
  PCA's test MSE as a reference line; right: the training objective `loss`
  (train and test), labelled with its unit."""
  fig, (ax1, ax2) = plt.subplots(1, 2, figsize=CURVES_SIZE)
  fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.86, wspace=0.3)
  epochs = [r["epoch"] for r in history]
  tested = [r for r in history if r.get("test_mse") is not None]
  trained = [r for r in history if r.get("train_mse") is not None]
  ax1.plot([r["epoch"] for r in trained], [r["train_mse"] for r in trained], label="train")
  ax1.plot([r["epoch"] for r in tested], [r["test_mse"] for r in tested], "o-" if len(tested) < 3 else "-",
           ms=3, label="test")
  if pca_mse is not None:
    ax1.axhline(pca_mse, color="0.4", ls="--", lw=1,
                label=f"PCA, {pca_components} components (test)" if pca_components else "PCA (test)")
  ax1.set_ylabel("per-pixel MSE, [0, 1] units")
  ax2.plot(epochs, [r["train_loss"] for r in history], label="train")
  tested_loss = [r for r in history if r.get("test_loss") is not None]
  ax2.plot([r["epoch"] for r in tested_loss], [r["test_loss"] for r in tested_loss],
           "o-" if len(tested_loss) < 3 else "-", ms=3, label="test")
  ax2.set_ylabel(objective_label(loss))
  for ax in (ax1, ax2):
    _epoch_axis(ax)
    ax.legend(frameon=False)
  fig.suptitle(wrap(title, fig.get_figwidth()), fontsize=MIN_FONT + 0.5)
  return fig


COMPARE_SIZE = (TEXT_WIDTH, 2.9)


@styled
def compare_curves(runs, pca=None, title="runs compared"):
  """Overlaid curves of several runs, per-pixel MSE in [0, 1] units: test (left)
  and train (right) over the epochs. `runs` maps a run's name to its history (the
  records of metrics.jsonl); `pca` maps a run's name to PCA's test MSE, drawn
  dashed on the left (once, in grey, when all runs share it)."""
  fig, (ax1, ax2) = plt.subplots(1, 2, figsize=COMPARE_SIZE, sharey=True)
  fig.subplots_adjust(left=0.1, right=0.98, bottom=0.27, top=0.86, wspace=0.08)
  for k, (name, history) in enumerate(runs.items()):
    for ax, key in ((ax1, "test_mse"), (ax2, "train_mse")):
      points = [(r["epoch"], r[key]) for r in history if r.get(key) is not None]
      if points:
        ax.plot(*zip(*points), color=f"C{k % 10}", marker="o" if len(points) < 3 else None, ms=3,
                label=name)
  pca = {name: value for name, value in (pca or {}).items() if value is not None}
  if pca and len({round(v, 6) for v in pca.values()}) == 1 and len(pca) == len(runs):
    ax1.axhline(next(iter(pca.values())), color="0.4", ls="--", lw=1, label="PCA (test)")
  else:
    for k, name in enumerate(runs):
      if name in pca:
        ax1.axhline(pca[name], color=f"C{k % 10}", ls="--", lw=0.8, alpha=0.7)
  ax1.set_ylabel("per-pixel MSE, [0, 1] units")
  ax1.set_title("test (dashed: PCA with as many components)" if pca else "test")
  ax2.set_title("train")
  for ax in (ax1, ax2):
    _epoch_axis(ax)
  handles, names = ax1.get_legend_handles_labels()
  fig.legend(handles, names, loc="lower center", ncol=min(len(names), 3), frameon=False)
  fig.suptitle(wrap(title, fig.get_figwidth()), fontsize=MIN_FONT + 0.5)
  return fig


CURSE_SIZE = (COLUMN_WIDTH, 2.8)


@styled
def curse(dims, contrasts, points):
  """Relative contrast (max - min) / min of distances against the dimension, for
  uniform points (a curve) and for named data sets (labelled points)."""
  fig, ax = plt.subplots(figsize=CURSE_SIZE)
  fig.subplots_adjust(left=0.17, right=0.97, bottom=0.15, top=0.9)
  ax.loglog(dims, contrasts, "o-", ms=3, label="uniform points in [0, 1]^d")
  for i, (label, (dim, value)) in enumerate(points.items()):
    ax.loglog([dim], [value], "s", ms=5, color=f"C{i + 1}", label=label)
  ax.set_xlabel("dimension d")
  ax.set_ylabel("(max - min) / min distance to a query")
  ax.legend(frameon=False)
  ax.grid(alpha=0.25, lw=0.5)
  fig.suptitle("distances concentrate as the dimension grows")
  return fig
