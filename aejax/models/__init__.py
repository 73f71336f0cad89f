"""Encoder/decoder architectures. Each is a Flax module with `encode` ([B, 784]
model-space pixels -> [B, latent_dim] float32 codes), `decode` (codes -> [B, 784]
float32 outputs: tanh values or logits) and `__call__` (decode of encode), the
fields `widths`, `latent_dim`, `output` ("tanh" or "logits"), `dtype` (compute
dtype; parameters float32) and `activation` (hidden nonlinearity, a name in
ACTIVATIONS), and whose encoder sows each hidden activation as
`intermediates/hidden`, so that every variant (aejax.objectives) serves it.
`ARCHITECTURES` maps the `--architecture` flag to them; `Gaussian` wraps any of
them into the encoder of a variational autoencoder."""
from aejax.models.conv import ConvAutoEncoder
from aejax.models.gaussian import Gaussian
from aejax.models.mlp import ACTIVATIONS, MNIST_PIXELS, REFERENCE_WIDTHS, AutoEncoder

ARCHITECTURES = {"mlp": AutoEncoder, "conv": ConvAutoEncoder}
