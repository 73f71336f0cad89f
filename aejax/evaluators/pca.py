"""PCA with k components: the linear baseline an autoencoder's code must beat."""
import dataclasses

import numpy as np

EXACT_BYTES = 512 * 2 ** 20   # the largest float64 copy of the data for the exact SVD


@dataclasses.dataclass(frozen=True)
class PCA:
  mean: np.ndarray        # [P]
  components: np.ndarray  # [k, P], orthonormal rows

  def encode(self, pixels):
    """[N, ...] (flattened to [N, P]) -> [N, k] coordinates on the principal axes."""
    return (np.reshape(pixels, (len(pixels), -1)) - self.mean) @ self.components.T

  def decode(self, codes):
    """[N, k] -> [N, P] reconstructions (pixels in the units fitted, not clipped)."""
    return codes @ self.components + self.mean


def fit(pixels, k, seed=0):
  """PCA of [N, ...] float data (flattened to [N, P]) with its k leading components:
  an exact float64 SVD when a float64 copy of the data takes at most EXACT_BYTES,
  else a randomized SVD (Halko et al. 2011; seeded) of the float32 data, whose
  mean and components stay float32, so that neither it nor `encode` makes a float64
  copy of the data."""
  x = np.reshape(pixels, (len(pixels), -1))
  if x.size * 8 <= EXACT_BYTES:
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    return PCA(mean, vt[:k])
  from sklearn.utils.extmath import randomized_svd  # pylint: disable=import-outside-toplevel
  mean = x.mean(axis=0, dtype=np.float64).astype(np.float32)
  _, _, vt = randomized_svd(np.asarray(x, np.float32) - mean, k, n_iter=7, random_state=seed)
  return PCA(mean, vt.astype(np.float32))
