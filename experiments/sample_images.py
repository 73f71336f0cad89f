"""Real non-MNIST image sets that need no download, written as .npz files in
Keras's convention (x_train, y_train, x_test, y_test, class_names) for --data.

  python experiments/sample_images.py --set tiles --out tiles.npz    # 32x32x3 photo tiles
  python experiments/sample_images.py --set digits --out digits.npz  # 8x8 grey digits

tiles: square tiles cut at random places from scikit-learn's two sample
photographs (china.jpg, flower.jpg, 427x640 RGB), labelled by photograph and
quadrant (8 classes: "china top left", ...); in each quadrant the training tiles
lie in its left three quarters and the test tiles in its right quarter, so no test
tile shares a pixel with a training tile. digits: scikit-learn's 1,797 8x8 grey digits
(0..16 scaled to 0..255), a fixed fifth held out for testing.
"""
import argparse
import os

import numpy as np

from aejax import cli
from aejax.errors import UserError

QUADRANTS = ("top left", "top right", "bottom left", "bottom right")


def photo_tiles(side=32, n_train=4000, n_test=1000, seed=0):
  """((train images, labels), (test images, labels), class names) of `side` x `side`
  x 3 uint8 tiles, each inside one quadrant of one photograph."""
  from sklearn.datasets import load_sample_images  # pylint: disable=import-outside-toplevel
  photos = load_sample_images()
  rng = np.random.default_rng(seed)
  names = [f"{os.path.splitext(os.path.basename(f))[0]} {q}" for f in photos.filenames for q in QUADRANTS]

  def draw(n, test):
    labels = rng.integers(0, len(names), n)
    tiles = np.empty((n, side, side, 3), np.uint8)
    for i, label in enumerate(labels):
      photo = photos.images[label // 4]
      h, w = photo.shape[0] // 2, photo.shape[1] // 2
      top, left = (label % 4 // 2) * h, (label % 2) * w
      lo, hi = (3 * w // 4, w) if test else (0, 3 * w // 4)   # columns of the quadrant to use
      r, c = rng.integers(0, h - side + 1), rng.integers(lo, hi - side + 1)
      tiles[i] = photo[top + r: top + r + side, left + c: left + c + side]
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
    if args.set == "tiles" and not (1 <= args.side <= 80 and args.train > 0 and args.test > 0):
      raise UserError("--side must be in 1..80 (a test tile fits in a quadrant's last quarter) "
                      "and --train and --test positive")
    (x_train, y_train), (x_test, y_test), names = (
        photo_tiles(args.side, args.train, args.test) if args.set == "tiles" else small_digits())
    np.savez_compressed(args.out, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                        class_names=np.array(names))
    print(f"wrote {args.out}: {len(x_train)} train and {len(x_test)} test images of "
          f"{'x'.join(map(str, x_train.shape[1:]))}, {len(names)} classes", flush=True)
  return cli.run_guarded(run)


if __name__ == "__main__":
  main()
