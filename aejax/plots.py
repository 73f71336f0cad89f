"""Pictures of a run, written as PNG files."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position


def image_grid(path, rows, title=None, side=28):
  """Writes rows of digits as one PNG: `rows` maps a row label to [n, side*side]
  pixels in [0, 1]; every row has the same n."""
  labels, images = list(rows), [np.clip(np.asarray(r), 0, 1) for r in rows.values()]
  n = images[0].shape[0]
  fig, axes = plt.subplots(len(images), n, figsize=(0.9 * n + 1.2, 0.95 * len(images) + 0.4),
                           squeeze=False)
  for r, (label, row) in enumerate(zip(labels, images)):
    for c in range(n):
      ax = axes[r, c]
      ax.imshow(row[c].reshape(side, side), cmap="gray", vmin=0, vmax=1)
      ax.set_xticks([])
      ax.set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
  if title:
    fig.suptitle(title, fontsize=9)
  fig.savefig(path, dpi=80, bbox_inches="tight")
  plt.close(fig)
