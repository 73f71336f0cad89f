"""The Gaussian encoder of a variational autoencoder, around any architecture."""
import flax.linen as nn
import jax
import jax.numpy as jnp


class Gaussian(nn.Module):
  """q(z|x) = N(mean(x), diag(exp(log_var(x)))) from any architecture `base` whose
  code has 2 * latent_dim numbers: the first half is the mean, the second the
  log-variance. The decoder is the base's.

  `encode` returns the mean, or, when the module is applied with a `sample` rng,
  the reparameterised draw mean + exp(log_var / 2) * eps, eps ~ N(0, I); it sows
  `mean` and `log_var` ([B, latent_dim] each) for the KL term. So encode,
  reconstruct and every analysis use the mean; training decodes a draw.
  """
  base: nn.Module

  @property
  def latent_dim(self):
    return self.base.latent_dim // 2

  @property
  def image_shape(self):
    """(H, W, C) of the base's images."""
    return self.base.image_shape

  @property
  def output(self):
    return self.base.output

  def encode(self, x):
    """[B, H, W, C] model-space pixels -> [B, latent_dim] float32 codes (the mean, or a draw)."""
    mean, log_var = jnp.split(self.base.encode(x).astype(jnp.float32), 2, axis=-1)
    self.sow("intermediates", "mean", mean)
    self.sow("intermediates", "log_var", log_var)
    if not self.has_rng("sample"):
      return mean
    return mean + jnp.exp(0.5 * log_var) * jax.random.normal(self.make_rng("sample"), mean.shape)

  def decode(self, z):
    """[B, latent_dim] codes -> [B, H, W, C] float32 outputs of the base's decoder."""
    return self.base.decode(z)

  def __call__(self, x):
    return self.decode(self.encode(x))
