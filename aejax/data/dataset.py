"""The dataset every source returns: images [N, H, W, C] that know their shape,
optional labels with class names, and where they came from.

Images are uint8 in 0..255 (pixels in [0, 1] are images / 255), or float32 pixels
already in [0, 1] when a source gave floats; C is 1 (grey) or 3 (RGB). Labels are
int32 in 0..len(class_names) - 1, or None for unlabelled data.
"""
import dataclasses
from typing import Optional

import numpy as np

from aejax.errors import UserError

CHANNELS = (1, 3)
MAX_CLASSES = 65536


class DataError(UserError):
  """Missing or malformed data; the message names the file and the problem."""


@dataclasses.dataclass(frozen=True)
class Dataset:
  """A train and a test split of images, and an optional validation split taken
  from the training data (`with_validation`)."""
  source: str                          # where it came from: "idx:DIR", "npz:FILE", "tfds:NAME", ...
  train_images: np.ndarray             # [N, H, W, C] uint8, or float32 in [0, 1]
  train_labels: Optional[np.ndarray]   # [N] int32, or None
  test_images: np.ndarray
  test_labels: Optional[np.ndarray]
  class_names: tuple = ()              # class index -> name; () without labels
  name: str = ""                       # what the data is: "mnist", "cifar10", a file's name
  why: str = ""                        # why this source was chosen, when it was not asked for
  validation_images: Optional[np.ndarray] = None
  validation_labels: Optional[np.ndarray] = None

  @property
  def image_shape(self):
    """(H, W, C)."""
    return tuple(int(n) for n in self.train_images.shape[1:])

  @property
  def labelled(self):
    return self.train_labels is not None

  def describe(self):
    """The one line a run prints about its data."""
    h, w, c = self.image_shape
    n_val = 0 if self.validation_images is None else len(self.validation_images)
    parts = [f"data: {self.source}, {len(self.train_images)} train and {len(self.test_images)} "
             f"test examples" + (f" ({n_val} more held out for validation)" if n_val else ""),
             f"{h}x{w}x{c} {'grey' if c == 1 else 'colour'}" +
             ("" if self.train_images.dtype == np.uint8 else " float32")]
    if self.labelled:
      names = ", ".join(self.class_names[:5]) + (", ..." if len(self.class_names) > 5 else "")
      parts.append(f"{len(self.class_names)} classes ({names})")
    else:
      parts.append("no labels")
    return ", ".join(parts) + (f" ({self.why})" if self.why else "")

  def with_validation(self, fraction, seed=0):
    """This dataset with round(fraction * N) training examples, drawn with a fixed
    permutation of `seed`, moved into the validation split (fraction 0: unchanged)."""
    if not fraction:
      return self
    (train_x, train_y), (val_x, val_y) = hold_out(
        self.train_images, self.train_labels, fraction, "--validation-fraction", "validation", seed)
    return dataclasses.replace(self, train_images=train_x, train_labels=train_y,
                               validation_images=val_x, validation_labels=val_y)


def images_array(images, name):
  """Checks images and returns them as [N, H, W, C]: uint8 for integers in 0..255,
  float32 for floats in [0, 1]; [N, H, W] gains C = 1."""
  try:
    images = np.asarray(images)
  except ValueError as e:   # ragged nested lists
    raise DataError(f"{name}: images of different shapes ({e})") from None
  if images.dtype == object:
    raise DataError(f"{name}: images of different shapes or of no numeric type")
  if images.ndim >= 1 and len(images) == 0:
    raise DataError(f"{name}: no images")
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4:
    raise DataError(f"{name}: images have shape {images.shape}, expected [N, H, W] or [N, H, W, C]")
  if images.shape[-1] not in CHANNELS or min(images.shape[1:3]) < 1:
    raise DataError(f"{name}: images of shape {images.shape[1:]}, expected H x W x C with C 1 "
                    "(grey) or 3 (RGB)")
  if np.issubdtype(images.dtype, np.floating):
    if not np.all(np.isfinite(images)):
      raise DataError(f"{name}: NaN or infinite pixel values")
    if images.min() < 0 or images.max() > 1:
      raise DataError(f"{name}: float pixel values outside [0, 1] (min {images.min():g}, "
                      f"max {images.max():g}); give uint8 0..255 or floats in [0, 1]")
    return images.astype(np.float32)
  if np.issubdtype(images.dtype, np.integer) or images.dtype == bool:
    if images.min() < 0 or images.max() > 255:
      raise DataError(f"{name}: integer pixel values outside 0..255 (min {images.min()}, "
                      f"max {images.max()})")
    if images.max() <= 1:   # binary images (bool, or 0/1 as binarised digits are stored)
      return (images.astype(np.uint8) * 255).astype(np.uint8)
    return images.astype(np.uint8)
  raise DataError(f"{name}: pixel values of type {images.dtype}, expected integers 0..255 or "
                  "floats in [0, 1]")


def labels_array(labels, n, name):
  """Checks labels ([N] integers >= 0, as many as images) and returns them as int32."""
  labels = np.asarray(labels)
  if labels.ndim == 2 and labels.shape[1] == 1:   # Keras's CIFAR labels are [N, 1]
    labels = labels[:, 0]
  if labels.ndim != 1:
    raise DataError(f"{name}: labels have shape {labels.shape}, expected [N]")
  if len(labels) != n:
    raise DataError(f"{name}: {n} images but {len(labels)} labels")
  if not (np.issubdtype(labels.dtype, np.integer) or
          (np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)))):
    raise DataError(f"{name}: labels must be integers, got {labels.dtype}")
  if len(labels) and labels.min() < 0:
    raise DataError(f"{name}: negative labels")
  if len(labels) and labels.max() >= MAX_CLASSES:
    raise DataError(f"{name}: label {labels.max()}; labels are class indices 0..K-1, at most "
                    f"{MAX_CLASSES:,} classes")
  return labels.astype(np.int32)


def make(source, train, test, class_names=None, name="", why=""):
  """A checked Dataset from (images, labels or None) of each split, named `source`
  in errors. Both splits must have the same image shape and dtype, and labels in
  both or neither; class names default to the label values as text."""
  splits = []
  for split, (images, labels) in (("train", train), ("test", test)):
    where = f"{source} {split}"
    images = images_array(images, where)
    splits.append((images, None if labels is None else labels_array(labels, len(images), where)))
  (train_x, train_y), (test_x, test_y) = splits
  if train_x.shape[1:] != test_x.shape[1:]:
    raise DataError(f"{source}: train images of shape {train_x.shape[1:]} but test images of "
                    f"shape {test_x.shape[1:]}")
  if train_x.dtype != test_x.dtype:
    raise DataError(f"{source}: train pixels are {train_x.dtype} but test pixels {test_x.dtype}")
  if (train_y is None) != (test_y is None):
    raise DataError(f"{source}: labels for one split only; give labels for both or neither")
  if train_y is not None:
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    class_names = tuple(str(c) for c in (class_names or range(n_classes)))
    if n_classes > len(class_names):
      raise DataError(f"{source}: label {n_classes - 1} but only {len(class_names)} class names")
  else:
    class_names = ()
  return Dataset(source, train_x, train_y, test_x, test_y, class_names, name or source, why)


def hold_out(images, labels, fraction, what, held="test", seed=0):
  """((kept images, labels), (held-out images, labels)): round(fraction * N) of the
  examples, chosen by a fixed permutation of `seed`, held out as the `held` split;
  each part keeps the examples' order. `what` names the fraction in errors."""
  n = len(images)
  n_held = int(round(fraction * n))
  if not 0 < n_held < n:
    raise DataError(f"{what} {fraction} of {n} examples leaves {n - n_held} to train on and "
                    f"{n_held} for {held}; both must be at least 1")
  order = np.random.default_rng(seed).permutation(n)
  part = lambda idx: (images[idx], None if labels is None else np.asarray(labels)[idx])
  return part(np.sort(order[n_held:])), part(np.sort(order[:n_held]))


def parse_size(text, flag="--resize"):
  """"HxW" (or one number for a square) -> (H, W); None for ""."""
  if not text:
    return None
  try:
    sides = tuple(int(s) for s in str(text).lower().split("x"))
    if len(sides) == 1:
      sides = sides * 2
    if len(sides) != 2 or min(sides) < 1:
      raise ValueError
  except ValueError:
    raise DataError(f"{flag} must be HxW (e.g. 32x32) or one side, got {text!r}") from None
  return sides


def resized(image, size):
  """A uint8 [H, W] or [H, W, C] image resized to `size` (H, W), bilinear (Pillow)."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  squeeze = image.ndim == 3 and image.shape[-1] == 1
  pil = Image.fromarray(image[..., 0] if squeeze else image)
  out = np.asarray(pil.resize((size[1], size[0]), Image.BILINEAR))
  return out[..., None] if squeeze else out
