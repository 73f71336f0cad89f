"""What the learned code says about the data manifold: neighbourhoods, linear
separability, and whether neighbourhoods survive the map from pixels to codes.

All functions take numpy arrays: codes [N, d], pixels [N, P], labels [N] ints.
"""
import numpy as np

N_NEIGHBOURHOOD = 2000   # test points for trustworthiness and continuity (`subset`)
NEIGHBOURS = 5           # k of trustworthiness and continuity


def squared_distances(a, b):
  """[N, d], [M, d] -> [N, M] squared Euclidean distances (float64)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  d = np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
  return np.maximum(d, 0.0)


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, k=5, chunk=2048):
  """Fraction of test points whose k nearest training codes (Euclidean) vote for
  their label; a tied vote goes to the smallest label."""
  train_labels = np.asarray(train_labels)
  n_classes = int(max(train_labels.max(), np.max(test_labels))) + 1
  hits = 0
  for start in range(0, len(test_codes), chunk):
    d = squared_distances(test_codes[start:start + chunk], train_codes)
    nearest = np.argpartition(d, k - 1, axis=1)[:, :k]
    votes = np.zeros((len(d), n_classes), np.int64)
    np.add.at(votes, (np.arange(len(d))[:, None], train_labels[nearest]), 1)
    hits += np.sum(votes.argmax(1) == test_labels[start:start + chunk])
  return float(hits / len(test_codes))


def linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels, seed=0):
  """Test accuracy of a multinomial logistic regression fitted on standardised training codes."""
  from sklearn.linear_model import LogisticRegression  # pylint: disable=import-outside-toplevel
  mean, std = train_codes.mean(0), train_codes.std(0) + 1e-12
  probe = LogisticRegression(max_iter=2000, random_state=seed)
  probe.fit((train_codes - mean) / std, train_labels)
  return float(probe.score((test_codes - mean) / std, test_labels))


def _ranks(x):
  """[N, N] ranks: ranks[i, j] is 1 for the nearest neighbour j of i, N - 1 for the farthest."""
  d = squared_distances(x, x)
  np.fill_diagonal(d, np.inf)
  order = np.argsort(d, axis=1, kind="stable")
  ranks = np.empty_like(order)
  np.put_along_axis(ranks, order, np.arange(1, len(x) + 1)[None, :], axis=1)
  return ranks, order


def trustworthiness(x, z, k=NEIGHBOURS):
  """How far the k nearest neighbours in the embedding z lie from each point in
  the original space x: 1 when every one of them is among its k nearest there
  (Venna and Kaski; as sklearn.manifold.trustworthiness)."""
  n = len(x)
  if not k < n / 2:
    raise ValueError(f"k={k} must be below n/2={n / 2}")
  rank_x, _ = _ranks(x)
  _, order_z = _ranks(z)
  r = np.take_along_axis(rank_x, order_z[:, :k], axis=1)
  penalty = np.sum(np.maximum(r - k, 0))
  return float(1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty)


def continuity(x, z, k=NEIGHBOURS):
  """Trustworthiness with the roles swapped: whether the original neighbours of
  each point stay among its nearest in the embedding."""
  return trustworthiness(z, x, k)


def subset(n, size=2000, seed=0):
  """A fixed, seeded choice of min(size, n) indices, sorted."""
  return np.sort(np.random.default_rng(seed).permutation(n)[:size])
