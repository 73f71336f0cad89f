import functools

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import applied_rate

import aejax
from aejax import chunks, config, data, models, objectives, optim, train
from aejax.data import corruptions
from aejax.run import experiment

BATCH = np.random.default_rng(42).random((32, 28, 28, 1), np.float32)   # (NumPy: no program to compile)
# One small model for the whole file (and tests/models/test_conv.py's epoch test): its
# initialisation and steps compile once, and none of the claims here depends on its size.
# Its code is as wide as its hidden layer: fewer shapes of parameters, fewer programs op by op.
MODEL = dict(widths=(16,), latent_dim=16)
SMALL = dict(widths="16", latent_dim=16)   # MODEL, as a config sets it
# Its one step program for the MSE: the DAE's (a level of 0 adds no noise, the plain AE).
DAE = "gaussian"
STEP = jax.jit(train.train_step)


@functools.cache
def embedded():
  """The embedded MNIST training digits, uint8 [4000, 28, 28, 1] (loaded once: 0.8 s)."""
  return data.load("embedded").train_images


def digits(n=32):
  """The first n embedded MNIST digits as float pixels in [0, 1]."""
  return (embedded()[:n] / np.float32(255)).astype(np.float32)


def make_state(corruption="none", noise=0.0, objective="mse", seed=0, **model_kw):
  model = models.AutoEncoder(output=objectives.OBJECTIVES[objective].output, **{**MODEL, **model_kw})
  return train.create_train_state(model, jax.random.key(seed), optim.make_optimizer(),
                                  objective=objective, corruption=corruption, noise=noise)


def torch_adam(p, grads, lr, wd, decoupled, b1=0.9, b2=0.999, eps=1e-8):
  """PyTorch's Adam / AdamW update rule, written out as in its documentation."""
  m, v = np.zeros_like(p), np.zeros_like(p)
  for t, g in enumerate(grads, start=1):
    if decoupled:
      p = p * (1 - lr * wd)
    else:
      g = g + wd * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
    p = p - (lr / (1 - b1 ** t)) * m / denom
  return p


def test_optimizer_matches_pytorch_adam_and_adamw_by_hand():
  rng = np.random.default_rng(0)
  p0 = rng.normal(size=(5, 3)).astype(np.float64)
  grads = [rng.normal(size=(5, 3)) for _ in range(3)]
  for decoupled in (False, True):
    tx = optim.make_optimizer(lr=0.01, weight_decay=0.1, decoupled=decoupled)
    p = jnp.asarray(p0, jnp.float32)
    opt = tx.init(p)
    for g in grads:
      updates, opt = tx.update(jnp.asarray(g, jnp.float32), opt, p)
      p = optax.apply_updates(p, updates)
    expected = torch_adam(p0, grads, 0.01, 0.1, decoupled)
    chex.assert_trees_all_close(p, expected.astype(np.float32), rtol=1e-5, atol=1e-6)
  # The L2 and the decoupled decays differ: the flag matters.
  assert not np.allclose(torch_adam(p0, grads, 0.01, 0.1, False), torch_adam(p0, grads, 0.01, 0.1, True))


def test_cosine_schedule_sets_each_epochs_rate_inside_the_step():
  """The step numbered `count` applies the stored (peak) rate times the cosine
  factor of epoch count // steps_per_epoch, the last epoch's beyond the end; a
  constant schedule applies the stored rate throughout."""
  tx = optim.make_optimizer(2e-3, 1e-5, schedule="cosine", epochs=4, steps_per_epoch=3)
  per_epoch = [2e-3, 2e-3 * (2 + 2 ** 0.5) / 4, 1e-3, 2e-3 * (2 - 2 ** 0.5) / 4]
  rates = [applied_rate(tx, count) for count in range(14)]
  assert rates == pytest.approx([r for r in per_epoch for _ in range(3)] + per_epoch[-1:] * 2, rel=1e-4)
  constant = optim.make_optimizer(2e-3, 1e-5)
  assert [applied_rate(constant, count) for count in (0, 7, 13)] == pytest.approx([2e-3] * 3, rel=1e-4)
  assert float(tx.init(jnp.zeros(())).hyperparams["learning_rate"]) == pytest.approx(2e-3)


def test_train_step_compiles_once_and_is_importable_from_the_package():
  assert aejax.train_step is train.train_step
  step = jax.jit(chex.assert_max_traces(train.train_step, n=1))
  state = make_state(DAE, 0.1)
  for i in range(3):
    batch = np.random.default_rng(i).random((32, 28, 28, 1), np.float32)
    state, metrics = step(state, batch, jax.random.key(i))
  assert int(state.step) == 3
  assert set(metrics) == {"loss", "mse", "grad_norm", "param_norm"}


def test_train_step_refuses_uint8_and_misshapen_batches_in_words():
  state = make_state(DAE, 0.1)
  step = STEP
  uint8 = (255 * BATCH).astype(jnp.uint8)
  with pytest.raises(ValueError, match="a batch of uint8 values: .*aejax.train.as_pixels"):
    step(state, uint8, jax.random.key(0))
  with pytest.raises(ValueError, match=r"a batch of shape \(32, 28, 28\): the model takes \[B, 28, 28, 1\]"):
    step(state, BATCH[..., 0], jax.random.key(0))
  _, metrics = step(state, train.as_pixels(uint8), jax.random.key(0))
  assert 0 < float(metrics["mse"]) < 1


@functools.cache
def op_by_op_step():
  """(state, its op-by-op train_step): the reference of both variants below, computed once.
  (The corruption and model of the DAE test below: the jitted step is the same program.)"""
  state = make_state(DAE, 0.25)  # small: the reference runs op by op
  return state, train.train_step(state, BATCH, jax.random.key(3))


class TrainStepVariants(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_jit_and_no_jit_agree(self):
    state, (reference_state, reference) = op_by_op_step()
    new_state, metrics = self.variant(train.train_step)(state, BATCH, jax.random.key(3))
    chex.assert_trees_all_close(metrics, reference, rtol=1e-5)
    # Adam's first step is lr * g / (|g| + eps): float rounding of tiny gradients
    # moves a parameter by up to a small fraction of lr = 1e-3.
    chex.assert_trees_all_close(new_state.params, reference_state.params, atol=2e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_eval_step_agrees(self):
    state, _ = op_by_op_step()     # its forward ops have run op by op already
    reference = train.eval_step(state, BATCH, jax.random.key(1))
    chex.assert_trees_all_close(self.variant(train.eval_step)(state, BATCH, jax.random.key(1)),
                                reference, rtol=1e-5)
    chex.assert_shape(list(reference.values()), (32,))


def test_dae_loss_compares_the_reconstruction_of_the_corrupted_input_with_the_clean_input():
  state = make_state(DAE, 0.5)
  key = jax.random.key(9)
  _, metrics = STEP(state, BATCH, key)

  @jax.jit
  def by_hand(params):
    """(loss, mse, the loss against the corrupted input) written out, as one program."""
    noisy = corruptions.gaussian(key, BATCH, 0.5)
    outputs = state.apply_fn({"params": params}, 2 * noisy - 1)
    return (jnp.mean((outputs - (2 * BATCH - 1)) ** 2), jnp.mean(((outputs + 1) / 2 - BATCH) ** 2),
            jnp.mean((outputs - (2 * noisy - 1)) ** 2))
  loss, mse, wrong_target = by_hand(state.params)
  chex.assert_trees_all_close(metrics["loss"], loss, rtol=1e-5)
  chex.assert_trees_all_close(metrics["mse"], mse, rtol=1e-5)
  assert abs(float(metrics["loss"]) - float(wrong_target)) > 1e-3


def test_loss_falls_on_a_fixed_batch_for_both_objectives():
  batch = digits()
  # The cross-entropy cannot fall below the entropy of the target pixels (NumPy: no programs to compile).
  pixels = np.asarray(batch, np.float64)
  inside = np.clip(pixels, 1e-6, 1 - 1e-6)
  entropy = float(np.mean(-pixels * np.log(inside) - (1 - pixels) * np.log(1 - inside)))
  for objective, floor in (("mse", 0.0), ("bce", entropy)):
    state = make_state(DAE, 0.0, objective=objective)   # no noise
    _, first = STEP(state, batch, jax.random.key(0))
    for i in range(150):
      state, metrics = STEP(state, batch, jax.random.key(i))
    assert float(metrics["loss"]) - floor < 0.5 * (float(first["loss"]) - floor), objective
    assert float(metrics["mse"]) < 0.5 * float(first["mse"]), objective


@functools.cache
def epoch_images():
  """200 embedded digits, uint8: 6 batches of 32 and 8 left over. With make_state(DAE, 0.3), the
  fused epoch of tests/models/test_conv.py too: the tests of both files share its one program."""
  return jnp.asarray(embedded()[:200])


def test_train_epoch_covers_the_data_and_never_recompiles(monkeypatch):
  traces = []
  original = train.train_step

  def counting(*args):
    traces.append(1)
    return original(*args)

  monkeypatch.setattr(train, "train_step", counting)
  state = make_state(DAE, 0.3)
  for epoch in range(3):
    state, metrics = train.train_epoch(state, epoch_images(), jax.random.key(0), epoch, batch_size=32)
  # One trace for the three epochs (none if another test traced this program in this process).
  assert len(traces) <= 1
  assert int(state.step) == 18   # all full batches of each epoch
  chex.assert_shape(metrics["loss"], ())


def test_same_keys_give_the_same_epoch_and_other_epochs_differ():
  run = lambda epoch: train.train_epoch(make_state(DAE, 0.3), epoch_images(), jax.random.key(5), epoch,
                                        batch_size=32)[0].params
  chex.assert_trees_all_equal(run(0), run(0))
  assert not np.allclose(jax.tree.leaves(run(0))[0], jax.tree.leaves(run(1))[0])


def test_evaluate_handles_a_last_partial_chunk():
  state = make_state("masking", 0.5)
  images = np.random.default_rng(1).random((250, 28, 28, 1), np.float32)
  means = train.evaluate(state, images, jax.random.key(2), batch_size=100)   # 100, 100 and 50
  direct = jax.jit(train.eval_step)(state, images, jax.random.key(0))        # all 250 at once
  chex.assert_trees_all_close(means["mse"], np.mean(direct["mse"]), rtol=1e-5)  # no corruption in "mse"
  assert 0.4 < float(means["noisy_input_mse"]) / float(np.mean(images ** 2)) < 0.6
  # A split smaller than the chunk is one chunk: the step on all 250 with the chunk's key
  one_chunk = train.evaluate(state, images, jax.random.key(2), batch_size=1000)
  direct = jax.jit(train.eval_step)(state, images, jax.random.split(jax.random.key(2), 1)[0])
  chex.assert_trees_all_close(one_chunk, jax.tree.map(np.mean, direct), rtol=1e-6)


def test_a_split_is_measured_in_chunks_of_at_most_the_batch_size_never_padded_beyond_it():
  # (a test split of 64 measured as 1,000 padded rows cost 13 times as long at XLA's level 0)
  seen = []
  per_example = lambda x: seen.append(x.shape) or x.sum(axis=(1, 2))
  xs = np.arange(250 * 2 * 3, dtype=np.float32).reshape(250, 2, 3)
  for batch_size, chunk in ((1000, (250, 2, 3)), (250, (250, 2, 3)), (100, (100, 2, 3))):
    seen.clear()
    values = chunks.map_in_chunks(per_example, xs, batch_size)
    assert seen == [chunk]   # traced once, for the chunk lax.map applies it to
    np.testing.assert_array_equal(values, xs.sum(axis=(1, 2)))   # the last chunk's padding dropped


class TinyAE(nn.Module):
  """A researcher's own module: any encode/decode pair works with train_step."""

  @nn.compact
  def __call__(self, x):
    return self.decode(self.encode(x))

  @nn.compact
  def encode(self, x):
    return nn.Dense(8, name="enc")(x.reshape(x.shape[0], -1))

  @nn.compact
  def decode(self, z):
    return jnp.tanh(nn.Dense(784, name="dec")(z)).reshape(z.shape[0], 28, 28, 1)


def test_train_step_works_with_a_users_own_module():
  state = train.create_train_state(TinyAE(), jax.random.key(0), optax.adam(1e-2), corruption="gaussian",
                                   noise=0.2, image_shape=(28, 28, 1))
  step = STEP
  losses_seen = []
  for i in range(30):
    state, metrics = step(state, BATCH, jax.random.key(i))
    losses_seen.append(float(metrics["loss"]))
  assert losses_seen[-1] < losses_seen[0]
  chex.assert_shape(train.encode(state, BATCH), (32, 8))


def test_bfloat16_compute_trains_with_float32_state():
  state = make_state(dtype=jnp.bfloat16)
  _, first = STEP(state, digits(), jax.random.key(0))
  for i in range(100):
    state, metrics = STEP(state, digits(), jax.random.key(i))
  assert float(metrics["loss"]) < 0.6 * float(first["loss"])
  assert all(x.dtype == jnp.float32 for x in jax.tree.leaves((state.params, state.opt_state))
             if jnp.issubdtype(x.dtype, jnp.floating))


def sparse_config(**kw):
  """The sparse AE of MODEL: an L1 penalty on the code and a KL penalty on sigmoid hidden units."""
  return config.SparseConfig.from_flags(activation="sigmoid", corruption="masking", **SMALL, **kw)


def test_models_differing_only_in_hparams_train_together_under_vmap():
  """What a sweep needs: noise levels, weights and the regularisers' settings are
  traced, so one vmapped program steps several models at once, each as it would alone
  (alone: the program of the sparse AE below)."""
  states = [experiment.build(cfg)[0] for cfg in (
      sparse_config(seed=0, noise=0.1, code_l1=1e-3, sparsity=0.01, rho=0.05),
      sparse_config(seed=1, noise=0.5, code_l1=0.3, sparsity=0.05, rho=0.2))]
  together = jax.tree.map(lambda *leaves: np.stack(leaves), *states)   # (NumPy: no programs to compile)
  batch = digits()
  stepped, metrics = jax.jit(jax.vmap(train.train_step, in_axes=(0, None, None)))(together, batch,
                                                                                  jax.random.key(3))
  step = jax.jit(chex.assert_max_traces(train.train_step, n=1))   # one program for both
  for i, state in enumerate(states):
    alone, alone_metrics = step(state, batch, jax.random.key(3))
    # Adam's first step lr * g / (|g| + eps) amplifies the rounding of tiny gradients (see above).
    model_i = lambda tree: jax.tree.map(lambda x: np.asarray(x)[i], tree)
    chex.assert_trees_all_close(model_i(stepped.params), alone.params, atol=2e-5)
    chex.assert_trees_all_close(model_i(metrics), alone_metrics, rtol=1e-5)
  assert abs(float(metrics["loss"][0] - metrics["loss"][1])) > 1e-3


def test_sparse_and_contractive_variants_learn_under_a_corruption():
  batch = digits()
  # (The VAE and the stacked DAE learn in tests/end_to_end/test_variants.py, the DAE everywhere.)
  for cfg in (sparse_config(sparsity=0.01, noise=0.2),
              config.ContractiveConfig.from_flags(corruption="salt_and_pepper", noise=0.1, **SMALL)):
    state, _, _ = experiment.build(cfg)
    _, first = STEP(state, batch, jax.random.key(0))
    for i in range(40):
      state, metrics = STEP(state, batch, jax.random.key(i))
    names = {name for name, _ in state.regularisers}
    assert names and names <= set(metrics), cfg
    assert float(metrics["loss"]) < 0.8 * float(first["loss"]), cfg
    assert float(metrics["mse"]) < 0.8 * float(first["mse"]), cfg
