"""Fully connected autoencoder: encoder h(x) -> code z, decoder g(z) -> reconstruction."""
import math
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

REFERENCE_WIDTHS = (128, 64, 12)
MNIST_SHAPE = (28, 28, 1)


ACTIVATIONS = {"relu": nn.relu, "sigmoid": nn.sigmoid}


def check_images(x, image_shape, name):
  """Raises a ValueError unless x is [B, *image_shape] (H, W, C)."""
  if tuple(x.shape[1:]) != tuple(image_shape):
    raise ValueError(f"{name}: input of shape {tuple(x.shape)}, expected [B, "
                     f"{', '.join(map(str, image_shape))}] (its image_shape)")


class AutoEncoder(nn.Module):
  """P-128-64-12-3 encoder (ReLU, linear code) and the mirrored decoder, for
  images of `image_shape` (H, W, C), P = H W C pixel values (784 for MNIST).

  The encoder flattens each [H, W, C] image to its P values; the decoder's last
  layer has P units, reshaped to [H, W, C]. `widths` are the hidden layer sizes
  of the encoder; the decoder uses them in reverse. `activation` names the hidden
  nonlinearity (ACTIVATIONS); the encoder sows each hidden activation as
  `intermediates/hidden`. The decoder's last layer is linear: `output` is "tanh"
  for images in [-1, 1] (the MSE objective) or "logits" for a sigmoid
  cross-entropy. `dtype` is the compute dtype; parameters are always float32.
  """
  widths: Sequence[int] = REFERENCE_WIDTHS
  latent_dim: int = 3
  image_shape: Sequence[int] = MNIST_SHAPE
  output: str = "tanh"
  dtype: jnp.dtype = jnp.float32
  activation: str = "relu"

  def setup(self):
    dense = lambda n, name: nn.Dense(n, dtype=self.dtype, param_dtype=jnp.float32, name=name)
    self.encoder_layers = [dense(w, f"enc_{i}") for i, w in enumerate(self.widths)]
    self.code_layer = dense(self.latent_dim, "code")
    self.decoder_layers = [
        dense(w, f"dec_{i}") for i, w in enumerate(reversed(self.widths))]
    self.output_layer = dense(math.prod(self.image_shape), "out")

  def encode(self, x):
    """[B, H, W, C] model-space pixels -> [B, latent_dim] float32 codes."""
    check_images(x, self.image_shape, type(self).__name__)
    x = x.reshape(x.shape[0], -1)
    for layer in self.encoder_layers:
      x = ACTIVATIONS[self.activation](layer(x))
      self.sow("intermediates", "hidden", x)
    return self.code_layer(x).astype(jnp.float32)

  def decode(self, z):
    """[B, latent_dim] codes -> [B, H, W, C] float32 outputs (tanh values or logits)."""
    for layer in self.decoder_layers:
      z = ACTIVATIONS[self.activation](layer(z))
    y = self.output_layer(z).astype(jnp.float32)
    return (jnp.tanh(y) if self.output == "tanh" else y).reshape(z.shape[0], *self.image_shape)

  def __call__(self, x):
    return self.decode(self.encode(x))


ARCHITECTURE = ("mlp", AutoEncoder)   # the --architecture name (aejax.models finds it here)
