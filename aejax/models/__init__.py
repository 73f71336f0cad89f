"""Encoder/decoder architectures for images of any size and colour. Each is a Flax
module with the fields `image_shape` ((H, W, C), default MNIST_SHAPE (28, 28, 1)),
`widths`, `latent_dim`, `output` ("tanh" or "logits"), `dtype` (compute dtype;
parameters float32) and `activation` (hidden nonlinearity, a name in
ACTIVATIONS), and the methods `encode` ([B, H, W, C] model-space pixels ->
[B, latent_dim] float32 codes), `decode` ([B, latent_dim] codes -> [B, H, W, C]
float32 outputs: tanh values or logits) and `__call__` (decode of encode); its
encoder sows each hidden activation, flattened to [B, units], as
`intermediates/hidden`, so that every variant (aejax.objectives) serves it.
`ARCHITECTURES` maps the `--architecture` flag to them: every module of this
package that declares `ARCHITECTURE = (name, class)`, so a new architecture is
one file here and nothing else. `Gaussian` wraps any of them into the encoder of
a variational autoencoder."""
import importlib
import pkgutil

from aejax.models.conv import ConvAutoEncoder
from aejax.models.gaussian import Gaussian
from aejax.models.mlp import ACTIVATIONS, MNIST_SHAPE, REFERENCE_WIDTHS, AutoEncoder


def _declared():
  """{name: class} of every module here that declares ARCHITECTURE, the reference mlp first."""
  found = {}
  for module in pkgutil.iter_modules(__path__):
    declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "ARCHITECTURE", None)
    if declared:
      found[declared[0]] = declared[1]
  return dict(sorted(found.items(), key=lambda item: (item[0] != "mlp", item[0])))


ARCHITECTURES = _declared()

__all__ = ["ACTIVATIONS", "ARCHITECTURES", "MNIST_SHAPE", "REFERENCE_WIDTHS", "AutoEncoder", "ConvAutoEncoder",
           "Gaussian"]
