import os

import numpy as np
import pytest
import tensorflow_datasets as tfds

from aejax import data
from conftest import fake_mnist, write_idx


@pytest.mark.parametrize("gz", [False, True])
def test_idx_reader_round_trip(tmp_path, gz):
  folder = fake_mnist(str(tmp_path), n_train=30, n_test=10, gz=gz)
  ds = data.load_mnist(data_dir=folder)
  assert ds.source == f"idx:{folder}"
  assert ds.train_images.shape == (30, 784) and ds.train_images.dtype == np.uint8
  assert ds.test_labels.shape == (10,) and ds.test_labels.max() <= 9
  suffix = ".gz" if gz else ""
  raw = data.read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte" + suffix))
  np.testing.assert_array_equal(raw, ds.test_labels)


def break_file(folder, name, how):
  path = os.path.join(folder, name)
  with open(path, "rb") as f:
    raw = f.read()
  if how == "magic":
    raw = bytes([0, 0, 9, raw[3]]) + raw[4:]
  elif how == "truncate":
    raw = raw[:-7]
  with open(path, "wb") as f:
    f.write(raw)
  return path


@pytest.mark.parametrize("how,message", [("magic", "wrong magic number"), ("truncate", "truncated")])
def test_malformed_idx_is_named(mnist_dir, how, message):
  path = break_file(mnist_dir, "train-images-idx3-ubyte", how)
  with pytest.raises(data.DataError, match=message) as e:
    data.load_mnist(data_dir=mnist_dir)
  assert path in str(e.value)


def test_label_count_mismatch_and_bad_labels_are_named(mnist_dir):
  path = os.path.join(mnist_dir, "t10k-labels-idx1-ubyte")
  write_idx(path, np.zeros(5))
  with pytest.raises(data.DataError, match="5 labels for 64 images") as e:
    data.load_mnist(data_dir=mnist_dir)
  assert path in str(e.value)
  write_idx(path, np.full(64, 12))
  with pytest.raises(data.DataError, match="labels outside 0..9"):
    data.load_mnist(data_dir=mnist_dir)


def test_wrong_image_size_missing_file_and_empty_dir(tmp_path, mnist_dir):
  write_idx(os.path.join(mnist_dir, "train-images-idx3-ubyte"), np.zeros((256, 32, 32)))
  with pytest.raises(data.DataError, match="expected 28x28"):
    data.load_mnist(data_dir=mnist_dir)
  os.remove(os.path.join(mnist_dir, "train-images-idx3-ubyte"))
  with pytest.raises(data.DataError, match="train-images-idx3-ubyte: missing"):
    data.load_mnist(data_dir=mnist_dir)
  (tmp_path / "empty").mkdir()
  with pytest.raises(data.DataError, match="missing"):
    data.load_mnist(data_dir=str(tmp_path / "empty"))
  with pytest.raises(data.DataError, match="no such directory"):
    data.load_mnist(data_dir=str(tmp_path / "nowhere"))


def test_embedded_digits_split_is_balanced_disjoint_and_deterministic():
  ds = data.load_embedded()
  assert ds.train_images.shape == (4000, 784) and ds.test_images.shape == (1000, 784)
  assert np.bincount(ds.test_labels).tolist() == [100] * 10
  assert np.bincount(ds.train_labels).tolist() == [400] * 10
  # Shuffled: not sorted by label as shipped.
  assert np.mean(np.diff(ds.train_labels) != 0) > 0.5
  train_rows = {r.tobytes() for r in ds.train_images}
  assert not any(r.tobytes() in train_rows for r in ds.test_images)
  again = data.load_embedded()
  np.testing.assert_array_equal(again.test_images, ds.test_images)
  # Real digits: mostly background, with ink at 255.
  assert 0.7 < np.mean(ds.train_images == 0) < 0.9 and ds.train_images.max() == 255


def test_auto_prefers_data_dir_then_falls_back_to_embedded_without_network(mnist_dir, monkeypatch):
  assert data.load_mnist(data_dir=mnist_dir).source.startswith("idx:")
  monkeypatch.setattr(data, "tfds_prepared", lambda data_dir=None: False)
  ds = data.load_mnist()
  assert ds.source.startswith("embedded:")
  assert "TFDS mnist is not prepared" in ds.describe()


def test_auto_uses_prepared_tfds_and_says_why_when_it_cannot(monkeypatch):
  monkeypatch.setattr(data, "tfds_prepared", lambda data_dir=None: True)
  with tfds.testing.mock_data(num_examples=12):
    assert data.load_mnist().source == "tfds:mnist"

  def unreadable(data_dir=None, download=False):
    raise data.DataError("tfds mnist train: cannot be loaded (stored as TFRecords)")
  monkeypatch.setattr(data, "load_tfds", unreadable)
  ds = data.load_mnist()
  assert ds.source.startswith("embedded:")
  assert "TFDS mnist is prepared but unreadable here: tfds mnist train: cannot be loaded" in ds.describe()


def test_tfds_source_through_its_data_source():
  with tfds.testing.mock_data(num_examples=12):
    ds = data.load_tfds()
  assert ds.source == "tfds:mnist"
  assert ds.train_images.shape == (12, 784) and ds.train_images.dtype == np.uint8


def test_tfds_not_prepared_is_a_clear_error(tmp_path):
  with pytest.raises(data.DataError, match="tfds mnist train: cannot be loaded"):
    data.load_tfds(data_dir=str(tmp_path))


def test_pixels_out_of_range_are_refused():
  with pytest.raises(data.DataError, match="source x: pixel values outside the integers 0..255"):
    data.validate(np.full((2, 784), 300), [0, 1], "source x")
  with pytest.raises(data.DataError, match="pixel values outside"):
    data.validate(np.full((2, 784), 0.5), [0, 1], "source x")
