"""Every data source, on real images that ship with installed packages, and every
kind of bad data named in one DataError."""
import gzip
import os
import zipfile

import numpy as np
import PIL.Image
import pytest
import tensorflow_datasets as tfds
from conftest import (
  fake_mnist,
  photo_tiles,
  prepare_tiles,
  small_digits,
  tiles_builder,
  write_idx,
  write_pngs,
  write_tiles_npz,
)

from aejax import data
from aejax.data import dataset, mnist, tfds as tfds_source


@pytest.mark.parametrize("gz", [False, True])
def test_idx_reader_round_trip(tmp_path, gz):
  folder = fake_mnist(str(tmp_path), n_train=30, n_test=10, gz=gz)
  ds = data.load(folder)
  assert ds.source == f"idx:{folder}" and data.load("mnist", data_dir=folder).source == ds.source
  assert ds.train_images.shape == (30, 28, 28, 1) and ds.train_images.dtype == np.uint8
  assert ds.image_shape == (28, 28, 1) and ds.class_names == tuple("0123456789")[:len(ds.class_names)]
  suffix = ".gz" if gz else ""
  raw = mnist.read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte" + suffix))
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


def test_label_count_mismatch_is_named_and_other_idx_sizes_load(mnist_dir, tmp_path):
  path = os.path.join(mnist_dir, "t10k-labels-idx1-ubyte")
  write_idx(path, np.zeros(5))
  with pytest.raises(data.DataError, match="5 labels for 64 images") as e:
    data.load_mnist(data_dir=mnist_dir)
  assert path in str(e.value)
  # Fashion-MNIST's or KMNIST's files, or any other size, in MNIST's format.
  folder = tmp_path / "other"
  folder.mkdir()
  for split, n in (("train", 12), ("t10k", 6)):
    write_idx(str(folder / f"{split}-images-idx3-ubyte"), np.full((n, 20, 12), 7))
    write_idx(str(folder / f"{split}-labels-idx1-ubyte"), np.arange(n) % 12)
  ds = data.load(str(folder))
  assert ds.image_shape == (20, 12, 1) and len(ds.class_names) == 12


def test_missing_file_and_empty_dir(tmp_path, mnist_dir):
  os.remove(os.path.join(mnist_dir, "train-images-idx3-ubyte"))
  with pytest.raises(data.DataError, match="train-images-idx3-ubyte: missing"):
    data.load_mnist(data_dir=mnist_dir)
  (tmp_path / "empty").mkdir()
  with pytest.raises(data.DataError, match="no images"):   # neither IDX files nor images
    data.load(str(tmp_path / "empty"))
  with pytest.raises(data.DataError, match="no such directory"):
    data.load_mnist(data_dir=str(tmp_path / "nowhere"))
  with pytest.raises(data.DataError, match="no such file or folder, and not a TFDS dataset name"):
    data.load(str(tmp_path / "Nowhere" / "images"))


def test_embedded_digits_split_is_balanced_disjoint_and_deterministic():
  ds = data.load("embedded")
  assert ds.train_images.shape == (4000, 28, 28, 1) and ds.test_images.shape == (1000, 28, 28, 1)
  assert np.bincount(ds.test_labels).tolist() == [100] * 10
  assert np.bincount(ds.train_labels).tolist() == [400] * 10
  # Shuffled: not sorted by label as shipped.
  assert np.mean(np.diff(ds.train_labels) != 0) > 0.5
  train_rows = {r.tobytes() for r in ds.train_images}
  assert not any(r.tobytes() in train_rows for r in ds.test_images)
  again = mnist.load_embedded()
  np.testing.assert_array_equal(again.test_images, ds.test_images)
  # Real digits: mostly background, with ink at 255.
  assert 0.7 < np.mean(ds.train_images == 0) < 0.9 and ds.train_images.max() == 255


def test_the_embedded_digits_are_read_exactly_and_a_damaged_copy_is_named(tmp_path, monkeypatch):
  """The fast CSV reader gives NumPy's loadtxt values; any damage to the file is one DataError."""
  path = mnist._embedded_path()
  table = mnist.read_integer_csv(path, columns=785)
  assert table.shape == (5000, 785)
  np.testing.assert_array_equal(table[:50], np.loadtxt(path, delimiter=",", max_rows=50))
  lines = gzip.open(path, "rb").read().split(b"\n")[:3]
  not_integer = "holds a value that is not an integer"
  outside = "pixel values outside the integers 0..255"
  damaged = {(lines[0].replace(b",0,", b",x,", 1)): not_integer, lines[0].replace(b",0,", b",,", 1): not_integer,
             lines[0].rsplit(b",", 1)[0]: "line 1 holds 784 values, expected 785",
             lines[0] + b"\n": "line 2 holds 1 values, expected 785",   # a blank line
             lines[0].replace(b",0,", b",256,", 1): outside, lines[0].replace(b",0,", b",4294967301,", 1): outside}
  bad = tmp_path / "mnist_5k.csv.gz"
  monkeypatch.setattr(mnist, "_embedded_path", lambda: str(bad))
  for first, reason in damaged.items():
    with gzip.open(bad, "wb") as f:
      f.write(b"\n".join([first, *lines[1:]]) + b"\n")
    with pytest.raises(dataset.DataError) as error:
      mnist.load_embedded()
    assert str(error.value).startswith(f"{bad}: {reason}"), str(error.value)
  for content in (b"not gzip", gzip.compress(b"0,1\n" * 1000)[:-30] + bytes(30)):   # not gzip; its data damaged
    bad.write_bytes(content)
    with pytest.raises(dataset.DataError, match="cannot be read"):
      mnist.load_embedded()


def test_validation_split_is_held_out_of_training_with_a_fixed_draw():
  ds = data.load("embedded")
  held = data.load("embedded", validation_fraction=0.1)
  assert len(held.train_images) == 3600 and len(held.validation_images) == 400
  rows = lambda a: {r.tobytes() for r in a}
  assert rows(held.train_images) | rows(held.validation_images) == rows(ds.train_images)
  assert not rows(held.train_images) & rows(held.validation_images)
  np.testing.assert_array_equal(held.test_images, ds.test_images)
  again = data.load("embedded", validation_fraction=0.1)
  np.testing.assert_array_equal(again.validation_labels, held.validation_labels)
  assert "400 more held out for validation" in held.describe()


def test_auto_prefers_data_dir_then_falls_back_to_embedded_without_network(mnist_dir, monkeypatch):
  assert data.load_mnist(data_dir=mnist_dir).source.startswith("idx:")
  monkeypatch.setattr(tfds_source, "prepared", lambda name, data_dir=None: False)
  ds = data.load_mnist()
  assert ds.source.startswith("embedded:")
  assert "TFDS mnist is not prepared" in ds.describe()


def test_auto_uses_prepared_tfds_and_says_why_when_it_cannot(monkeypatch):
  monkeypatch.setattr(tfds_source, "prepared", lambda name, data_dir=None: True)
  with tfds.testing.mock_data(num_examples=12):
    ds = data.load_mnist()
  assert ds.source == "tfds:mnist" and ds.train_images.shape == (12, 28, 28, 1)

  def unreadable(*args, **kwargs):
    raise data.DataError("tfds mnist train: cannot be loaded (stored as TFRecords)")
  monkeypatch.setattr(tfds_source, "load", unreadable)
  ds = data.load_mnist()
  assert ds.source.startswith("embedded:")
  assert "TFDS mnist is prepared but unreadable here: tfds mnist train: cannot be loaded" in ds.describe()


class Codes(tfds.core.GeneratorBasedBuilder):
  """A TFDS dataset with no image feature."""
  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
        "code": tfds.features.Tensor(shape=(3,), dtype=np.float32)}))

  def _split_generators(self, dl_manager):
    del dl_manager
    return {"train": self._generate_examples(), "test": self._generate_examples()}

  def _generate_examples(self):   # pylint: disable=arguments-differ
    for i in range(4):
      yield i, {"code": np.zeros(3, np.float32)}


class BinarizedDigits(tfds.core.GeneratorBasedBuilder):
  """Binary digits as TFDS's binarized_mnist stores them: uint8 0/1 images, no labels."""
  VERSION = tfds.core.Version("1.0.0")

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(8, 8, 1))}))

  def _split_generators(self, dl_manager):
    del dl_manager
    return {"train": self._generate_examples(0, 30), "test": self._generate_examples(30, 40)}

  def _generate_examples(self, start, stop):   # pylint: disable=arguments-differ
    for i in range(start, stop):
      yield i, {"image": PIL.Image.fromarray((small_digits()[0][i] >= 128).astype(np.uint8))}


def test_binary_images_stored_as_0_and_1_are_read_as_black_and_white(tmp_path):
  """A TFDS dataset of 0/1 pixels (binarized_mnist's storage) reads as 0/255 images, the
  same as binarising its grey source; grey images with a few pixels at 1 stay as they are."""
  folder = str(tmp_path / "tfds")
  BinarizedDigits(data_dir=folder, file_format="array_record").download_and_prepare()
  ds = data.load("binarized_digits", data_dir=folder)
  white = np.where(small_digits()[0][:40] >= 128, 255, 0)[..., None]
  pairs = lambda x: sorted(image.tobytes() for image in x)
  assert pairs(ds.train_images) == pairs(white[:30].astype(np.uint8)) and not ds.labelled
  assert pairs(ds.test_images) == pairs(white[30:].astype(np.uint8))
  grey = dataset.make("grey", (np.array([[[[1]], [[2]]]], np.uint8), None), (np.zeros((1, 2, 1, 1), np.uint8), None))
  assert grey.train_images.max() == 2


def test_a_tfds_dataset_by_name_with_split_strings_and_class_names(tmp_path):
  folder = str(tmp_path / "tfds")
  tiles_builder()   # the dataset is known to TFDS, and not prepared
  with pytest.raises(data.DataError, match="tfds tiles: not prepared in .*download_and_prepare"):
    data.load("tiles", data_dir=folder)
  prepare_tiles(folder)
  ds = data.load("tfds:tiles", data_dir=folder)
  images, labels, _ = photo_tiles((12, 10), 15)
  pairs = lambda x, y: sorted((image.tobytes(), int(label)) for image, label in zip(x, y))
  assert pairs(ds.train_images, ds.train_labels) == pairs(images[:20], labels[:20])   # PNG: lossless
  assert pairs(ds.test_images, ds.test_labels) == pairs(images[20:], labels[20:])
  assert ds.class_names == ("china", "flower") and ds.source == "tfds:tiles"
  part = data.load("tiles", data_dir=folder, train_split="train[:50%]", resize="6x5")
  assert part.train_images.shape == (10, 6, 5, 3) and part.test_images.shape == (10, 6, 5, 3)
  Codes(data_dir=folder, file_format="array_record").download_and_prepare()
  with pytest.raises(data.DataError, match="tfds codes: not an image dataset"):
    data.load("codes", data_dir=folder)


def test_npz_in_keras_convention(tmp_path):
  path = write_tiles_npz(tmp_path / "tiles.npz")
  ds = data.load(path)
  with np.load(path) as f:
    np.testing.assert_array_equal(ds.train_images, f["x_train"])
    np.testing.assert_array_equal(ds.test_labels, f["y_test"])
  assert ds.image_shape == (16, 24, 3) and ds.class_names == ("china", "flower")
  assert "16x24x3 colour, 2 classes (china, flower)" in ds.describe()
  # Grey [N, H, W] floats in [0, 1], no labels, no test split: a held-out fifth.
  digits, _ = small_digits()
  np.savez(tmp_path / "digits.npz", x_train=digits[:100] / 255.0)
  ds = data.load(str(tmp_path / "digits.npz"))
  assert ds.train_images.shape == (80, 8, 8, 1) and ds.test_images.shape == (20, 8, 8, 1)
  assert ds.train_images.dtype == np.float32 and not ds.labelled and "no labels" in ds.describe()


def test_image_folder_with_class_subfolders(tmp_path):
  images, labels, names = photo_tiles((12, 16), 10)
  write_pngs(str(tmp_path / "photos"), images, labels, names)
  ds = data.load(str(tmp_path / "photos"))
  assert ds.class_names == names and len(ds.train_images) + len(ds.test_images) == 20
  assert len(ds.test_images) == 4 and ds.image_shape == (12, 16, 3)
  for image, label in zip(ds.train_images, ds.train_labels):   # each image under its own class
    assert any(np.array_equal(image, x) for x in images[labels == label])
  # train/ and test/ splits of grey digits, with a resize.
  digits, targets = small_digits()
  names = tuple(str(d) for d in range(10))
  write_pngs(str(tmp_path / "digits" / "train"), digits[:60], targets[:60], names)
  write_pngs(str(tmp_path / "digits" / "test"), digits[60:80], targets[60:80], names)
  ds = data.load(str(tmp_path / "digits"), resize="16x16")
  assert ds.train_images.shape == (60, 16, 16, 1) and ds.test_images.shape == (20, 16, 16, 1)
  np.testing.assert_array_equal(np.sort(ds.test_labels), np.sort(targets[60:80]))


def bad_npz(tmp_path, name, **arrays):
  path = str(tmp_path / f"{name}.npz")
  np.savez(path, **arrays)
  return path


def test_every_kind_of_bad_data_is_one_named_error(tmp_path):
  x = np.zeros((6, 4, 4), np.uint8)
  y = np.arange(6) % 2
  cases = [
      (bad_npz(tmp_path, "keys", images=x), "no x_train array .*it holds images"),
      (bad_npz(tmp_path, "lengths", x_train=x, y_train=y[:5], x_test=x, y_test=y), "6 images but 5 labels"),
      (bad_npz(tmp_path, "shapes", x_train=x, y_train=y, x_test=np.zeros((6, 4, 5)), y_test=y),
       r"train images of shape \(4, 4, 1\) but test images of shape \(4, 5, 1\)"),
      (bad_npz(tmp_path, "float_labels", x_train=x, y_train=y + 0.5, x_test=x, y_test=y),
       "labels must be integers"),
      (bad_npz(tmp_path, "nan", x_train=np.full((6, 4, 4), np.nan), x_test=x / 1.0), "NaN or infinite"),
      (bad_npz(tmp_path, "float_range", x_train=x + 2.0, x_test=x / 1.0), r"outside \[0, 1\]"),
      (bad_npz(tmp_path, "int_range", x_train=x.astype(int) + 300, x_test=x), r"outside 0..255"),
      (bad_npz(tmp_path, "empty", x_train=x, x_test=np.zeros((0, 4, 4))), "test: no images"),
      (bad_npz(tmp_path, "channels", x_train=np.zeros((6, 4, 4, 2)), x_test=np.zeros((6, 4, 4, 2))),
       "C 1 .grey. or 3 .RGB."),
      (bad_npz(tmp_path, "one_split_labels", x_train=x, y_train=y, x_test=x), "y_train without the other"),
  ]
  truncated = str(tmp_path / "truncated.npz")
  with open(write_tiles_npz(tmp_path / "whole.npz"), "rb") as f:
    raw = f.read()
  with open(truncated, "wb") as f:
    f.write(raw[: len(raw) // 2])
  cases.append((truncated, "not a readable .npz file"))
  images, labels, names = photo_tiles((8, 8), 3)
  write_pngs(str(tmp_path / "broken"), images, labels, names)
  broken = os.path.join(tmp_path, "broken", "china", sorted(os.listdir(tmp_path / "broken" / "china"))[0])
  with open(broken, "wb") as f:
    f.write(b"\x89PNG not really")
  cases.append((str(tmp_path / "broken"), "china/0.*png: not a readable image"))
  write_pngs(str(tmp_path / "mixed"), images, labels, names)
  PIL.Image.fromarray(np.zeros((9, 8, 3), np.uint8)).save(tmp_path / "mixed" / "flower" / "odd.png")
  cases.append((str(tmp_path / "mixed"), "odd.png: 9x8 pixels, but .* has 8x8; give --resize"))
  jpeg = tmp_path / "jpeg" / "a"
  jpeg.mkdir(parents=True)
  PIL.Image.fromarray(images[0]).save(jpeg / "0.jpg")
  with open(jpeg / "1.jpg", "wb") as f:
    f.write(b"\xff\xd8\xff\xe0 cut short")
  cases.append((str(tmp_path / "jpeg"), "1.jpg: not a readable image"))
  for spec, message in cases:
    with pytest.raises(data.DataError, match=message) as e:
      data.load(spec)
    assert "\n" not in str(e.value), spec
  assert zipfile.is_zipfile(str(tmp_path / "whole.npz"))


def test_binary_and_sixteen_bit_images_labels_and_names_are_read_as_meant(tmp_path):
  x = np.arange(2 * 4 * 4).reshape(2, 4, 4) % 2
  for binary in (x.astype(bool), x.astype(np.uint8)):   # 0/1 as TFDS binarized_mnist stores them
    np.savez(tmp_path / "binary.npz", x_train=binary, x_test=binary)
    assert set(np.unique(data.load(str(tmp_path / "binary.npz")).train_images)) == {0, 255}
  np.savez(tmp_path / "names.npz", x_train=x * 9, y_train=[0, 1], x_test=x * 9, y_test=[1, 0],
           class_names=np.array([b"zero", b"one"]))
  assert data.load(str(tmp_path / "names.npz")).class_names == ("zero", "one")
  np.savez(tmp_path / "huge.npz", x_train=x * 9, y_train=[0, 10 ** 9], x_test=x * 9, y_test=[0, 1])
  with pytest.raises(data.DataError, match="label 1000000000; labels are class indices"):
    data.load(str(tmp_path / "huge.npz"))
  with open(tmp_path / "pickle.npz", "wb") as f:
    f.write(b"not a zip archive")
  with pytest.raises(data.DataError, match=r"pickle.npz: not a readable .npz file \(not a zip archive"):
    data.load(str(tmp_path / "pickle.npz"))
  # 16-bit grey PNGs scaled to 0..255; train/ alone gets a held-out test split; dotfiles skipped.
  folder = tmp_path / "deep" / "train" / "a"
  folder.mkdir(parents=True)
  for i in range(5):
    PIL.Image.fromarray(np.full((6, 6), 65535 * i // 4, np.uint16)).save(folder / f"{i}.png")
  (folder / "._0.png").write_bytes(b"a sidecar file, not an image")
  ds = data.load(str(tmp_path / "deep"))
  assert len(ds.train_images) == 4 and len(ds.test_images) == 1 and ds.image_shape == (6, 6, 1)
  values = sorted(int(v) for v in np.unique(np.concatenate([ds.train_images, ds.test_images])))
  assert values == [0, 64, 127, 191, 255]   # 16383 / 257 = 63.7, 32767 / 257 = 127.5 (rounded down)
  with pytest.raises(data.DataError, match="community datasets"):
    data.load("tfds:huggingface:mnist")
