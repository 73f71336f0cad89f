"""PCA with k components: the linear baseline an autoencoder's code must beat."""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class PCA:
  mean: np.ndarray        # [P]
  components: np.ndarray  # [k, P], orthonormal rows

  def encode(self, pixels):
    """[N, P] -> [N, k] coordinates on the principal axes."""
    return (pixels - self.mean) @ self.components.T

  def decode(self, codes):
    """[N, k] -> [N, P] reconstructions (pixels in the units fitted, not clipped)."""
    return codes @ self.components + self.mean


def fit(pixels, k):
  """PCA of [N, P] float data, with its k leading components (float64 SVD)."""
  x = np.asarray(pixels, np.float64)
  mean = x.mean(axis=0)
  _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
  return PCA(mean, vt[:k])
