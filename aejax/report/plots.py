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
import matplotlib.cm
import matplotlib.colors
import matplotlib.font_manager
import matplotlib.textpath
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


GRID_CELL = 0.45        # inches: the longer side of the largest image cell
GRID_TITLE_LINE = 0.17  # inches per title line
MIN_TITLED_WIDTH = 2.5  # inches: the narrowest grid with a title
COL_LABEL_CHARS = 24    # a column label's longest shown text, in characters


def as_images(images):
  """uint8 images in 0..255 or floats -> float32 [N, H, W, C] pixels in [0, 1];
  [N, H, W] gains C = 1. C is 1 (grey) or 3 (RGB)."""
  images = np.asarray(images)
  images = images / np.float32(255) if images.dtype == np.uint8 else images.astype(np.float32)
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"images of shape {images.shape}, expected [N, H, W, C] with C 1 or 3")
  return np.clip(images, 0, 1)


def shrink(images, factor):
  """[N, H, W, C] pixels -> [N, ceil(H / factor), ceil(W / factor), C]: the mean
  of each factor x factor block (edge pixels repeated to fill the last ones)."""
  images = as_images(images)
  if factor <= 1:
    return images
  n, h, w, c = images.shape
  hh, ww = -(-h // factor), -(-w // factor)
  padded = np.pad(images, ((0, 0), (0, hh * factor - h), (0, ww * factor - w), (0, 0)), mode="edge")
  return padded.reshape(n, hh, factor, ww, factor, c).mean((2, 4))


def text_width(text, size=MIN_FONT):
  """The width in inches of `text` at `size` points in the default font."""
  if not text:
    return 0.0
  prop = matplotlib.font_manager.FontProperties(size=size)
  return matplotlib.textpath.TextPath((0, 0), text, prop=prop).get_extents().width / 72


def short(text, chars=COL_LABEL_CHARS):
  """`text` cut to `chars` characters, an ellipsis marking the cut."""
  return text if len(text) <= chars else text[:chars - 1] + "\u2026"


def wrap(title, width=COLUMN_WIDTH):
  """`title` broken into lines that fit `width` inches at MIN_FONT + 0.5 points."""
  chars = int(width * 72 / (0.53 * (MIN_FONT + 0.5)))
  return "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))


def grid_gap(image_size):
  """Pixels between the images of a grid: 1/14 of the shorter side (2 for 28 x 28), at least 1."""
  return max(1, round(min(image_size[:2]) / 14))


def column_labels(col_labels, cell, left):
  """(rotation in degrees, inches below the grid) of column labels under cells
  `cell` inches wide, `left` inches from the figure's left edge: level when each
  fits beside its neighbours and inside the figure, else upright."""
  widths = [text_width(short(label)) for label in col_labels]
  level = (all((a + b) / 2 + 0.02 <= cell for a, b in zip(widths, widths[1:]))
           and widths[0] / 2 <= left + cell / 2 and widths[-1] / 2 <= cell / 2 + 0.03)
  return (0, 0.18) if level else (90, 0.08 + max(widths))


def grid_layout(row_labels, n_cols, title=None, col_labels=None, image_size=None):
  """(width, height, left, cell width, cell height, top margin, bottom margin) in
  inches of an image grid of images `image_size` (H, W) pixels (None: square),
  `left` where its images start: as wide as COLUMN_WIDTH at most, no cell side
  over GRID_CELL, the label column as wide as its longest label at 7 points;
  with a title at least MIN_TITLED_WIDTH wide (the grid centred), the title as
  `wrap` breaks it at that width."""
  h, w = image_size[:2] if image_size else (1, 1)
  gap = grid_gap((h, w)) if image_size else 0
  aspect = (h + gap) / (w + gap)
  label_width = 0.12 + 0.055 * max(len(label) for label in row_labels)
  cell = min(GRID_CELL, GRID_CELL / aspect, (COLUMN_WIDTH - label_width - 0.03) / n_cols)
  grid_width = label_width + n_cols * cell + 0.03
  width = max(grid_width, MIN_TITLED_WIDTH) if title else grid_width
  left = label_width + (width - grid_width) / 2
  title = wrap(title, width) if title else None
  top = 0.06 + (GRID_TITLE_LINE * (title.count("\n") + 1) + 0.04 if title else 0.0)
  bottom = column_labels(col_labels, cell, left)[1] if col_labels else 0.03
  return width, top + len(row_labels) * cell * aspect + bottom, left, cell, cell * aspect, top, bottom


def grid_size(row_labels, n_cols, title=None, col_labels=None, image_size=None):
  """(width, height) in inches of an image grid."""
  return grid_layout(row_labels, n_cols, title, col_labels, image_size)[:2]


@styled
def image_grid(rows, title=None, col_labels=None, gap=None):
  """Rows of images: `rows` maps a row label to [n, H, W, C] pixels in [0, 1] (or
  uint8), every row of the same shape; grey (C = 1) in a grey colormap, colour
  (C = 3) as RGB. `col_labels` (n strings, '' for none) go under the columns;
  `gap` pixels of white between images (None: `grid_gap`). Drawn as one image,
  so it is quick."""
  labels, images = list(rows), [as_images(r) for r in rows.values()]
  n, h, w, c = images[0].shape
  gap = grid_gap((h, w)) if gap is None else gap
  framed = np.pad(np.stack(images), ((0, 0), (0, 0), (0, gap), (0, gap), (0, 0)), constant_values=1.0)
  canvas = framed.transpose(0, 2, 1, 3, 4).reshape(len(images) * (h + gap), n * (w + gap), c)
  canvas = canvas[:canvas.shape[0] - gap, :canvas.shape[1] - gap]
  width, height, left, cell, _, _, bottom = grid_layout(labels, n, title, col_labels, (h, w))
  fig = plt.figure(figsize=(width, height))
  pixel = cell / (w + gap)
  ax = fig.add_axes((left / width, bottom / height, canvas.shape[1] * pixel / width,
                     canvas.shape[0] * pixel / height))
  enlarged = pixel * DPI >= 1
  ax.imshow(canvas[..., 0] if c == 1 else canvas, cmap="gray", vmin=0, vmax=1,
            interpolation="nearest" if enlarged else "antialiased", aspect="auto")
  ax.set_yticks([r * (h + gap) + h / 2 for r in range(len(images))], labels, fontsize=MIN_FONT)
  if col_labels:
    rotation = column_labels(col_labels, cell, left)[0]
    ax.set_xticks([k * (w + gap) + w / 2 for k in range(n)], [short(label) for label in col_labels],
                  fontsize=MIN_FONT, rotation=rotation)
  else:
    ax.set_xticks([])
  ax.tick_params(length=0, pad=2)
  for spine in ax.spines.values():
    spine.set_visible(False)
  if title:
    fig.suptitle(wrap(title, width), y=1 - 0.04 / height, va="top", fontsize=MIN_FONT + 0.5)
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
MAX_LEGEND = 10   # classes named in a legend; more are coloured along a colour bar
MANY_CLASSES = plt.get_cmap("turbo")
COLOR_BAR_HEIGHT = 0.08   # inches


def class_names_of(labels, class_names=None):
  """The names of classes 0..K-1: `class_names`, or each label value as text."""
  if class_names is not None and len(class_names):
    return tuple(str(name) for name in class_names)
  return tuple(str(c) for c in range(int(np.max(labels)) + 1)) if len(labels) else ()


def class_colors(n_classes):
  """[n_classes, 4] RGBA: tab10 for up to MAX_LEGEND classes, else evenly along
  turbo (its darkest ends left out), in class order."""
  if n_classes <= MAX_LEGEND:
    return CLASS_COLORS(np.arange(n_classes))
  return MANY_CLASSES(np.linspace(0.05, 0.95, n_classes))


def _legend(fig, labels, names, colors):
  """A legend of the classes present at the bottom of `fig`, in as few rows as
  fit its width; returns it and the inches from the bottom to its top."""
  handles = [plt.Line2D([], [], marker="o", ls="", ms=4, color=colors[c], label=names[c])
             for c in np.unique(labels)]
  renderer = fig.canvas.get_renderer()
  for ncol in range(len(handles), 0, -1):
    legend = fig.legend(handles=handles, title="class", ncol=ncol, handletextpad=0.1, columnspacing=0.8,
                        frameon=False, loc="lower center", bbox_to_anchor=(0.5, 0.0), borderaxespad=0.2)
    box = legend.get_window_extent(renderer)
    if box.width <= fig.bbox.width - 0.1 * fig.dpi or ncol == 1:
      return legend, box.y1 / fig.dpi
    legend.remove()


def _color_bar(fig, names, colors):
  """A horizontal colour bar of every class, at most 6 ticks named (cut to fit);
  returns it and the inches its labels take below it."""
  n, width = len(names), fig.get_figwidth()
  bar_width = min(0.8 * width, 4.5)
  cax = fig.add_axes(((width - bar_width) / 2 / width, 0.5, bar_width / width, COLOR_BAR_HEIGHT / fig.get_figheight()),
                     label="<colorbar>")
  mappable = matplotlib.cm.ScalarMappable(matplotlib.colors.BoundaryNorm(np.arange(n + 1) - 0.5, n),
                                          matplotlib.colors.ListedColormap(colors))
  bar = fig.colorbar(mappable, cax=cax, orientation="horizontal")
  ticks = np.unique(np.linspace(0, n - 1, 6).round().astype(int))
  chars = max(3, int(bar_width / (len(ticks) - 1) / text_width("x")) - 1)
  bar.set_ticks(ticks, labels=[short(names[t], chars) for t in ticks])
  bar.ax.minorticks_off()
  bar.ax.tick_params(length=2, pad=1, labelsize=MIN_FONT)
  bar.outline.set_linewidth(0.4)
  bar.set_label(f"class: {n} classes coloured in index order", fontsize=MIN_FONT, labelpad=2)
  renderer = fig.canvas.get_renderer()
  return cax, (cax.get_window_extent(renderer).y0 - cax.get_tightbbox(renderer).y0) / fig.dpi


def _make_room(fig, axes, key_top, margin=0.02):
  """Grows `fig` at the bottom, `axes` moving up with their labels, until they
  clear by `margin` inches the key that reaches `key_top` inches up from the bottom."""
  renderer = fig.canvas.get_renderer()
  lowest = min(ax.get_tightbbox(renderer).y0 for ax in axes) / fig.dpi
  extra = max(0.0, key_top + margin - lowest)
  if extra:
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + extra)
    for ax in axes:
      box = ax.get_position(original=True)
      ax.set_position((box.x0, (box.y0 * height + extra) / (height + extra), box.width,
                       box.height * height / (height + extra)))


@styled
def latent_scatter(codes, labels, title, class_names=None):
  """The test codes, coloured by class, on equal-scale axes. For a code of 3 or
  more dimensions: the 3-d view beside the 2-d projections z1-z2, z1-z3 and
  z2-z3 (of the first 3 principal axes for more than 3 dimensions, said in the
  axis names); a 2-d code as it is; a 1-d code against the class.

  labels: [N] class indices, or None (one colour, no key); class_names: class
  index -> name (None: the label values). Up to MAX_LEGEND classes get a legend
  of names; more a colour bar whose ticks name a few. The figure is LATENT_SIZES,
  taller where the key needs the room."""
  coords, names = code_axes(codes)
  dims = coords.shape[1]
  width, height = LATENT_SIZES[dims]
  fig = plt.figure(figsize=(width, height))
  if labels is None:
    colors = np.tile(CLASS_COLORS(0), (len(coords), 1))
  else:
    labels = np.asarray(labels).astype(int)
    class_names = class_names_of(labels, class_names)
    palette = class_colors(len(class_names))
    colors = palette[labels]
  size = 4.0 if len(coords) <= 2000 else 1.5
  limits = equal_limits(coords)
  if dims == 1:
    shown = class_names if labels is not None and len(class_names) <= MAX_LEGEND else ()
    left = max(0.14, (0.3 + max([text_width(n) for n in shown], default=0)) / width)
    ax = fig.add_axes((left, 0.2, 0.96 - left, 0.62))
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(coords))
    ax.scatter(coords[:, 0], jitter if labels is None else labels + jitter, c=colors, s=size, linewidths=0)
    ax.set_xlim(*limits[0])
    ax.set_xlabel(names[0])
    if labels is None:
      ax.set_yticks([])
    elif shown:
      ax.set_ylabel("class")
      ax.set_yticks(np.unique(labels), [shown[c] for c in np.unique(labels)])
    else:
      ax.set_ylabel("class index")
      ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(6, integer=True))
  elif dims == 2:
    ax = fig.add_axes((0.16, 0.2, 0.8, 0.8 * width / height * 0.84))
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
  fig.suptitle(wrap(title, fig.get_figwidth()), y=0.995, va="top", fontsize=MIN_FONT + 0.5)
  axes = list(fig.axes)
  if labels is not None and len(class_names) <= MAX_LEGEND:
    _make_room(fig, axes, _legend(fig, labels, class_names, palette)[1])
  elif labels is not None:
    bar, below = _color_bar(fig, class_names, palette)
    _make_room(fig, axes, below + 0.03 + COLOR_BAR_HEIGHT)
    box, figure_height = bar.get_position(), fig.get_figheight()
    bar.set_position((box.x0, (below + 0.03) / figure_height, box.width, COLOR_BAR_HEIGHT / figure_height))
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
  if hi / lo < 30:   # within a decade or two: label the minor ticks too (every one within a factor 4)
    shown = range(2, 10) if hi / lo < 4 else (2, 3, 5)
    ax.yaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: _log_label(v, _) if round(v / 10 ** np.floor(np.log10(v))) in shown else ""))
  else:
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
  ax.grid(alpha=0.25, lw=0.5, which="both")


def objective_label(loss):
  """The axis label of a training objective, with its unit."""
  return f"objective: {OBJECTIVE_UNITS.get(loss, loss)}"


@styled
def loss_curves(history, loss, title, pca_mse=None, pca_components=None, denoising=False,
                regularised=False):
  """Left: train and test per-pixel MSE in [0, 1] units over the epochs, of the
  same input (for a `denoising` variant the reconstruction of the corrupted input,
  with the clean test input's dashed beside it), with PCA's test MSE as a
  reference line; right: the training objective `loss`, labelled with its unit
  (train: the whole objective, with its regularisers when `regularised`; test:
  its reconstruction term)."""
  fig, (ax1, ax2) = plt.subplots(1, 2, figsize=CURVES_SIZE)
  fig.subplots_adjust(left=0.1, right=0.98, bottom=0.17, top=0.86, wspace=0.3)
  epochs = [r["epoch"] for r in history]
  test_key = "test_denoised_mse" if denoising else "test_mse"
  tested = [r for r in history if r.get(test_key) is not None]
  trained = [r for r in history if r.get("train_mse") is not None]
  which = " (corrupted input)" if denoising else ""
  ax1.plot([r["epoch"] for r in trained], [r["train_mse"] for r in trained], label="train" + which)
  ax1.plot([r["epoch"] for r in tested], [r[test_key] for r in tested], "o-" if len(tested) < 3 else "-",
           ms=3, label="test" + which)
  if denoising:
    clean = [r for r in history if r.get("test_mse") is not None]
    ax1.plot([r["epoch"] for r in clean], [r["test_mse"] for r in clean], ":", color="C2",
             label="test (clean input)")
  if pca_mse is not None:
    ax1.axhline(pca_mse, color="0.4", ls="--", lw=1,
                label=f"PCA, {pca_components} components (test)" if pca_components else "PCA (test)")
  ax1.set_ylabel("per-pixel MSE, [0, 1] units")
  ax2.plot(epochs, [r["train_loss"] for r in history],
           label="train (with the regularisers)" if regularised else "train")
  tested_loss = [r for r in history if r.get("test_loss") is not None]
  ax2.plot([r["epoch"] for r in tested_loss], [r["test_loss"] for r in tested_loss],
           "o-" if len(tested_loss) < 3 else "-", ms=3,
           label="test (reconstruction term)" if regularised else "test")
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
