"""The public API keeps the array shapes its annotations state (aejax/types.py):
the functions run under jaxtyping with beartype, inside jit as users call them,
and a call of the wrong shape is caught by the annotations alone."""
import jax
import jax.numpy as jnp
import pytest
from beartype import beartype
from jaxtyping import jaxtyped

from aejax import AutoEncoder, create_train_state, make_optimizer, train, units

# tests/test_train.py's model, corruption and batch: the jitted steps are its programs
# (the checks run while tracing and leave the compiled program as it is).
MODEL = AutoEncoder(widths=(16,), latent_dim=16)


def checked(fn):
  return jaxtyped(typechecker=beartype)(fn)


def test_the_training_api_keeps_its_annotated_shapes():
  state = checked(create_train_state)(MODEL, jax.random.key(0), make_optimizer(), corruption="gaussian",
                                      noise=0.3)
  batch, key = jnp.full((32, 28, 28, 1), 0.5, jnp.float32), jax.random.key(1)   # (not weak-typed)
  state, metrics = jax.jit(checked(train.train_step))(state, batch, key)
  assert set(metrics) >= {"loss", "mse", "grad_norm"}
  assert jax.jit(checked(train.eval_step))(state, batch, key)["denoised_mse"].shape == (32,)

  @jax.jit
  def programs(state, images, key, codes):
    """The programs of evaluate, encode, reconstruct and decode as compiled, checked while
    traced, in one program."""
    fn = lambda name: checked(getattr(train, name).__wrapped__)
    return (fn("evaluate")(state, images, key), fn("encode")(state, images), fn("reconstruct")(state, images),
            fn("decode")(state, codes))
  means, codes, reconstructed, decoded = programs(state, jnp.full((12, 28, 28, 1), 128, jnp.uint8), key,
                                                   jnp.zeros((3, 16)))
  assert means["mse"].shape == ()
  assert codes.shape == (12, 16)
  assert reconstructed.shape == (12, 28, 28, 1)
  assert decoded.shape == (3, 28, 28, 1)


def test_a_call_of_the_wrong_shape_is_caught_by_the_annotations():
  with pytest.raises(Exception, match="per_pixel_mse"):     # batch sizes that disagree
    checked(units.per_pixel_mse)(jnp.zeros((4, 3)), jnp.zeros((5, 3)))
  state = create_train_state(MODEL, jax.random.key(0), make_optimizer())
  with pytest.raises(Exception, match="train_step"):         # flat rows, not [B, H, W, C] images
    checked(train.train_step)(state, jnp.zeros((8, 784)), jax.random.key(1))
  with pytest.raises(Exception, match="train_step"):         # an old-style uint32 key
    checked(train.train_step)(state, jnp.zeros((8, 28, 28, 1)), jax.random.PRNGKey(1))
