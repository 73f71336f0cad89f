"""The public API keeps the array shapes its annotations state (aejax/types.py):
the functions run under jaxtyping with beartype, inside jit as users call them,
and a call of the wrong shape is caught by the annotations alone."""
import jax
import jax.numpy as jnp
import pytest
from beartype import beartype
from jaxtyping import jaxtyped

from aejax import AutoEncoder, create_train_state, make_optimizer, train, units


def checked(fn):
  return jaxtyped(typechecker=beartype)(fn)


def test_the_training_api_keeps_its_annotated_shapes():
  state = checked(create_train_state)(AutoEncoder(widths=(16,), latent_dim=2), jax.random.key(0),
                                      make_optimizer(), corruption="masking", noise=0.3)
  batch, key = jnp.full((8, 28, 28, 1), 0.5), jax.random.key(1)
  state, metrics = checked(train.train_step)(state, batch, key)
  assert set(metrics) >= {"loss", "mse", "grad_norm"}
  assert checked(train.eval_step)(state, batch, key)["denoised_mse"].shape == (8,)
  images = jnp.full((12, 28, 28, 1), 128, jnp.uint8)
  for name in ("evaluate", "encode", "reconstruct"):   # the programs as compiled, checked while traced
    program = jax.jit(checked(getattr(train, name).__wrapped__))
    out = program(state, images, key) if name == "evaluate" else program(state, images)
    assert (out["mse"].shape if name == "evaluate" else out.shape) == {
        "evaluate": (), "encode": (12, 2), "reconstruct": (12, 28, 28, 1)}[name]
  assert jax.jit(checked(train.decode.__wrapped__))(state, jnp.zeros((3, 2))).shape == (3, 28, 28, 1)


def test_a_call_of_the_wrong_shape_is_caught_by_the_annotations():
  with pytest.raises(Exception, match="per_pixel_mse"):     # batch sizes that disagree
    checked(units.per_pixel_mse)(jnp.zeros((4, 3)), jnp.zeros((5, 3)))
  state = create_train_state(AutoEncoder(widths=(16,)), jax.random.key(0), make_optimizer())
  with pytest.raises(Exception, match="train_step"):         # flat rows, not [B, H, W, C] images
    checked(train.train_step)(state, jnp.zeros((8, 784)), jax.random.key(1))
  with pytest.raises(Exception, match="train_step"):         # an old-style uint32 key
    checked(train.train_step)(state, jnp.zeros((8, 28, 28, 1)), jax.random.PRNGKey(1))
