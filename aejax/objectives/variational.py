"""The variational autoencoder (Kingma and Welling 2014; beta-VAE, Higgins et al. 2017).

The encoder is Gaussian (aejax.models.gaussian): q(z|x) = N(mu(x), diag(sigma^2(x))),
sampled by reparameterisation with the step's key; the prior is N(0, I). The
loss is the reconstruction term plus beta times `kl`. Both are per pixel: with
the cross-entropy objective and beta = 1 the loss is the negative ELBO divided by
the number of pixels P; `negative_elbo` reports it per image, in nats, summed over
the pixels as the literature does.
"""
import functools
import math

import jax
import jax.numpy as jnp
import optax

from aejax import chunks, objectives
from aejax.units import per_example


def gaussian_kl(mean, log_var):
  """KL(N(mean, diag(exp(log_var))) || N(0, I)) in nats: [B, d] -> [B]."""
  return 0.5 * jnp.sum(jnp.exp(log_var) + jnp.square(mean) - 1.0 - log_var, axis=-1)


def posterior(sown):
  """(mean, log_var) [B, d] of q(z|x), as the Gaussian encoder sowed them."""
  means, log_vars = objectives.find(sown, "mean"), objectives.find(sown, "log_var")
  if len(means) != 1 or len(log_vars) != 1:
    raise ValueError("the KL term needs a Gaussian encoder (aejax.models.Gaussian) that sows "
                     "one `mean` and one `log_var`")
  return means[0], log_vars[0]


def kl(forward):
  """KL(q(z|x~) || N(0, I)) in nats per pixel: mean over the batch of the KL of
  each code, divided by the number of pixels."""
  return jnp.mean(gaussian_kl(*posterior(forward.sown))) / math.prod(forward.pixels.shape[1:])


@functools.partial(jax.jit, static_argnames=("batch_size",))
def negative_elbo(state, pixels, key, *, batch_size=1000):
  """-ELBO of a Gaussian-encoder model with a cross-entropy decoder, in nats per
  image: the mean over `pixels` ([N, H, W, C] in [0, 1]) of the sigmoid cross-entropy
  of the decoded logits summed over every pixel value, one draw of z each, plus
  KL(q(z|x) || N(0, I)). Chunks of `batch_size` (chunks.mean_in_chunks)."""

  def one(x, k):
    variables = {"params": state.params}
    code, sown = state.apply_fn(variables, x, method="encode", rngs={"sample": k},
                                mutable="intermediates")
    logits = state.apply_fn(variables, code, method="decode")
    return (jnp.sum(per_example(optax.sigmoid_binary_cross_entropy(logits, x)), axis=-1)
            + gaussian_kl(*posterior(sown["intermediates"])))

  return chunks.mean_in_chunks(one, pixels, batch_size, key)


def prior_samples(key, n, latent_dim):
  """[n, latent_dim] draws from the prior N(0, I)."""
  return jax.random.normal(key, (n, latent_dim))
