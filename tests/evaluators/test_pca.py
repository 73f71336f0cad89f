"""The PCA baseline against scikit-learn's, an independent implementation."""
import numpy as np
import sklearn.decomposition

from aejax.evaluators import pca


def test_pca_matches_sklearn():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 40)) * np.linspace(3, 0.1, 6)[:6].sum() \
      + rng.normal(size=40) + 0.05 * rng.normal(size=(300, 40))
  for k in (1, 3, 5):
    ours, theirs = pca.fit(x, k), sklearn.decomposition.PCA(k, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.mean, theirs.mean_, atol=1e-12)
    signs = np.sign(np.sum(ours.components * theirs.components_, axis=1))   # axes agree up to sign
    np.testing.assert_allclose(ours.components * signs[:, None], theirs.components_, atol=1e-8)
    np.testing.assert_allclose(ours.encode(x) * signs, theirs.transform(x), atol=1e-8)
    np.testing.assert_allclose(ours.decode(ours.encode(x)), theirs.inverse_transform(theirs.transform(x)),
                               atol=1e-8)
    np.testing.assert_allclose(ours.components @ ours.components.T, np.eye(k), atol=1e-12)
