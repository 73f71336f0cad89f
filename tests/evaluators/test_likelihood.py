"""The importance-weighted log-likelihood against the exact marginal of
probabilistic PCA, and on a small VAE against its ELBO."""
import functools
import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from aejax import models, objectives, train
from aejax.evaluators import likelihood
from aejax.objectives import variational

N_POINTS, DATA_DIM, LATENT_DIM, NOISE_SD = 64, 8, 2, 0.3


def ppca(orthogonal, seed=0):
  """A pPCA model x = W z + mu + NOISE_SD * e, z ~ N(0, I): its parameters, 64 points
  drawn from it, their exact log p(x) in nats (float64) and the exact posterior
  p(z|x) = N(post_mean [64, 2], post_cov [2, 2])."""
  rng = np.random.default_rng(seed)
  w = rng.normal(size=(DATA_DIM, LATENT_DIM))
  if orthogonal:
    w = np.linalg.qr(w)[0] * np.array([2.0, 1.0])
  mu = rng.normal(size=DATA_DIM)
  x = (rng.normal(size=(N_POINTS, LATENT_DIM)) @ w.T + mu
       + NOISE_SD * rng.normal(size=(N_POINTS, DATA_DIM)))
  chol = np.linalg.cholesky(w @ w.T + NOISE_SD ** 2 * np.eye(DATA_DIM))
  r = np.linalg.solve(chol, (x - mu).T)
  exact = -0.5 * (np.sum(r ** 2, axis=0) + 2 * np.sum(np.log(np.diag(chol)))
                  + DATA_DIM * math.log(2 * math.pi))
  post_cov = np.linalg.inv(w.T @ w / NOISE_SD ** 2 + np.eye(LATENT_DIM))
  post_mean = (x - mu) @ w @ post_cov.T / NOISE_SD ** 2
  return w, mu, x, exact, post_mean, post_cov


def params(w, mu, q_mean, q_var, repeats=1):
  """The pPCA decoder and a fixed q(z|x) = N(q_mean, diag q_var), each point `repeats` times."""
  q_mean = np.tile(q_mean, (repeats, 1))
  q_log_var = np.broadcast_to(np.log(q_var), q_mean.shape)
  return jax.tree.map(lambda v: jnp.asarray(v, jnp.float32),
                      {"w": w, "mu": mu, "q_mean": q_mean, "q_log_var": q_log_var})


@functools.partial(jax.jit, static_argnames=("k", "chunk"))
def ppca_estimate(params, x, key, *, k, chunk):
  def decode_log_prob(z, x):
    mean = z @ params["w"].T + params["mu"]
    return likelihood.gaussian_log_likelihood(mean.reshape(x.shape), x, NOISE_SD ** 2)
  return likelihood.importance_log_likelihood(
      lambda x: (params["q_mean"], params["q_log_var"]), decode_log_prob, x, key, k=k, chunk=chunk)


def test_with_the_exact_posterior_every_weight_is_the_marginal_likelihood():
  w, mu, x, exact, post_mean, post_cov = ppca(orthogonal=True)
  assert abs(post_cov[0, 1]) < 1e-12   # orthogonal columns: the posterior is diagonal
  theta = params(w, mu, post_mean, np.diag(post_cov), repeats=16)
  points = jnp.asarray(np.tile(x, (16, 1)), jnp.float32)
  log_likelihood, elbo = ppca_estimate(theta, points, jax.random.key(0), k=10, chunk=10)
  np.testing.assert_allclose(log_likelihood, np.tile(exact, 16), atol=2e-5)
  np.testing.assert_allclose(elbo, np.tile(exact, 16), atol=2e-5)


def test_the_gaussian_likelihood_sums_over_every_data_axis():
  x = np.random.default_rng(0).normal(size=(3, 2, 2, 2)).astype(np.float32)
  mean = np.full_like(x, 0.5)
  by_hand = -0.5 * np.sum((x - 0.5) ** 2 / 0.09 + np.log(2 * np.pi * 0.09), axis=(1, 2, 3))
  np.testing.assert_allclose(likelihood.gaussian_log_likelihood(mean, x, 0.09), by_hand, rtol=1e-5)
  np.testing.assert_allclose(likelihood.gaussian_log_likelihood(mean.reshape(3, 8), x, 0.09),
                             by_hand, rtol=1e-5)


def offset_posterior(repeats):
  """The pPCA model with q(z|x) mean-field (the posterior is correlated), its mean
  1.5 posterior standard deviations off in each coordinate (chi^2(p(z|x) || q) =
  25), each point `repeats` times: (params, points [64 * repeats, 8], exact log p(x))."""
  w, mu, x, exact, post_mean, post_cov = ppca(orthogonal=False)
  q_mean = post_mean + 1.5 * np.sqrt(np.diag(post_cov))
  return (params(w, mu, q_mean, np.diag(post_cov), repeats),
          jnp.asarray(np.tile(x, (repeats, 1)), jnp.float32), np.tile(exact, repeats))


def gap(k, repeats, chunk=100):
  """L_k - log p(x) under `offset_posterior`, each point estimated `repeats` times
  independently: (mean, standard error), nats per point."""
  theta, points, exact = offset_posterior(repeats)
  estimate = ppca_estimate(theta, points, jax.random.key(k), k=k, chunk=min(k, chunk))
  g = np.asarray(estimate.log_likelihood, np.float64) - exact
  return g.mean(), g.std(ddof=1) / math.sqrt(g.size)


def test_the_bound_rises_with_k_to_the_exact_marginal_likelihood():
  converged, _ = gap(5000, 1, chunk=500)
  assert abs(converged) < 0.05

  gaps = [gap(1, 16), gap(10, 16), gap(100, 16), gap(1000, 4)]
  for mean, se in gaps:
    assert mean < 3 * se                 # a lower bound, up to Monte-Carlo noise
  means = [mean for mean, _ in gaps]
  assert means == sorted(means) and len(set(means)) == 4
  assert means[0] < -4.0                 # k matters: q is far from the posterior


def test_chunking_changes_nothing():
  theta, points, _ = offset_posterior(4)
  run = lambda chunk: ppca_estimate(theta, points, jax.random.key(1000), k=1000, chunk=chunk)
  chex.assert_trees_all_close(run(100), run(1000), rtol=1e-6, atol=1e-5)


@pytest.fixture(scope="module")
def vae():
  model = models.Gaussian(models.AutoEncoder(widths=(16,), latent_dim=4, image_shape=(4, 4, 1),
                                             output="logits"))
  return train.create_train_state(model, jax.random.key(0), optax.adam(1e-3), objective="bce")


def binary_images(p):
  return (np.random.default_rng(1).random((12, 4, 4, 1)) < p).astype(np.float32)


def test_the_vae_bound_lies_between_its_elbo_and_zero(vae):
  pixels, key = binary_images(0.3), jax.random.key(2)
  estimate = likelihood.log_likelihoods(vae, pixels, key, k=200, batch_size=5, chunk=50)
  log_likelihood, elbo = np.asarray(estimate.log_likelihood), np.asarray(estimate.elbo)
  assert log_likelihood.shape == (12,)
  assert np.all(np.isfinite(log_likelihood)) and np.all(log_likelihood < 0)
  assert np.all(log_likelihood >= elbo - 1e-4)
  # One key per image: the batching, its padding and a ragged last chunk change nothing.
  chex.assert_trees_all_close(
      likelihood.log_likelihoods(vae, pixels, key, k=200, batch_size=12, chunk=75),
      estimate, rtol=1e-5)

  # The ELBO with the analytic KL, averaged over draws, agrees with the mean log-weight.
  draws = np.array([variational.negative_elbo(vae, pixels, jax.random.key(10 + i), batch_size=12)
                    for i in range(20)])
  se = draws.std(ddof=1) / math.sqrt(draws.size)
  assert abs(draws.mean() + elbo.mean()) < 4 * se
  nll = float(likelihood.test_nll(vae, pixels, key, k=200, batch_size=5, chunk=50))
  np.testing.assert_allclose(nll, -log_likelihood.mean(), rtol=1e-6)
  assert nll < draws.mean() - 4 * se
  np.testing.assert_allclose(likelihood.bits_per_dim(nll, 16) * 16 * math.log(2), nll, rtol=1e-6)


def test_a_vae_of_zeros_codes_one_bit_per_pixel(vae):
  # Zero weights: q(z|x) is the prior and every pixel has probability 1/2,
  # so p(x) = 2^-16 exactly.
  zeros = vae.replace(params=jax.tree.map(jnp.zeros_like, vae.params))
  nll = likelihood.test_nll(zeros, binary_images(0.5), jax.random.key(0), k=200, batch_size=5,
                            chunk=50)
  np.testing.assert_allclose(likelihood.bits_per_dim(nll, 16), 1.0, rtol=1e-6)


def test_the_likelihood_of_pixels_needs_a_decoder_of_logits(vae):
  with pytest.raises(ValueError, match="logits"):
    likelihood.test_nll(vae.replace(objective=objectives.MSE), binary_images(0.5),
                        jax.random.key(0))
