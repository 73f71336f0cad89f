"""The sparse autoencoder: few active units per digit.

Two penalties, each weighted on its own (aejax.config.SparseConfig):
- `code_l1`: the L1 norm of the code, mean over the batch of sum_j |z_j|;
- `kl_sparsity`: the KL divergence of a target activation rate rho from the mean
  activation rho_hat_j of each hidden unit j over the batch, summed over the
  units of every hidden layer the encoder sows (Ng, "Sparse autoencoder", CS294A
  notes): sum_j rho log(rho / rho_hat_j) + (1 - rho) log((1 - rho) / (1 - rho_hat_j)).
  Activations must lie in [0, 1] (sigmoid units); rho is `hparams["rho"]`.
Both are in nats (KL) or code units (L1) per batch, not per pixel: their weights
set the exchange rate with the reconstruction term.
"""
import jax.numpy as jnp

RATE_FLOOR = 1e-6   # rho_hat is kept in [RATE_FLOOR, 1 - RATE_FLOOR]: saturated units stay finite


def code_l1(forward):
  """Mean over the batch of ||z||_1, z the decoded code."""
  return jnp.mean(jnp.sum(jnp.abs(forward.code), axis=-1))


def bernoulli_kl(rho, rho_hat):
  """KL(Bernoulli(rho) || Bernoulli(rho_hat)) in nats, elementwise."""
  return rho * jnp.log(rho / rho_hat) + (1 - rho) * jnp.log((1 - rho) / (1 - rho_hat))


def mean_activations(hidden):
  """Hidden activations [B, ...] -> [units] mean over the batch, float32."""
  return jnp.mean(hidden.reshape(hidden.shape[0], -1).astype(jnp.float32), axis=0)


def kl_sparsity(forward):
  """Sum over every hidden unit j of KL(rho || rho_hat_j), rho_hat_j the unit's mean
  activation over the batch (each element of a convolutional feature map is a unit)."""
  rho = forward.hparams["rho"]
  return sum(jnp.sum(bernoulli_kl(rho, jnp.clip(mean_activations(h), RATE_FLOOR, 1 - RATE_FLOOR)))
             for h in forward.hidden)
