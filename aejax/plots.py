"""Pictures of a run, written as PNG files of fixed size (figure inches x DPI)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position

DPI = 80
CLASS_COLORS = plt.get_cmap("tab10")


def _save(fig, path):
  fig.savefig(path, dpi=DPI)
  plt.close(fig)


def grid_size(n_rows, n_cols):
  """(width, height) in inches of an image grid."""
  return 0.9 * n_cols + 1.4, 0.9 * n_rows + 0.5


def image_grid(path, rows, title=None, side=28, gap=2):
  """Rows of digits as one PNG: `rows` maps a row label to [n, side*side] pixels
  in [0, 1]; every row has the same n. Drawn as one image, so it is quick."""
  labels, images = list(rows), [np.clip(np.asarray(r, np.float32), 0, 1) for r in rows.values()]
  n = images[0].shape[0]
  cell = side + gap
  canvas = np.ones((len(images) * cell - gap, n * cell - gap), np.float32)
  for r, row in enumerate(images):
    for c in range(n):
      canvas[r * cell:r * cell + side, c * cell:c * cell + side] = row[c].reshape(side, side)
  width, height = grid_size(len(images), n)
  fig = plt.figure(figsize=(width, height))
  ax = fig.add_axes((1.3 / width, 0.05 / height, 1 - 1.4 / width, 1 - 0.5 / height))
  ax.imshow(canvas, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
  ax.set_xticks([])
  ax.set_yticks([r * cell + side / 2 for r in range(len(images))], labels, fontsize=8)
  ax.tick_params(length=0)
  for spine in ax.spines.values():
    spine.set_visible(False)
  if title:
    fig.suptitle(title, fontsize=9)
  _save(fig, path)


def project_2d(codes):
  """Codes of any size -> ([N, 2] coordinates, axis names): the first two
  principal axes for more than 2 dimensions."""
  codes = np.asarray(codes, np.float64)
  if codes.shape[1] <= 2:
    return np.pad(codes, ((0, 0), (0, 2 - codes.shape[1]))), ("z1", "z2")
  centred = codes - codes.mean(0)
  _, _, vt = np.linalg.svd(centred, full_matrices=False)
  return centred @ vt[:2].T, ("principal axis 1 of z", "principal axis 2 of z")


LATENT_SIZE = (7.0, 6.0)


def latent_scatter(path, codes, labels, title):
  """The test codes coloured by digit class: 3-d for a 3-d code, 2-d otherwise
  (a PCA projection, said in the title, for codes larger than 3)."""
  fig = plt.figure(figsize=LATENT_SIZE)
  colors = CLASS_COLORS(np.asarray(labels) % 10)
  if codes.shape[1] == 3:
    ax = fig.add_subplot(projection="3d")
    ax.scatter(codes[:, 0], codes[:, 1], codes[:, 2], c=colors, s=4, depthshade=False)
    ax.set_xlabel("z1")
    ax.set_ylabel("z2")
    ax.set_zlabel("z3")
  else:
    xy, names = project_2d(codes)
    ax = fig.add_subplot()
    ax.scatter(xy[:, 0], xy[:, 1], c=colors, s=4)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    if codes.shape[1] > 3:
      title += f" (2-d PCA projection of the {codes.shape[1]}-d code)"
  handles = [plt.Line2D([], [], marker="o", ls="", color=CLASS_COLORS(c), label=str(c)) for c in range(10)]
  fig.legend(handles=handles, title="digit", loc="center right", fontsize=8)
  fig.suptitle(title, fontsize=10)
  _save(fig, path)


CURVES_SIZE = (8.0, 3.5)


def loss_curves(path, history, loss_name):
  """Train and test loss, and the test per-pixel MSE, over the epochs."""
  fig, (ax1, ax2) = plt.subplots(1, 2, figsize=CURVES_SIZE)
  fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.88, wspace=0.3)
  epochs = [r["epoch"] for r in history]
  ax1.plot(epochs, [r["train_loss"] for r in history], label="train")
  tested = [r for r in history if r.get("test_loss") is not None]
  ax1.plot([r["epoch"] for r in tested], [r["test_loss"] for r in tested], label="test")
  ax1.set_xlabel("epoch")
  ax1.set_ylabel(loss_name)
  ax1.set_yscale("log")
  ax1.legend()
  ax2.plot([r["epoch"] for r in tested], [r["test_mse"] for r in tested], color="C1")
  ax2.set_xlabel("epoch")
  ax2.set_ylabel("test per-pixel MSE, [0, 1] units")
  ax2.set_yscale("log")
  fig.suptitle("training curves", fontsize=10)
  _save(fig, path)


CURSE_SIZE = (7.0, 4.5)


def curse(path, dims, contrasts, points):
  """Relative contrast (max - min) / min of distances against the dimension, for
  uniform points (a curve) and for named data sets (labelled points)."""
  fig, ax = plt.subplots(figsize=CURSE_SIZE)
  fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.9)
  ax.loglog(dims, contrasts, "o-", label="uniform points in [0, 1]^d")
  for i, (label, (dim, value)) in enumerate(points.items()):
    ax.loglog([dim], [value], "s", ms=9, color=f"C{i + 1}", label=label)
  ax.set_xlabel("dimension d")
  ax.set_ylabel("(max - min) / min distance to a query")
  ax.legend(fontsize=8)
  fig.suptitle("distances concentrate as the dimension grows", fontsize=10)
  _save(fig, path)
