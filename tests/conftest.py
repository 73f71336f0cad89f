import contextlib
import functools
import gzip
import importlib.util
import os
import shutil
import subprocess
import tempfile

# Two test processes share the 2 cores: one BLAS thread each (numpy's SVD in the
# PCA baseline took 13.7 s with two threads against 1.0 s with one, under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # pylint: disable=wrong-import-position
import pytest  # pylint: disable=wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Many tests start the experiment scripts in fresh processes, and the two test
# processes of `-n 2` compile many of the same programs: one compilation cache for
# the whole session (set in pytest_configure, before any test module imports JAX)
# saves each of them the same XLA compilations.
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# The suite's time is mostly XLA compiling the programs of tiny models, which XLA's backend
# optimisation and its CPU fusion emitters make slower than running them: the tests compile at
# level 0 without the fusion emitters (measured, the whole suite side by side on 2 cores: 416 s
# against 484 s for level 0; then 314 s against 388 s for the emitters). Every comparison of runs
# in the suite is between programs of this one setting; users compile at XLA's defaults.
TEST_XLA_FLAGS = "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
if TEST_XLA_FLAGS not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {TEST_XLA_FLAGS}".strip()
# Two different programs agree to the last bit only if XLA emits their shared parts alike, which
# depends on the code generator: a sweep's model and its single run, or an augmentation of zero
# range and none, agree under users' fusion emitters but not without them. A test module marked
# `users_codegen` compiles in its process with the fusion emitters on, as users' runs do.
USERS_CODEGEN = {"xla_cpu_use_fusion_emitters": True}


# The two test processes take whole files (--dist loadfile) as each finishes one. The files that
# take longest start first, so that neither process is left with a long one at the end while
# the other waits (measured on 2 cores, seconds of each file: 80, 60, 59, 58, 40, 36, 26, 21);
# the other files follow in their own order. pyproject.toml's --no-loadscope-reorder keeps this
# order (pytest-xdist's own puts files with many tests first).
LONGEST_FIRST = ("test_sweep.py", "test_workdir.py", "test_multiprocess.py", "test_faults.py",
                 "test_reproduce.py", "test_images.py", "test_variants.py", "test_analysis.py")


def pytest_collection_modifyitems(items):
  rank = lambda item: (LONGEST_FIRST.index(item.path.name) if item.path.name in LONGEST_FIRST
                       else len(LONGEST_FIRST))
  items.sort(key=rank)   # stable: the order within a file, and of the other files, is kept


_CACHE = []


def pytest_configure(config):
  """The session's compilation cache: made by the process that pytest starts (the
  pytest-xdist workers, started after this hook, inherit it) and removed at its end."""
  del config
  if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _CACHE.append(tempfile.mkdtemp(prefix="aejax-xla-cache-"))
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE[0]


def pytest_unconfigure(config):
  del config
  for folder in _CACHE:
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
  """One BLAS thread in every test process, as OPENBLAS_NUM_THREADS=1 above means to give
  where a pytest plugin imported numpy before this file."""
  import threadpoolctl  # pylint: disable=import-outside-toplevel
  with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
    yield


@contextlib.contextmanager
def _users_codegen():
  """Every compilation of this process is given USERS_CODEGEN, JAX's per-compilation options
  (those of `jax.jit(compiler_options=)`), over the session's XLA_FLAGS. The compiled programs
  held in memory are dropped before and after, so that none crosses from one setting to the
  other; the compilation cache keys each by its options."""
  import jax  # pylint: disable=import-outside-toplevel
  from jax._src import compiler  # pylint: disable=import-outside-toplevel
  session = compiler.get_compile_options

  def users(*args, env_options_overrides=None, **kwargs):
    return session(*args, env_options_overrides={**USERS_CODEGEN, **(env_options_overrides or {})},
                   **kwargs)
  jax.clear_caches()
  compiler.get_compile_options = users
  try:
    yield
  finally:
    compiler.get_compile_options = session
    jax.clear_caches()


@pytest.fixture(scope="module", autouse=True)
def users_codegen_module(request):
  """A module marked `users_codegen` (its `pytestmark`) compiles at users' code generator, its
  module fixtures too."""
  if request.node.get_closest_marker("users_codegen") is None:
    yield
    return
  with _users_codegen():
    yield


@pytest.fixture(autouse=True)
def users_codegen_test(request):
  """A test marked `users_codegen` in a module that is not compiles at users' code generator."""
  if (request.node.get_closest_marker("users_codegen") is None or
      request.node.getparent(pytest.Module).get_closest_marker("users_codegen") is not None):
    yield
    return
  with _users_codegen():
    yield


def write_idx(path, array, magic=None):
  """Writes `array` (uint8) as an IDX file; gzipped if the path ends in .gz."""
  array = np.asarray(array, np.uint8)
  magic = bytes([0, 0, 8, array.ndim]) if magic is None else magic
  header = magic + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "wb") as f:
    f.write(header + array.tobytes())


def fake_mnist(folder, n_train=256, n_test=64, gz=False, seed=0):
  """Four IDX files of real handwritten digits, which vary within each class:
  scikit-learn's 8x8 digits (1,797 of them, by 43 writers) drawn without
  replacement, each pixel scaled to a 3x3 block (24x24) and padded to MNIST's 28x28."""
  from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
  digits = load_digits()
  if n_train + n_test > len(digits.images):
    raise ValueError(f"{n_train} + {n_test} digits asked for, {len(digits.images)} exist")
  order = np.random.default_rng(seed).permutation(len(digits.images))
  images = np.pad(np.kron(digits.images[order], np.ones((3, 3))), ((0, 0), (2, 2), (2, 2))) * (255 / 16)
  os.makedirs(folder, exist_ok=True)
  ext = ".gz" if gz else ""
  starts = {"train": 0, "t10k": n_train}
  for split, n in (("train", n_train), ("t10k", n_test)):
    picked = slice(starts[split], starts[split] + n)
    write_idx(os.path.join(folder, f"{split}-images-idx3-ubyte{ext}"), images[picked].round())
    write_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte{ext}"), digits.target[order][picked])
  return folder


@pytest.fixture
def mnist_dir(tmp_path):
  return fake_mnist(str(tmp_path / "mnist"))


def script(name):
  """The `main` of experiments/NAME.py, loaded afresh: the script run in this process."""
  spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "experiments", f"{name}.py"))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.main


def call(capsys, name, argv):
  """(exit status, stdout, stderr) of an experiment script run in this process."""
  try:
    script(name)(argv)
    code = 0
  except SystemExit as e:
    code = e.code
  out, err = capsys.readouterr()
  return code, out, err


def one_line_error(code, err, *fragments):
  """Whether a script's end is exit status 2 with one `error:` line holding `fragments`, no traceback."""
  last = err.strip().splitlines()[-1] if err.strip() else ""
  return (code == 2 and "Traceback" not in err and "error:" in last
          and all(f in last for f in fragments))


def expect_error(capsys, name, argv, *fragments):
  """Runs experiments/NAME.py on `argv` in this process: it must exit 2 with one line holding `fragments`."""
  with pytest.raises(SystemExit) as e:
    script(name)(argv)
  assert e.value.code == 2
  err = capsys.readouterr().err
  assert err.count("\n") == 1 and "Traceback" not in err, err
  for fragment in fragments:
    assert fragment in err, err


def photo_tiles(side=(32, 32), per_photo=40, seed=0):
  """Real colour images: [2 * per_photo, H, W, 3] uint8 tiles cut at random places from
  scikit-learn's two sample photographs (china.jpg, flower.jpg), labelled by photograph
  (0, 1), and the class names."""
  from sklearn.datasets import load_sample_images  # pylint: disable=import-outside-toplevel
  photos = load_sample_images().images
  rng = np.random.default_rng(seed)
  tiles, labels = [], []
  for label, photo in enumerate(photos):
    for _ in range(per_photo):
      r, c = rng.integers(0, photo.shape[0] - side[0]), rng.integers(0, photo.shape[1] - side[1])
      tiles.append(photo[r:r + side[0], c:c + side[1]])
      labels.append(label)
  order = rng.permutation(len(tiles))
  return np.stack(tiles)[order], np.array(labels)[order], ("china", "flower")


def small_digits():
  """scikit-learn's 1,797 real 8x8 grey digits as uint8 [N, 8, 8] (0..16 scaled to 0..255), labels."""
  from sklearn.datasets import load_digits  # pylint: disable=import-outside-toplevel
  digits = load_digits()
  return np.round(digits.images * 255 / 16).astype(np.uint8), digits.target


def colour_images(labels, height=24, width=40, seed=0):
  """[n, height, width, 3] uint8: red, green or blue by class % 3, fading from
  left to right, a white bar along the top and a yellow corner at the top left,
  and some noise: a transposed, mirrored, squashed or channel-swapped image differs."""
  hue = np.eye(3)[np.asarray(labels) % 3]
  fade = np.linspace(1.0, 0.25, width)
  images = hue[:, None, None, :] * fade[None, None, :, None] * np.ones((1, height, 1, 1))
  images[:, :2] = 1.0
  images[:, 2:6, :4] = [1.0, 1.0, 0.0]
  noise = np.random.default_rng(seed).uniform(-0.08, 0.08, images.shape)
  return np.clip(255 * (images + noise), 0, 255).round().astype(np.uint8)


def write_pngs(folder, images, labels, names):
  """Each image as a PNG in folder/<its class name>/ (an image folder with class subfolders)."""
  import PIL.Image  # pylint: disable=import-outside-toplevel
  for i, (image, label) in enumerate(zip(images, labels)):
    os.makedirs(os.path.join(folder, names[label]), exist_ok=True)
    PIL.Image.fromarray(image.squeeze()).save(os.path.join(folder, names[label], f"{i:04d}.png"))


def read_scalars(workdir, tag):
  """[(step, value)] of TensorBoard scalar `tag` in a run folder's event files."""
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # pylint: disable=import-outside-toplevel

  from aejax.report import tensorboard_log  # pylint: disable=import-outside-toplevel
  events = EventAccumulator(tensorboard_log.folder(workdir), size_guidance={"scalars": 0})
  events.Reload()
  return [(e.step, e.value) for e in events.Scalars(tag)]


def metrics_lines(workdir):
  """The complete lines of a run's metrics.jsonl (0 before it exists): its epochs written."""
  try:
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
      return f.read().count("\n")
  except FileNotFoundError:
    return 0


def write_tiles_npz(path, side=(16, 24), per_photo=48, n_test=24):
  """A Keras-convention npz of photo tiles (x_train, y_train, x_test, y_test, class_names)."""
  images, labels, names = photo_tiles(side, per_photo)
  np.savez(path, x_train=images[n_test:], y_train=labels[n_test:], x_test=images[:n_test],
           y_test=labels[:n_test], class_names=np.array(names))
  return str(path)


FLAT_COMMIT = "d13ac6afe94f81d32147c77127af188d8fede9bb"   # the last code on flat [B, 784] pixels


@functools.cache
def tiles_builder():
  """The TFDS builder of `tiles` (its definition registers the name with TFDS; see prepare_tiles)."""
  import PIL.Image  # pylint: disable=import-outside-toplevel
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel  (slow: only where used)

  class Tiles(tfds.core.GeneratorBasedBuilder):
    """A small TFDS image dataset, prepared locally: real photo tiles, two classes."""
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
      return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
          "image": tfds.features.Image(shape=(12, 10, 3)),
          "label": tfds.features.ClassLabel(names=["china", "flower"])}))

    def _split_generators(self, dl_manager):
      del dl_manager
      images, labels, _ = photo_tiles((12, 10), 15)
      return {"train": self._generate_examples(images[:20], labels[:20]),
              "test": self._generate_examples(images[20:], labels[20:])}

    def _generate_examples(self, images, labels):   # pylint: disable=arguments-differ
      for i, (image, label) in enumerate(zip(images, labels)):
        yield i, {"image": PIL.Image.fromarray(image), "label": int(label)}
  return Tiles


def prepare_tiles(folder):
  """Prepares the TFDS dataset `tiles` in `folder`, as TFDS prepares a download: 30
  real 12x10 colour photo tiles of two classes (20 train, 10 test), array_record files."""
  tiles_builder()(data_dir=folder, file_format="array_record").download_and_prepare()


def flat_module(path, tmp_path):
  """The module at `path` as of FLAT_COMMIT, imported from a temporary copy."""
  try:
    shown = subprocess.run(["git", "show", f"{FLAT_COMMIT}:{path}"], capture_output=True, text=True, cwd=ROOT)
  except OSError as e:
    pytest.skip(f"no git to read the flat code of {path}: {e}")
  if shown.returncode:
    pytest.skip(f"the flat code of {path} is not in this checkout: {shown.stderr.strip()}")
  copy = tmp_path / path.replace("/", "_")
  copy.write_text(shown.stdout)
  spec = importlib.util.spec_from_file_location(copy.stem, copy)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def applied_rate(tx, count):
  """The learning rate that optimizer `tx`'s update numbered `count` (from 0)
  applies, within 1e-5: the step that a first gradient of 1 moves a zero
  parameter (Adam's first step is the rate times g / (|g| + eps), up to the float32
  rounding of its bias corrections)."""
  import jax.numpy as jnp  # pylint: disable=import-outside-toplevel
  param = jnp.zeros((), jnp.float32)
  state = tx.init(param)._replace(count=jnp.asarray(count, jnp.int32))
  update, _ = tx.update(jnp.ones((), jnp.float32), state, param)
  return -float(update) * (1 + 1e-8)
