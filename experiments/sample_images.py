"""Real non-MNIST image sets that need no download, written as .npz files in
Keras's convention (x_train, y_train, x_test, y_test, class_names) for --data.

  python experiments/sample_images.py --set tiles --out tiles.npz    # 32x32x3 photo tiles
  python experiments/sample_images.py --set digits --out digits.npz  # 8x8 grey digits

tiles: square tiles cut at random places from scikit-learn's two sample
photographs (china.jpg, flower.jpg, 427x640 RGB), labelled by photograph and
quadrant (8 classes: "china top left", ...). Each quadrant is cut into 64x64 cells,
a fixed fifth of them (at random places) for test tiles and the rest for training
tiles, and each tile lies inside one cell at a random offset: no test tile shares a
pixel with a training tile, and both come from all over the quadrant. digits: scikit-learn's 1,797 8x8 grey digits
(0..16 scaled to 0..255), a fixed fifth held out for testing.
"""
import os

import numpy as np

from aejax.errors import UserError
from aejax.run import cli

QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
CELL = 64   # the side of the cells that are either for training or for test tiles


def photo_tiles(side=32, n_train=4000, n_test=1000, seed=0):
  """((train images, labels), (test images, labels), class names) of `side` x `side`
  x 3 uint8 tiles, each inside one quadrant of one photograph."""
  from sklearn.datasets import load_sample_images  # pylint: disable=import-outside-toplevel
  photos = load_sample_images()
  rng = np.random.default_rng(seed)
  names = [f"{os.path.splitext(os.path.basename(f))[0]} {q}" for f in photos.filenames for q in QUADRANTS]

  h, w = photos.images[0].shape[0] // 2, photos.images[0].shape[1] // 2
  cells = [(r, c) for r in range(0, h - CELL + 1, CELL) for c in range(0, w - CELL + 1, CELL)]
  n_test_cells = max(1, round(len(cells) / 5))
  split = [rng.permutation(len(cells)) for _ in names]   # per class: test cells first

  def draw(n, test):
    labels = rng.integers(0, len(names), n)
    tiles = np.empty((n, side, side, 3), np.uint8)
    for i, label in enumerate(labels):
      photo = photos.images[label // 4]
      own = split[label][:n_test_cells] if test else split[label][n_test_cells:]
      r, c = cells[own[rng.integers(len(own))]]
      r += (label % 4 // 2) * h + rng.integers(0, CELL - side + 1)
      c += (label % 2) * w + rng.integers(0, CELL - side + 1)
      tiles[i] = photo[r:r + side, c:c + side]
    return tiles, labels
  return draw(n_train, False), draw(n_test, True), names


def small_digits(seed=0):
  """((train, labels), (test, labels), class names) of scikit-learn's 8x8 digits."""
  from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
  digits = load_digits()
  images = np.round(digits.images * 255 / 16).astype(np.uint8)
  order = np.random.default_rng(seed).permutation(len(images))
  test, train = order[: len(images) // 5], order[len(images) // 5:]
  return ((images[train], digits.target[train]), (images[test], digits.target[test]),
          [str(d) for d in range(10)])


def main(argv=None):
  parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--set", choices=("tiles", "digits"), default="tiles", help="which images")
  parser.add_argument("--out", required=True, help="the .npz file to write")
  parser.add_argument("--side", type=int, default=32, help="tiles: the side of a tile in pixels")
  parser.add_argument("--train", type=int, default=4000, help="tiles: training tiles")
  parser.add_argument("--test", type=int, default=1000, help="tiles: test tiles")

  def run():
    args = parser.parse_args(argv)
    if args.set == "tiles" and not (1 <= args.side <= CELL and args.train > 0 and args.test > 0):
      raise UserError(f"--side must be in 1..{CELL} (a tile lies inside one cell) and --train and "
                      "--test positive")
    (x_train, y_train), (x_test, y_test), names = (
        photo_tiles(args.side, args.train, args.test) if args.set == "tiles" else small_digits())
    np.savez_compressed(args.out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                        class_names=np.array(names))
    print(f"wrote {args.out}: {len(x_train)} train and {len(x_test)} test images of "
          f"{'x'.join(map(str, x_train.shape[1:]))}, {len(names)} classes", flush=True)
  return cli.run_guarded(run)


if __name__ == "__main__":
  main()
