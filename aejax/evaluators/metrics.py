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


NEWTON_LIMIT = 2000   # parameters (d + 1) K of a softmax regression solved by Newton's method


def softmax_regression(x, labels, n_classes, c=1.0, iterations=100):
  """The multinomial logistic regression of [N, d] features x on [N] int labels
  with an L2 penalty on the weights (not the biases): (W [d, K], b [K]) minimising
  c * sum_n cross-entropy(softmax(x_n W + b), labels_n) + |W|^2 / 2, the objective of
  scikit-learn's LogisticRegression(C=c), in float64. The objective is convex: up to
  NEWTON_LIMIT parameters (d + 1) K, solved by Newton's method with a backtracking
  line search (a few steps suffice; memory O(((d + 1) K)^2)); beyond, by L-BFGS
  (memory O((d + 1) K)), as for a 1,000-d code."""
  x = np.asarray(x, np.float64)
  n, d = x.shape
  xb = np.concatenate([x, np.ones((n, 1))], axis=1)       # [N, d + 1]: the bias as a feature
  onehot = np.eye(n_classes)[np.asarray(labels)]          # [N, K]
  ridge = np.concatenate([np.ones(d), [1e-10]])           # the biases: only enough to be solvable
  theta = np.zeros((d + 1, n_classes))

  def objective(theta):
    logits = xb @ theta
    logits -= logits.max(1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    return -c * np.sum(onehot * log_p) + 0.5 * np.sum(ridge[:, None] * theta ** 2), np.exp(log_p)

  if (d + 1) * n_classes > NEWTON_LIMIT:
    from scipy import optimize  # pylint: disable=import-outside-toplevel

    def value_and_grad(flat):
      value, p = objective(flat.reshape(theta.shape))
      return value, (c * xb.T @ (p - onehot) + ridge[:, None] * flat.reshape(theta.shape)).reshape(-1)
    found = optimize.minimize(value_and_grad, theta.reshape(-1), jac=True, method="L-BFGS-B",
                              options={"maxiter": 50 * iterations, "gtol": 1e-9 * max(1.0, c * n),
                                       "ftol": 1e-15, "maxcor": 20})
    theta = found.x.reshape(theta.shape)
    return theta[:d], theta[d]
  value, p = objective(theta)
  for _ in range(iterations):
    grad = c * xb.T @ (p - onehot) + ridge[:, None] * theta
    if np.max(np.abs(grad)) < 1e-9 * max(1.0, c * n):
      break
    # the cross-entropy's Hessian, sum_n (xb_n xb_n^T) kron (diag p_n - p_n p_n^T), with
    # [(d + 1) K]^2 entries indexed (feature, class); in blocks of rows, as matrix products
    h = np.zeros((d + 1, n_classes, d + 1, n_classes))
    for start in range(0, n, 4096):
      xs, ps = xb[start:start + 4096], p[start:start + 4096]
      z = (xs[:, :, None] * ps[:, None, :]).reshape(len(xs), -1)
      h -= (z.T @ z).reshape(h.shape)
      for k in range(n_classes):
        h[:, k, :, k] += xs.T @ (xs * ps[:, k:k + 1])
    h = c * h.reshape((d + 1) * n_classes, -1)
    h += np.diag(np.repeat(ridge, n_classes))
    step = np.linalg.solve(h, grad.reshape(-1)).reshape(theta.shape)
    t = 1.0
    while True:
      new_value, new_p = objective(theta - t * step)
      if new_value <= value - 1e-4 * t * np.sum(grad * step) or t < 1e-10:
        break
      t /= 2
    theta, p, fallen, value = theta - t * step, new_p, value - new_value, new_value
    if fallen <= 1e-15 * max(1.0, abs(value)):
      break
  return theta[:d], theta[d]


def linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels):
  """Test accuracy of a multinomial logistic regression (`softmax_regression`, C = 1)
  fitted on standardised training codes."""
  train_codes, test_codes = np.asarray(train_codes, np.float64), np.asarray(test_codes, np.float64)
  mean, std = train_codes.mean(0), train_codes.std(0) + 1e-12
  n_classes = int(max(np.max(train_labels), np.max(test_labels))) + 1
  w, b = softmax_regression((train_codes - mean) / std, train_labels, n_classes)
  predicted = np.argmax((test_codes - mean) / std @ w + b, axis=1)
  return float(np.mean(predicted == np.asarray(test_labels)))


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
