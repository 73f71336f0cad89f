"""A .npz file in the convention of Keras's datasets: `x_train`, `y_train`,
`x_test`, `y_test` (images [N, H, W] or [N, H, W, C], uint8 0..255 or floats in
[0, 1]; labels optional; without `x_test` a held-out fraction of the training
images is the test split), and optionally `class_names`, an array of strings.

  np.savez("images.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
"""
import os
import zipfile

import numpy as np

from aejax.data.dataset import DataError, hold_out, make


def load(path, test_fraction=0.2):
  if os.path.isfile(path) and not zipfile.is_zipfile(path):
    raise DataError(f"{path}: not a readable .npz file (not a zip archive of arrays as np.savez "
                    "writes, or a truncated one)")
  try:
    with np.load(path, allow_pickle=False) as f:
      arrays = {k: f[k] for k in f.files}
  except FileNotFoundError:
    raise DataError(f"{path}: no such file") from None
  except Exception as e:  # pylint: disable=broad-except  (zip, pickle and format errors alike)
    raise DataError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
  if "x_train" not in arrays:
    raise DataError(f"{path}: no x_train array (it holds {', '.join(sorted(arrays)) or 'nothing'}); "
                    "expected x_train, y_train, x_test, y_test as Keras's datasets have them")
  for key in ("y_train", "y_test"):
    if key in arrays and (key.replace("y", "x") not in arrays):
      raise DataError(f"{path}: {key} without {key.replace('y', 'x')}")
  if ("y_train" in arrays) != ("y_test" in arrays) and "x_test" in arrays:
    raise DataError(f"{path}: {'y_train' if 'y_train' in arrays else 'y_test'} without the other; "
                    "give labels for both splits or neither")
  train = (arrays["x_train"], arrays.get("y_train"))
  if "x_test" in arrays:
    test = (arrays["x_test"], arrays.get("y_test"))
  else:
    if train[1] is not None and len(train[1]) != len(train[0]):
      raise DataError(f"{path} train: {len(train[0])} images but {len(train[1])} labels")
    train, test = hold_out(*train, test_fraction, f"{path}: no test split; --test-fraction")
  names = arrays.get("class_names")
  if names is not None and (names.ndim != 1 or names.dtype.kind not in "US"):
    raise DataError(f"{path}: class_names must be a one-dimensional array of strings")
  names = None if names is None else [n.decode() if isinstance(n, bytes) else str(n) for n in names]
  return make(f"npz:{path}", train, test, names,
              name=os.path.splitext(os.path.basename(path))[0])
