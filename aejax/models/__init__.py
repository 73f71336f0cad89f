"""Encoder/decoder architectures. Each is a Flax module with `encode` ([B, 784]
model-space pixels -> [B, latent_dim] float32 codes), `decode` (codes -> [B, 784]
float32 outputs: tanh values or logits) and `__call__` (decode of encode), and the
fields `latent_dim`, `output` ("tanh" or "logits") and `dtype` (compute dtype;
parameters float32). `ARCHITECTURES` maps the `--architecture` flag to them."""
from aejax.models.conv import ConvAutoEncoder
from aejax.models.mlp import MNIST_PIXELS, REFERENCE_WIDTHS, AutoEncoder

ARCHITECTURES = {"mlp": AutoEncoder, "conv": ConvAutoEncoder}
