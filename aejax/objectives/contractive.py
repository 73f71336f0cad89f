"""The contractive autoencoder (Rifai et al. 2011): the encoder is penalised by the
squared Frobenius norm of its Jacobian, ||J_h(x)||_F^2 = sum_ij (dh_i / dx_j)^2,
so that the code changes little when the input moves off the data.

Exact, by reverse-mode autodiff: one pass per code dimension over the whole
batch (jacrev of sum_b h(x_b), valid because the encoder treats examples
independently). The Jacobian is taken at the encoder's input (the corrupted digit
of a denoising variant), with respect to pixels in [0, 1]: independent of the
objective's model units.
"""
import jax
import jax.numpy as jnp


def jacobian_sq_norms(encoder, pixels):
  """||J_h(x_b)||_F^2 of `encoder` ([N, ...] -> [N, d]) at each of `pixels` ([N, H, W, C]
  or [N, P]): [N]."""
  jac = jax.jacrev(lambda x: jnp.sum(encoder(x), axis=0))(pixels)   # [d, N, ...]
  jac = jac.reshape(jac.shape[0], jac.shape[1], -1)
  return jnp.sum(jnp.square(jac.astype(jnp.float32)), axis=(0, 2))


def contraction(forward):
  """Mean over the batch of ||J_h(x~)||_F^2, in code units per pixel unit, squared."""
  return jnp.mean(jacobian_sq_norms(forward.encoder, forward.corrupted))
