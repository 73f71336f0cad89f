"""The importance-weighted log-likelihood of a variational autoencoder (Burda et al. 2016).

  log p(x) >= L_k(x) = E log (1/k) sum_i w_i,  w_i = p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q(z|x),

with the prior p(z) = N(0, I) and the Gaussian encoder q(z|x) = N(mean, diag
exp(log_var)). L_1 is the ELBO; L_k rises with k toward log p(x), which it
reaches as k -> infinity. Everything is in nats per image, summed over the data
dimensions (every axis after the batch axis); `bits_per_dim` converts.
"""
import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from aejax import chunks, train, variants
from aejax.evaluators import Column, Evaluator
from aejax.objectives import variational

_LOG_2PI = math.log(2.0 * math.pi)


class Estimate(NamedTuple):
  """[B] per image, in nats: `log_likelihood`, the importance-weighted bound L_k
  (log of the mean of the k weights), and `elbo`, the mean of the k log-weights
  (an estimate of the ELBO from the same draws; never above `log_likelihood`)."""
  log_likelihood: jax.Array
  elbo: jax.Array


def bernoulli_log_likelihood(logits, x):
  """log p(x|z) = sum over the data dimensions of -sigmoid cross-entropy, in nats:
  logits and x [B, ...] (x in [0, 1]) -> [B]. A likelihood for binary x."""
  b = x.shape[0]
  return -jnp.sum(optax.sigmoid_binary_cross_entropy(logits.reshape(b, -1), x.reshape(b, -1)),
                  axis=-1)


def gaussian_log_likelihood(mean, x, variance):
  """log N(x; mean, variance I) in nats, over the data dimensions: [B, ...] -> [B]."""
  b = x.shape[0]
  sq = jnp.sum(jnp.square(x.reshape(b, -1) - mean.reshape(b, -1)), axis=-1)
  n = math.prod(x.shape[1:])
  return -0.5 * (sq / variance + n * (jnp.log(variance) + _LOG_2PI))


def _typed(key):
  if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
    return key
  return jax.random.wrap_key_data(key)


def _noise(key, index, shape):
  """eps ~ N(0, I) of shape [B, d] for draw `index`: from one key, or [B] keys (one per image)."""
  if key.ndim == 0:
    return jax.random.normal(jax.random.fold_in(key, index), shape)
  return jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, index), shape[1:]))(key)


def importance_log_likelihood(encode_stats, decode_log_prob, x, key, *, k, chunk=None):
  """L_k(x) and the ELBO of each image, in nats: an `Estimate` of [B] arrays.

  encode_stats: x -> (mean, log_var) of q(z|x), [B, d] each; decode_log_prob:
  (z [B, d], x) -> log p(x|z) [B]; x: [B, ...]; key: a key, or [B] keys, one per
  image (then an image's estimate does not depend on the rest of the batch).
  Draw i comes from fold_in(key, i) whatever the chunking: the k draws are taken
  `chunk` at a time (default all k) under a running logsumexp, so memory is
  O(B * chunk * data) and the result does not depend on `chunk` beyond float
  rounding. k and chunk are Python ints (static under jit).
  """
  key = _typed(key)
  chunk = min(chunk or k, k)
  n_chunks = -(-k // chunk)
  mean, log_var = encode_stats(x)
  mean, log_var = mean.astype(jnp.float32), log_var.astype(jnp.float32)
  log_det = jnp.sum(log_var, axis=-1)

  def log_weight(index):
    eps = _noise(key, index, mean.shape)
    z = mean + jnp.exp(0.5 * log_var) * eps
    log_prior = -0.5 * jnp.sum(jnp.square(z) + _LOG_2PI, axis=-1)
    log_q = -0.5 * (jnp.sum(jnp.square(eps) + _LOG_2PI, axis=-1) + log_det)
    return decode_log_prob(z, x) + log_prior - log_q

  def body(carry, c):
    lse, total = carry
    index = c * chunk + jnp.arange(chunk)
    valid = (index < k)[:, None]
    log_w = jax.vmap(log_weight)(index)
    lse = jnp.logaddexp(lse, jax.nn.logsumexp(jnp.where(valid, log_w, -jnp.inf), axis=0))
    return (lse, total + jnp.sum(jnp.where(valid, log_w, 0.0), axis=0)), None

  start = (jnp.full(mean.shape[:1], -jnp.inf), jnp.zeros(mean.shape[:1]))
  (lse, total), _ = jax.lax.scan(body, start, jnp.arange(n_chunks))
  return Estimate(lse - math.log(k), total / k)


def bits_per_dim(nll_nats, n_dims):
  """Negative log-likelihood in nats per image of n_dims values -> bits per dimension."""
  return nll_nats / (n_dims * math.log(2.0))


def _posterior_stats(state, x):
  _, sown = state.apply_fn({"params": state.params}, x, method="encode", mutable="intermediates")
  return variational.posterior(sown["intermediates"])


def _bernoulli_decoder(state, z, x):
  return bernoulli_log_likelihood(state.apply_fn({"params": state.params}, z, method="decode"), x)


@train.model_program(static_argnames=("k", "batch_size", "chunk"))
def log_likelihoods(state, pixels, key, *, k=1000, batch_size=100, chunk=100):
  """The `Estimate` ([N] each, nats per image) of a VAE train state with the
  cross-entropy objective (a `Gaussian` encoder, a decoder of logits) on [N, ...]
  pixels in [0, 1] (or uint8 images, 0..255): `importance_log_likelihood` under
  the Bernoulli likelihood, `batch_size` images at a time. Image n draws with the
  key fold_in(key, n), so the estimates do not depend on `batch_size` or `chunk`
  beyond float rounding. Memory O(batch_size * chunk * pixels)."""
  if state.objective.output != "logits":
    raise ValueError(f"the Bernoulli likelihood needs a decoder of logits (the BCE objective), "
                     f"not the {state.objective.name!r} objective")
  def one(args):
    x, index = args
    return importance_log_likelihood(
        lambda x: _posterior_stats(state, state.objective.to_model(x)),
        functools.partial(_bernoulli_decoder, state), train.as_pixels(x),
        jax.vmap(functools.partial(jax.random.fold_in, _typed(key)))(index), k=k, chunk=chunk)

  return chunks.map_in_chunks(one, (pixels, jnp.arange(pixels.shape[0])), batch_size)


def test_nll(state, pixels, key, *, k=1000, batch_size=100, chunk=100):
  """-L_k averaged over the [N, ...] pixels in [0, 1]: the test negative
  log-likelihood of a BCE-objective VAE in nats per image (`log_likelihoods`);
  `bits_per_dim(test_nll(...), prod(pixels.shape[1:]))` in bits per dimension."""
  return -jnp.mean(log_likelihoods(state, pixels, key, k=k, batch_size=batch_size,
                                   chunk=chunk).log_likelihood)


test_nll.__test__ = False


def measure(subject):
  """test_nll (nats per image) and test_nll_bits_per_dim of a VAE scored by the ELBO,
  with k = config.run.nll_samples importance samples (none with 0)."""
  k = getattr(subject.config.run, "nll_samples", 0)
  if not (variants.scored_by_elbo(subject.config) and k):
    return {}
  nll = float(test_nll(subject.state, jnp.asarray(subject.test_pixels),
                       jax.random.fold_in(subject.eval_key, 5), k=k, chunk=min(k, 100)))
  return {"test_nll": nll, "test_nll_bits_per_dim": bits_per_dim(nll, math.prod(subject.test_pixels.shape[1:])),
          "nll_samples": k}


EVALUATOR = Evaluator("likelihood", measure, order=21, columns=(
    Column("test_nll", "test negative log-likelihood", "NLL", "nats per test image (importance-weighted "
           "bound, k samples), lower is better", units="nats per image", fmt=".2f", plotted=True),
    Column("test_nll_bits_per_dim", "test negative log-likelihood", "bits/dim",
           "bits per pixel value, lower is better", units="bits per dimension", fmt=".4f"),))
