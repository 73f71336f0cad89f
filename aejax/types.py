"""Array types of the public API, with their shapes (jaxtyping): what each
docstring states in words, in a form a checker can hold the code to
(tests/test_types.py runs the API under jaxtyping with beartype)."""
from jaxtyping import Array, Float, Int, Key, Shaped, UInt8

Pixels = Float[Array, "batch height width channels"]            # a batch of float pixels in [0, 1]
ImagePixels = Float[Array, "n height width channels"]           # a split's float pixels in [0, 1]
Images = UInt8[Array, "n height width channels"] | ImagePixels  # a split as stored: uint8 0..255 or pixels
Codes = Float[Array, "n latent"]
PerExample = Float[Array, "batch"]                               # a value per image
Examples = Float[Array, "batch *dims"]                           # images, or rows of values, per example
Rows = Shaped[Array, "batch values"]                             # each example's values in one row
Epoch = int | Int[Array, ""]
PRNGKey = Key[Array, ""]                                         # a typed key: jax.random.key
Metrics = dict[str, Shaped[Array, ""]]                           # scalar measurements by name
