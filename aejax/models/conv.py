"""Convolutional autoencoder: strided convolutions down to a small grid (7x7 for
MNIST), a dense code, and strided transposed convolutions back to the image's
H x W x C (`ConvAutoEncoder`, which pads and crops sides that are no multiple of the
product of its strides).

The convolutions are matrix products over shifted views of the image (im2col),
not `lax.conv`: XLA's CPU backend runs `lax.conv` and its gradients 10 to 20 times
slower inside the fused epoch's `lax.scan` than a matrix product of the same
FLOPs, and 2 to 4 times slower even outside it. A transposed convolution's
gradients are written out (`_conv_transpose_bwd`): it is the adjoint of a strided
convolution, so they are products with the patches of its output's gradient,
without the zero blocks and shifted sums of JAX's own gradient (reverse mode
only; `lax_conv=True` for forward-mode derivatives). `StridedConv` has
the parameters, outputs and gradients of Flax's `nn.Conv` / `nn.ConvTranspose`
with "SAME" padding (to float rounding; tests/models/test_conv.py compares them).
"""
import functools
import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.linen.dtypes import promote_dtype
from jax import lax

from aejax.models.mlp import ACTIVATIONS, MNIST_SHAPE, check_images


def same_padding(size, kernel_size, stride):
  """(low, high) zeros that lax's "SAME" padding adds to a side of `size` pixels."""
  total = max((-(-size // stride) - 1) * stride + kernel_size - size, 0)
  return total // 2, total - total // 2


def patches(x, k, stride):
  """x [B, H, W, C] -> [B, ceil(H/s), ceil(W/s), k*k*C]: the k*k views of x (zero
  padded as "SAME" pads it) with stride s, concatenated along channels, tap (i, j)
  at channels (i k + j) C to (i k + j + 1) C."""
  (top, bottom), (left, right) = (same_padding(n, k, stride) for n in x.shape[1:3])
  h, w = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
  x = jnp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
  return jnp.concatenate([x[:, i:i + stride * (h - 1) + 1:stride, j:j + stride * (w - 1) + 1:stride]
                          for i in range(k) for j in range(k)], axis=-1)


def strided_conv(x, kernel, stride):
  """x [B, H, W, C], kernel [k, k, C, O] -> [B, ceil(H/s), ceil(W/s), O]: the
  "SAME" convolution of stride s, as one product of x's patches with the kernel."""
  k, _, c, o = kernel.shape
  return patches(x, k, stride) @ kernel.reshape(k * k * c, o)


def _shift(x, dy, dx):
  """x[:, p - dy, q - dx] with zeros outside x: [B, H, W, C] -> [B, H, W, C]."""
  h, w = x.shape[1:3]
  x = jnp.pad(x, ((0, 0), (max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0)), (0, 0)))
  return x[:, max(-dy, 0):max(-dy, 0) + h, max(-dx, 0):max(-dx, 0) + w]


def conv_transpose_forward(z, kernel, stride):
  """`strided_conv_transpose`'s value (JAX differentiates it in both modes),
  computed phase by phase.

  Output pixel s p + r (r, the phase, in 0..s-1) receives input pixel p - d through
  the flipped kernel's tap i = s d + r + lo. Each phase is computed at input
  resolution, and the phases interleave (depth to space). Two equal ways, the
  one with the smaller intermediate product chosen: the products of each tap
  (z times all k*k taps, then per phase the sum of its shifted taps), or the
  shifted inputs (each shift of z concatenated, times a block matrix holding, for
  each phase, its taps).
  """
  k, _, c, o = kernel.shape
  b, h, w, _ = z.shape
  lo = same_padding(stride * h, k, stride)[0]
  kernel = jnp.flip(kernel, (0, 1))
  taps = {(r, (i - r - lo) // stride): i for r in range(stride) for i in range(k)
          if (i - r - lo) % stride == 0}
  shifts = sorted({d for _, d in taps})
  phases = [(ry, rx) for ry in range(stride) for rx in range(stride)]
  if len(shifts) ** 2 * c <= k * k * o:
    views = jnp.concatenate([_shift(z, dy, dx) for dy in shifts for dx in shifts], axis=-1)
    zero = jnp.zeros((c, o), kernel.dtype)
    blocks = jnp.concatenate([
        jnp.concatenate([kernel[taps[ry, dy], taps[rx, dx]]
                         if (ry, dy) in taps and (rx, dx) in taps else zero
                         for ry, rx in phases], axis=-1)
        for dy in shifts for dx in shifts], axis=0)
    y = views @ blocks
  else:
    products = (z @ kernel.transpose(2, 0, 1, 3).reshape(c, k * k * o)).reshape(b, h, w, k, k, o)
    def phase(ry, rx):
      terms = [_shift(products[:, :, :, taps[ry, dy], taps[rx, dx]], dy, dx)
               for dy in shifts for dx in shifts if (ry, dy) in taps and (rx, dx) in taps]
      return sum(terms[1:], terms[0]) if terms else jnp.zeros((b, h, w, o), products.dtype)
    y = jnp.concatenate([phase(ry, rx) for ry, rx in phases], axis=-1)
  y = y.reshape(b, h, w, stride, stride, o).transpose(0, 1, 3, 2, 4, 5)
  return y.reshape(b, stride * h, stride * w, o)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def strided_conv_transpose(z, kernel, stride):
  """z [B, h, w, C], kernel [k, k, C, O] -> [B, s h, s w, O]: the "SAME" transposed
  convolution of stride s (`lax.conv_transpose`, Flax's `nn.ConvTranspose`).

  Computed by `conv_transpose_forward`; its gradients are products with the
  patches of the output's gradient (`_conv_transpose_bwd`), for reverse-mode
  differentiation (`jax.grad`, `vjp`) only: forward mode (`jax.jvp`, `jacfwd`)
  raises a TypeError; `lax_conv=True` models support both.
  """
  return conv_transpose_forward(z, kernel, stride)


def _conv_transpose_fwd(z, kernel, stride):
  return conv_transpose_forward(z, kernel, stride), (z, kernel)


def _conv_transpose_bwd(stride, residuals, g):
  """The gradients of the transposed convolution, as one strided convolution.

  The transposed convolution with `kernel` is the adjoint (transpose) of the
  "SAME" strided convolution with `adjoint`, the kernel flipped in space with
  its channels swapped (tests/models/test_conv.py checks it against Flax's
  `nn.ConvTranspose`). So the input's gradient is that
  strided convolution of g, and the kernel's gradient comes from the same
  patches of g: two products with g's patches [B h w, k*k*O], where JAX's own
  gradient of the forward takes a product with its zero blocks and a sum of
  shifted slices. The conv autoencoder's training step runs 1.15 to 1.25 times
  faster on CPU (README, "Speed and scale").
  """
  z, kernel = residuals
  k, _, c, o = kernel.shape
  adjoint = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)  # [k, k, O, C]
  cols = patches(g, k, stride)                              # [B, h, w, k*k*O]
  dz = cols @ adjoint.reshape(k * k * o, c)
  d_adjoint = (cols.reshape(-1, k * k * o).T @ z.reshape(-1, c)).reshape(k, k, o, c)
  dkernel = jnp.flip(d_adjoint.transpose(0, 1, 3, 2), (0, 1))
  return dz.astype(z.dtype), dkernel.astype(kernel.dtype)


strided_conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


class StridedConv(nn.Module):
  """`nn.Conv(features, (k, k), strides=stride, padding="SAME")`, or with `transpose`
  `nn.ConvTranspose(...)` alike: the same parameters (`kernel` [k, k, C, O] and
  `bias`, float32) and outputs, computed by `strided_conv(_transpose)`, or with
  `lax_conv` by `lax.conv_general_dilated` / `lax.conv_transpose` as Flax does."""
  features: int
  kernel_size: int = 3
  stride: int = 2
  transpose: bool = False
  dtype: jnp.dtype = jnp.float32
  lax_conv: bool = False

  @nn.compact
  def __call__(self, x):
    k = self.kernel_size
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, k, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
    x, kernel, bias = promote_dtype(x, kernel, bias, dtype=self.dtype)
    strides, layout = (self.stride, self.stride), ("NHWC", "HWIO", "NHWC")
    if self.lax_conv and self.transpose:
      y = lax.conv_transpose(x, kernel, strides, "SAME", dimension_numbers=layout)
    elif self.lax_conv:
      y = lax.conv_general_dilated(x, kernel, strides, "SAME", dimension_numbers=layout)
    else:
      y = (strided_conv_transpose if self.transpose else strided_conv)(x, kernel, self.stride)
    return y + bias


class ConvAutoEncoder(nn.Module):
  """Convolutional encoder (ReLU or `activation`, linear code) and the mirrored decoder,
  for images of `image_shape` (H, W, C): any sides, square or not, any channels.

  With the defaults on MNIST: the 28x28x1 image, a 3x3 convolution of stride 2 to
  14x14x32, another to 7x7x64, the dense `widths` (256), the code; decoder: dense
  reversed `widths` and 7*7*64, transposed convolutions of stride 2 to 14x14x32
  and 28x28x1, then "tanh" or "logits" as `output` says. `channels` are the
  convolutions' channels; `strides` their strides, one for every convolution
  (2: each halves the sides) or one per channel entry, the decoder's transposed
  convolutions taking them in reverse; `kernel_size` their k x k; the last
  transposed convolution has C channels.

  Pad and crop: with F the product of the strides (2 ** n for n convolutions of
  stride 2), the encoder pads the image with zeros (in model units) at the bottom
  and the right up to H' x W', the next multiples of F, so the convolutions reach
  the inner grid (H' / F, W' / F) exactly; the decoder's transposed convolutions
  return to H' x W', and it crops their output to the top-left H x W. Nothing is
  padded when F divides both sides (MNIST with the default two convolutions). The
  encoder's hidden activations are sown at the padded sizes.

  `lax_conv` computes the convolutions with `lax.conv` (the same function, slower
  on CPU: `train.run_epoch` then steps from Python). `dtype` is the compute dtype;
  parameters float32.
  """
  widths: Sequence[int] = (256,)
  latent_dim: int = 3
  image_shape: Sequence[int] = MNIST_SHAPE
  output: str = "tanh"
  dtype: jnp.dtype = jnp.float32
  channels: Sequence[int] = (32, 64)
  kernel_size: int = 3
  strides: Sequence[int] = (2,)
  lax_conv: bool = False
  activation: str = "relu"

  @property
  def conv_strides(self):
    """The stride of each convolution: `strides`, or its one value for every convolution."""
    strides = tuple(self.strides) * len(self.channels) if len(self.strides) == 1 else tuple(self.strides)
    if len(strides) != len(self.channels) or min(strides, default=1) < 1:
      raise ValueError(f"ConvAutoEncoder: strides {tuple(self.strides)} are not one positive stride, "
                       f"or one for each of the {len(self.channels)} convolutions")
    return strides

  def setup(self):
    if len(self.image_shape) != 3 or min(self.image_shape) < 1:
      raise ValueError(f"ConvAutoEncoder: image_shape {tuple(self.image_shape)} is not (H, W, C) "
                       "of positive sizes")
    if not self.channels:
      raise ValueError("ConvAutoEncoder: channels is empty; it needs at least one convolution")
    strides = self.conv_strides
    factor = math.prod(strides)
    self.inner = tuple(-(-n // factor) for n in self.image_shape[:2])
    self.padded = tuple(factor * n for n in self.inner)
    dense = lambda n, name: nn.Dense(n, dtype=self.dtype, param_dtype=jnp.float32, name=name)
    conv = lambda n, stride, transpose, name: StridedConv(n, self.kernel_size, stride, transpose, self.dtype,
                                                          self.lax_conv, name=name)
    self.conv_layers = [conv(c, s, False, f"conv_{i}") for i, (c, s) in enumerate(zip(self.channels, strides))]
    self.encoder_layers = [dense(w, f"enc_{i}") for i, w in enumerate(self.widths)]
    self.code_layer = dense(self.latent_dim, "code")
    self.decoder_layers = [dense(w, f"dec_{i}") for i, w in enumerate(reversed(self.widths))]
    self.unflatten_layer = dense(math.prod(self.inner) * self.channels[-1], "dec_grid")
    self.deconv_layers = [conv(c, s, True, f"deconv_{i}") for i, (c, s) in enumerate(
        zip([*reversed(self.channels[:-1]), self.image_shape[2]], reversed(strides)))]

  def hidden(self, x):
    """A hidden activation (`activation`), recorded as [B, units] in "intermediates"/"hidden"."""
    x = ACTIVATIONS[self.activation](x)
    self.sow("intermediates", "hidden", x.reshape(x.shape[0], -1))
    return x

  def encode(self, x):
    """[B, H, W, C] model-space pixels -> [B, latent_dim] float32 codes."""
    check_images(x, self.image_shape, type(self).__name__)
    (h, w), (ph, pw) = self.image_shape[:2], self.padded
    if (ph, pw) != (h, w):
      x = jnp.pad(x, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)))
    for layer in self.conv_layers:
      x = self.hidden(layer(x))
    x = x.reshape(x.shape[0], -1)
    for layer in self.encoder_layers:
      x = self.hidden(layer(x))
    return self.code_layer(x).astype(jnp.float32)

  def decode(self, z):
    """[B, latent_dim] codes -> [B, H, W, C] float32 outputs (tanh values or logits)."""
    for layer in self.decoder_layers:
      z = ACTIVATIONS[self.activation](layer(z))
    z = ACTIVATIONS[self.activation](self.unflatten_layer(z)).reshape(z.shape[0], *self.inner, -1)
    for layer in self.deconv_layers[:-1]:
      z = ACTIVATIONS[self.activation](layer(z))
    h, w = self.image_shape[:2]
    y = self.deconv_layers[-1](z)[:, :h, :w].astype(jnp.float32)
    return jnp.tanh(y) if self.output == "tanh" else y

  def __call__(self, x):
    return self.decode(self.encode(x))


ARCHITECTURE = ("conv", ConvAutoEncoder)   # the --architecture name (aejax.models finds it here)
