"""A whole split measured in chunks: the per-example values of a function over
[N, ...] arrays, `batch_size` examples at a time by `lax.map` (memory of one
chunk). Every evaluation of a split (the test figures, the ELBO, the
log-likelihood, the classifier's errors) goes through `map_in_chunks` or
`mean_in_chunks`.
"""
import jax
import jax.numpy as jnp


def _padded_values(fn, xs, batch_size, key):
  """(fn's values over the chunks of `xs`, [n_chunks * b, ...] each, padding included; N)."""
  n = jax.tree.leaves(xs)[0].shape[0]
  if n == 0:
    raise ValueError("no examples to measure: the split is empty")
  size = min(batch_size, n)
  n_chunks = -(-n // size)

  def chunked(x):
    padded = jnp.pad(x, ((0, n_chunks * size - n),) + ((0, 0),) * (x.ndim - 1))
    return padded.reshape(n_chunks, size, *x.shape[1:])
  chunks = jax.tree.map(chunked, xs)
  if key is None:
    values = jax.lax.map(fn, chunks)
  else:
    values = jax.lax.map(lambda args: fn(*args), (chunks, jax.random.split(key, n_chunks)))
  return jax.tree.map(lambda v: v.reshape(n_chunks * size, *v.shape[2:]), values), n


def map_in_chunks(fn, xs, batch_size, key=None):
  """fn over `xs` (an array or a pytree of arrays, each [N, ...]) in chunks of
  b = min(batch_size, N) examples: fn(chunk) (or fn(chunk, key_i), with
  `key` split once per chunk) -> a pytree of [b, ...] per-example values.
  Returns that pytree of [N, ...] values. The last chunk is padded with zeros
  and its padding dropped; a split smaller than `batch_size` is one unpadded chunk."""
  values, n = _padded_values(fn, xs, batch_size, key)
  return jax.tree.map(lambda v: v[:n], values)


def mean_in_chunks(fn, xs, batch_size, key=None):
  """The mean over the N examples of each of fn's per-example values ([b] each;
  chunks and keys as `map_in_chunks`): the sum over the chunks' rows, the padding
  masked out, divided by N."""
  values, n = _padded_values(fn, xs, batch_size, key)
  valid = jnp.arange(jax.tree.leaves(values)[0].shape[0]) < n
  return jax.tree.map(lambda v: jnp.sum(jnp.where(valid, v, 0.0)) / n, values)
