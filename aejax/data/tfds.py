"""Any TensorFlow Datasets image dataset by name (`mnist`, `fashion_mnist`,
`cifar10`, `emnist/letters`, `celeb_a` with a resize, ...), read from its
prepared files through `tfds.data_source`, without TensorFlow; TFDS split strings
(`train[:90%]`) choose the examples. The first image feature is the image, the
`label` class label (else the first class label, if any) the label.

Nothing here waits on the network: a dataset that is not prepared ends in one
line saying how to prepare it on a machine with one.
"""
import logging

import numpy as np

from aejax.data.dataset import DataError, make, resized


def _quiet_absl():
  logger = logging.getLogger("absl")
  level = logger.level
  logger.setLevel(logging.ERROR)
  return lambda: logger.setLevel(level)


def _offline():
  """TFDS as this module uses it: never asks Google Cloud Storage for metadata (older
  TFDS versions look a dataset's info up there when it is not prepared)."""
  from tensorflow_datasets.core.utils import gcs_utils  # pylint: disable=import-outside-toplevel
  gcs_utils._is_gcs_disabled = True   # pylint: disable=protected-access


def _builder(name, data_dir):
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  _offline()
  if ":" in name.split("/")[0]:
    raise DataError(f"tfds {name}: community datasets (NAMESPACE:NAME) are not read here; "
                    "prepare the dataset and give its folder")
  try:
    return tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError:
    raise DataError(f"{name}: no such file or folder, nor a TFDS dataset of that name") from None
  except Exception as e:  # pylint: disable=broad-except  (TFDS raises many kinds)
    raise DataError(f"tfds {name}: cannot be opened ({type(e).__name__}: "
                    f"{str(e).splitlines()[0] if str(e) else ''})") from None


def prepared(name, data_dir=None):
  """Whether TFDS `name` is prepared in `data_dir` (looks at the disk only)."""
  restore = _quiet_absl()
  try:
    return _builder(name, data_dir).is_prepared()
  except Exception:  # pylint: disable=broad-except  (no or broken TFDS: not prepared)
    return False
  finally:
    restore()


def how_to_prepare(name):
  return (f"prepare it on a machine with a network: pip install tensorflow, then python -c "
          f"\"import tensorflow_datasets as tfds; tfds.builder('{name}').download_and_prepare("
          f"file_format='array_record')\", and copy ~/tensorflow_datasets (or give its folder as "
          f"--data-dir)")


def _features(builder, name):
  """(image feature key, label feature key or None, class names)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  features = builder.info.features
  items = list(features.items()) if hasattr(features, "items") else []
  images = [k for k, f in items if isinstance(f, tfds.features.Image)]
  if not images:
    raise DataError(f"tfds {name}: not an image dataset (its features: "
                    f"{', '.join(k for k, _ in items) or type(features).__name__})")
  labels = [k for k, f in items if isinstance(f, tfds.features.ClassLabel)]
  label = "label" if "label" in labels else (labels[0] if labels else None)
  return images[0], label, tuple(features[label].names) if label else ()


def load(name, train_split="train", test_split="test", data_dir=None, size=None, download=False):
  """TFDS `name` as a Dataset; `size` (H, W) resizes every image; with `download`,
  prepares it first if it is not on disk (needs the network)."""
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  restore = _quiet_absl()
  try:
    builder = _builder(name, data_dir)
    if download and not builder.is_prepared():
      try:
        builder.download_and_prepare(file_format="array_record")
      except Exception as e:  # pylint: disable=broad-except
        raise DataError(f"tfds {name}: cannot be prepared ({type(e).__name__}: {e})") from None
    image_key, label_key, class_names = _features(builder, name)
    splits = []
    for split in (train_split, test_split):
      try:
        source = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
        images, labels = [], []
        for i in range(len(source)):   # one decoded record at a time: full-size images are large
          record = source[i]
          image = np.asarray(record[image_key])
          images.append(resized(image, size) if size else image)
          labels.append(record[label_key] if label_key else None)
      except Exception as e:  # pylint: disable=broad-except  (TFDS raises many kinds)
        if not builder.is_prepared():
          raise DataError(f"tfds {name}: not prepared in {builder.data_dir}; "
                          + how_to_prepare(name)) from None
        hint = ("; stored as TFRecords, which need TensorFlow: pip install tensorflow, or prepare "
                "it again with file_format='array_record'") if "array_record" in str(e).lower() else ""
        raise DataError(f"tfds {name} {split}: cannot be loaded ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''}){hint}") from None
      if len({image.shape for image in images}) > 1:
        raise DataError(f"tfds {name} {split}: images of several sizes; give --resize HxW")
      splits.append((np.stack(images) if images else np.zeros((0,)),
                     np.array(labels) if label_key else None))
  finally:
    restore()
  return make(f"tfds:{name}", *splits, class_names=class_names or None, name=name)
