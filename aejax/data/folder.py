"""A folder of images in the convention of torchvision's ImageFolder: one
subfolder per class, PNG or JPEG files inside (read with Pillow); with `train/`
and `test/` subfolders (each holding the class subfolders) those are the splits,
otherwise a held-out fraction is the test split. Images directly in the folder,
without class subfolders, are unlabelled. Grey images (every file in a grey mode)
stay grey, anything else becomes RGB; all images must share one size unless a
resize is given.

  images/train/cat/0001.png  images/train/dog/0001.png  images/test/cat/0002.png ...
"""
import os

import numpy as np

from aejax.data.dataset import DataError, hold_out, make, resized

EXTENSIONS = (".png", ".jpg", ".jpeg")
GREY_MODES = ("1", "L", "LA")
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L")


def _images_in(folder):
  return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                if f.lower().endswith(EXTENSIONS) and not f.startswith(".")
                and os.path.isfile(os.path.join(folder, f)))


def _classes(folder):
  """{class name: [files]} of a class-folder tree, or {None: [files]} without subfolders."""
  if not os.path.isdir(folder):
    raise DataError(f"{folder}: no such folder")
  subfolders = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d))
                      and not d.startswith("."))
  if not subfolders:
    files = {None: _images_in(folder)}
  else:
    files = {d: _images_in(os.path.join(folder, d)) for d in subfolders}
    files = {d: f for d, f in files.items() if f}
  if not any(files.values()):
    raise DataError(f"{folder}: no images ({', '.join(EXTENSIONS)}) in it or in its class subfolders")
  return files


def _read(path):
  from PIL import Image, UnidentifiedImageError  # pylint: disable=import-outside-toplevel
  try:
    with Image.open(path) as image:
      image.load()
      if image.mode in SIXTEEN_BIT_MODES:   # 16-bit grey: 0..65535 scaled to 0..255
        return np.round(np.asarray(image, np.float64) * 255 / 65535).astype(np.uint8), True
      if image.mode == "F":
        raise DataError(f"{path}: a floating-point image; save it as 8- or 16-bit PNG or JPEG")
      grey = image.mode in GREY_MODES
      return np.asarray(image.convert("L" if grey else "RGB")), grey
  except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as e:
    raise DataError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None


def _stack(files, size, grey):
  images, first = [], None
  for path, image in files:
    if not grey and image.ndim == 2:
      image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim == 2:
      image = image[..., None]
    if size:
      image = resized(image, size)
    if first is None:
      first = (path, image.shape)
    elif image.shape != first[1]:
      raise DataError(f"{path}: {image.shape[0]}x{image.shape[1]} pixels, but {first[0]} has "
                      f"{first[1][0]}x{first[1][1]}; give --resize HxW to bring all to one size")
    images.append(image)
  return np.stack(images)


def load(path, size=None, test_fraction=0.2):
  """The images under `path` as a Dataset; `size` (H, W) resizes every image."""
  split_dirs = {s: os.path.join(path, s) for s in ("train", "test")}
  if all(os.path.isdir(d) for d in split_dirs.values()):
    trees = {s: _classes(d) for s, d in split_dirs.items()}
  elif os.path.isdir(split_dirs["train"]):   # train/ alone: a held-out test split
    trees = {"train": _classes(split_dirs["train"])}
  else:
    trees = {"train": _classes(path)}
  labelled = None not in trees["train"]
  if any((None not in t) != labelled for t in trees.values()):
    raise DataError(f"{path}: class subfolders in one split only")
  names = sorted(trees["train"]) if labelled else []
  for split, tree in trees.items():
    unknown = sorted(set(tree) - set(names)) if labelled else []
    if unknown:
      raise DataError(f"{os.path.join(path, split)}: classes {', '.join(unknown)} not in train/")
  read = {split: [(f, *_read(f), names.index(c) if labelled else -1)
                  for c, files in tree.items() for f in files] for split, tree in trees.items()}
  grey = all(g for files in read.values() for _, _, g, _ in files)
  splits = {}
  for split, files in read.items():
    images = _stack([(f, image) for f, image, _, _ in files], size, grey)
    splits[split] = (images, np.array([c for *_, c in files]) if labelled else None)
  if "test" not in splits:
    splits["train"], splits["test"] = hold_out(*splits["train"], test_fraction,
                                                  f"{path}: no test split; --test-fraction")
  return make(f"folder:{path}", splits["train"], splits["test"], names or None,
              name=os.path.basename(os.path.normpath(path)))
