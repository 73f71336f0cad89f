"""Fully connected autoencoder: encoder h(x) -> code z, decoder g(z) -> reconstruction."""
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

REFERENCE_WIDTHS = (128, 64, 12)
MNIST_PIXELS = 784


ACTIVATIONS = {"relu": nn.relu, "sigmoid": nn.sigmoid}


class AutoEncoder(nn.Module):
  """784-128-64-12-3 encoder (ReLU, linear code) and the mirrored decoder.

  `widths` are the hidden layer sizes of the encoder; the decoder uses them in
  reverse. `activation` names the hidden nonlinearity (ACTIVATIONS); the encoder
  sows each hidden activation as `intermediates/hidden`. The decoder's last layer
  is linear: `output` is "tanh" for images in [-1, 1] (the MSE objective) or
  "logits" for a sigmoid cross-entropy. `dtype` is the compute dtype; parameters
  are always float32.
  """
  widths: Sequence[int] = REFERENCE_WIDTHS
  latent_dim: int = 3
  n_pixels: int = MNIST_PIXELS
  output: str = "tanh"
  dtype: jnp.dtype = jnp.float32
  activation: str = "relu"

  def setup(self):
    dense = lambda n, name: nn.Dense(n, dtype=self.dtype, param_dtype=jnp.float32, name=name)
    self.encoder_layers = [dense(w, f"enc_{i}") for i, w in enumerate(self.widths)]
    self.code_layer = dense(self.latent_dim, "code")
    self.decoder_layers = [
        dense(w, f"dec_{i}") for i, w in enumerate(reversed(self.widths))]
    self.output_layer = dense(self.n_pixels, "out")

  def encode(self, x):
    """[B, n_pixels] model-space pixels -> [B, latent_dim] float32 codes."""
    for layer in self.encoder_layers:
      x = ACTIVATIONS[self.activation](layer(x))
      self.sow("intermediates", "hidden", x)
    return self.code_layer(x).astype(jnp.float32)

  def decode(self, z):
    """[B, latent_dim] codes -> [B, n_pixels] float32 outputs (tanh values or logits)."""
    for layer in self.decoder_layers:
      z = ACTIVATIONS[self.activation](layer(z))
    y = self.output_layer(z).astype(jnp.float32)
    return jnp.tanh(y) if self.output == "tanh" else y

  def __call__(self, x):
    return self.decode(self.encode(x))
