"""The manifold metrics, the pictures, the report, analyze.py and curse.py."""
import base64
import contextlib
import json
import os
import re
import struct

import matplotlib.pyplot
import matplotlib.text
import numpy as np
import pytest
from conftest import fake_mnist, script
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness as sklearn_trustworthiness
from sklearn.neighbors import KNeighborsClassifier

from aejax import data
from aejax.evaluators import denoising, metrics
from aejax.report import pictures, plots, progress, run_page, tensorboard_log

RNG = np.random.default_rng(0)


def test_trustworthiness_and_continuity_match_sklearn():
  x = RNG.normal(size=(200, 30))
  z = x[:, :3] + 0.5 * RNG.normal(size=(200, 3))
  for k in (1, 5, 12):
    assert metrics.trustworthiness(x, z, k) == pytest.approx(sklearn_trustworthiness(x, z, n_neighbors=k))
    assert metrics.continuity(x, z, k) == pytest.approx(sklearn_trustworthiness(z, x, n_neighbors=k))


def test_trustworthiness_by_hand():
  # Points on a line; the embedding swaps the two ends' order: a hand-countable penalty.
  x = np.arange(6, dtype=float)[:, None]
  assert metrics.trustworthiness(x, x, 1) == 1.0
  z = np.array([0, 1, 2, 3, 5, 4], dtype=float)[:, None]
  # With k = 1, points 4 and 5 each take a neighbour of rank 2 in x (ties go to the
  # lower index): penalty 2, so T = 1 - 2 / (6 * 1 * (12 - 3 - 1)) * 2 = 11 / 12.
  assert metrics.trustworthiness(x, z, 1) == pytest.approx(11 / 12)
  assert metrics.trustworthiness(x, z, 1) == pytest.approx(sklearn_trustworthiness(x, z, n_neighbors=1))


def test_knn_accuracy_matches_sklearn_and_separable_cases():
  train_z, test_z = RNG.normal(size=(300, 3)), RNG.normal(size=(120, 3))
  train_y, test_y = RNG.integers(0, 10, 300), RNG.integers(0, 10, 120)
  expected = KNeighborsClassifier(5).fit(train_z, train_y).score(test_z, test_y)
  assert metrics.knn_accuracy(train_z, train_y, test_z, test_y, k=5, chunk=50) == pytest.approx(expected)
  centres = 10.0 * np.eye(3)
  labels = np.arange(3).repeat(20)
  points = centres[labels] + RNG.normal(size=(60, 3))
  assert metrics.knn_accuracy(points, labels, points + 0.1, labels) == 1.0
  assert metrics.linear_probe_accuracy(points, labels, points, labels) == 1.0


@pytest.mark.parametrize("d", [4, 400])   # Newton's method; L-BFGS (more than NEWTON_LIMIT parameters)
def test_linear_probe_is_scikit_learns_logistic_regression(d):
  """The probe's softmax regression reaches the optimum of scikit-learn's
  LogisticRegression (C = 1, biases unpenalised) on overlapping classes, one of
  them absent from the test split, and so predicts as it does: on 4-d codes and on
  400-d codes, of which 396 dimensions are noise."""
  rng = np.random.default_rng(3)
  centres = np.pad(1.5 * rng.normal(size=(10, 4)), ((0, 0), (0, d - 4)))
  scale = np.array([1.0, 2.0, 0.5, 1.0] + [1.0] * (d - 4))
  train_y, test_y = rng.integers(0, 10, 900), rng.integers(0, 9, 300)
  train_z = centres[train_y] + rng.normal(size=(900, d)) * scale
  test_z = centres[test_y] + rng.normal(size=(300, d)) * scale
  assert ((d + 1) * 10 > metrics.NEWTON_LIMIT) == (d > 4)
  w, b = metrics.softmax_regression(train_z, train_y, 10)
  reference = LogisticRegression(tol=1e-10, max_iter=10_000).fit(train_z, train_y)
  centred = lambda a: a - a.mean(-1, keepdims=True)   # softmax ignores a shift shared by the classes
  np.testing.assert_allclose(centred(w), centred(reference.coef_.T), atol=1e-4)
  np.testing.assert_allclose(centred(b), centred(reference.intercept_), atol=1e-4)
  mean, std = train_z.mean(0), train_z.std(0)
  expected = LogisticRegression(tol=1e-10, max_iter=10_000).fit((train_z - mean) / std, train_y).score(
      (test_z - mean) / std, test_y)
  assert 0.3 < expected < 0.9
  assert metrics.linear_probe_accuracy(train_z, train_y, test_z, test_y) == expected


def png_size(path):
  with open(path, "rb") as f:
    head = f.read(24)
  assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
  return struct.unpack(">II", head[16:24])


def png_dpi(path):
  """The resolution a PNG declares (its pHYs chunk), in dots per inch."""
  with open(path, "rb") as f:
    data = f.read()
  at = data.index(b"pHYs")
  x, y, unit = struct.unpack(">IIB", data[at + 4:at + 13])
  assert unit == 1 and x == y, path   # pixels per metre
  return x * 0.0254


def inches(size):
  return tuple(round(v * plots.DPI) for v in size)


@contextlib.contextmanager
def recorded_figures(write=True):
  """While active, every figure `plots.save` writes is recorded by file name: its
  size, title, the texts drawn (font size, and whether inside the figure), the
  images shown and, for 2-d axes, the data units per inch along x and y. With
  `write` False the figures are drawn, not written."""
  facts = {}
  save, draw_text = plots.save, matplotlib.text.Text.draw

  def recording_draw(text, renderer):
    draw_text(text, renderer)
    if text.get_visible() and text.get_text().strip() and text.figure is not None:
      box, page = text.get_window_extent(renderer), text.figure.bbox
      inside = box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1 and box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1
      text.figure.drawn_texts.append((text.get_text(), text.get_fontsize(), inside))

  def recording_save(fig, path):
    fig.drawn_texts = []
    title = fig._suptitle.get_text() if fig._suptitle else ""
    scales = []
    plain = [ax for ax in fig.axes if ax.name == "rectilinear" and not ax.get_images()]
    if plain:
      fig.canvas.draw()   # settles the aspect-constrained axes
    for ax in plain:
      (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (1, 1)])
      scales.append((fig.dpi / abs(x1 - x0), fig.dpi / abs(y1 - y0)))
    images = [np.asarray(im.get_array()) for ax in fig.axes for im in ax.get_images()]
    size = tuple(fig.get_size_inches())
    if write:
      save(fig, path)
    else:
      fig.set_dpi(plots.DPI)
      fig.canvas.draw()
      matplotlib.pyplot.close(fig)
    facts[os.path.basename(path)] = {"size": size, "title": title, "texts": fig.drawn_texts,
                                     "images": images, "scales": scales}

  with pytest.MonkeyPatch.context() as mp:
    mp.setattr(plots, "save", recording_save)
    mp.setattr(matplotlib.text.Text, "draw", recording_draw)
    yield facts


@pytest.fixture(scope="module")
def dae_run(tmp_path_factory):
  root = tmp_path_factory.mktemp("analysis")
  data_dir = fake_mnist(str(root / "mnist"))
  workdir = str(root / "run")
  with recorded_figures() as figures:
    summary = script("dae")(["--workdir", workdir, "--data-dir", data_dir, "--epochs", "3", "--batch-size", "32",
                             "--noise", "0.3", "--corruption", "masking"])
  return workdir, summary, figures


def test_a_run_writes_every_picture_at_its_size_as_png_and_pdf(dae_run):
  workdir, _, figures = dae_run
  assert plots.DPI >= 150
  grid = lambda rows, n, **kw: inches(plots.grid_size(rows, n, figures[kw.pop("name")]["title"], **kw))
  n_progress = 1 + len(progress.progress_epochs(3))
  expected = {
      "reconstructions.png": grid(["original", "corrupted", "denoised", "reconstruction"], 10,
                                  name="reconstructions.png"),
      "progress.png": grid(["original"] + [f"epoch {e}" for e in progress.progress_epochs(3)], 10,
                           name="progress.png"),
      "latent.png": inches(plots.LATENT_SIZES[3]),
      "traversals.png": None,   # its row labels depend on the codes: checked by width below
      "interpolation.png": grid(["decoded"], 12, name="interpolation.png", col_labels=["real"]),
      "curves.png": inches(plots.CURVES_SIZE),
  }
  assert set(expected) == set(pictures.PICTURES) and n_progress == 4
  for name, size in expected.items():
    path = os.path.join(workdir, name)
    width, height = png_size(path)
    assert size is None or (abs(width - size[0]) <= 1 and abs(height - size[1]) <= 1), (name, width, height, size)
    assert round(png_dpi(path)) == plots.DPI, name
    assert width <= plots.TEXT_WIDTH * plots.DPI + 1, name
    with open(plots.vector_path(path), "rb") as f:
      assert f.read(5) == b"%PDF-", name
  for name in ("reconstructions.png", "progress.png", "traversals.png", "interpolation.png"):
    assert png_size(os.path.join(workdir, name))[0] <= plots.COLUMN_WIDTH * plots.DPI + 1, name
  assert sorted(os.listdir(workdir)) == sorted(
      [".lock", "checkpoints", "config.json", "metrics.jsonl", "summary.json", "progress.npz",
       *pictures.outputs()])


def test_pictures_are_legible_at_print_size_and_titled(dae_run):
  _, summary, figures = dae_run
  assert set(figures) == set(pictures.PICTURES)
  for name, fig in figures.items():
    assert fig["texts"], name
    for text, size, inside in fig["texts"]:
      assert size >= plots.MIN_FONT, (name, text, size)
      assert inside, (name, text)   # nothing cut off at the figure's edge
    assert fig["title"].startswith("DAE, masking 30 %"), (name, fig["title"])
  title = figures["reconstructions.png"]["title"].replace("\n", " ")
  assert f"per-pixel MSE {summary['noisy_input_mse']:.4f} -> {summary['denoised_mse']:.4f}" in title
  curves = [t for t, _, _ in figures["curves.png"]["texts"]]
  assert "per-pixel MSE, [0, 1] units" in curves and plots.objective_label("mse") in curves
  assert "PCA, 3 components (test)" in curves


def test_code_space_projections_share_one_scale(dae_run):
  _, _, figures = dae_run
  scales = figures["latent.png"]["scales"]
  assert len(scales) == 3   # z1-z2, z1-z3, z2-z3 beside the 3-d view
  flat = [v for pair in scales for v in pair]
  assert max(flat) == pytest.approx(min(flat), rel=0.02)
  titles = [t for t, _, _ in figures["latent.png"]["texts"]]
  assert {"3-d view", "z1-z2", "z1-z3", "z2-z3"} <= set(titles)


def test_equal_scale_holds_for_stretched_codes(tmp_path):
  # z1 spans 40 code units, z2 20, z3 4: every axis still gets one scale
  codes = np.stack([RNG.uniform(-40, 0, 300), RNG.uniform(-10, 10, 300), RNG.uniform(-2, 2, 300)], 1)
  labels = RNG.integers(0, 10, 300)
  with recorded_figures(write=False) as figures:
    for d in (1, 2, 3, 5):
      z = np.hstack([codes, codes[:, :2] / 10]) if d == 5 else codes[:, :d]
      plots.save(plots.latent_scatter(z, labels, "codes"), str(tmp_path / f"latent{d}.png"))
  assert [len(figures[f"latent{d}.png"]["scales"]) for d in (1, 2, 3, 5)] == [1, 1, 3, 3]
  for d in (2, 3, 5):
    flat = [v for pair in figures[f"latent{d}.png"]["scales"] for v in pair]
    assert max(flat) == pytest.approx(min(flat), rel=0.02), d
  lims = plots.equal_limits(codes)
  assert np.allclose(lims[:, 1] - lims[:, 0], lims[0, 1] - lims[0, 0]) and lims[0, 1] - lims[0, 0] >= 40
  assert "PC1 of z" in [t for t, _, _ in figures["latent5.png"]["texts"]]
  for name, fig in figures.items():
    assert all(size >= plots.MIN_FONT and inside for _, size, inside in fig["texts"]), name


def test_interpolation_shows_its_two_real_digits(dae_run):
  workdir, _, figures = dae_run
  canvas = figures["interpolation.png"]["images"][0]
  with open(os.path.join(workdir, "config.json")) as f:
    dataset = data.load_mnist("idx", json.load(f)["data_dir"])
  idx = progress.grid_indices(dataset.test_labels)
  tile = lambda c: canvas[:28, c * 30:c * 30 + 28].reshape(-1)
  pixels = dataset.test_images.reshape(len(dataset.test_images), -1) / 255.0
  assert np.allclose(tile(0), pixels[idx[0]], atol=1e-6)
  assert np.allclose(tile(11), pixels[idx[1]], atol=1e-6)
  assert not np.allclose(tile(1), pixels[idx[0]], atol=1e-3)   # decoded, not a copy


def test_summary_holds_every_metric_beside_pca(dae_run):
  _, summary, _ = dae_run
  for key in ("knn_accuracy", "linear_probe_accuracy", "trustworthiness", "continuity", "test_mse"):
    assert 0.0 <= summary[key] <= 1.0 and 0.0 <= summary["pca_" + key] <= 1.0, key
  # The test digits vary within each class (scikit-learn's, by 43 writers): neither the
  # briefly trained 3-d code nor PCA's separates all 64; both do better than chance (0.1;
  # its standard deviation over 64 digits is 0.04).
  for key in ("knn_accuracy", "linear_probe_accuracy", "pca_knn_accuracy", "pca_linear_probe_accuracy"):
    assert 0.2 < summary[key] < 1.0, key
  assert summary["pca_test_psnr"] > 0
  table = summary["denoising"]
  assert {(r["corruption"], r["level"]) for r in table} == {
      (c, level) for c in ("gaussian", "masking", "salt_and_pepper") for level in denoising.LEVELS}
  for name in ("gaussian", "masking", "salt_and_pepper"):
    noisy = [r["noisy_input_mse"] for r in table if r["corruption"] == name]
    assert noisy == sorted(noisy), name       # more corruption, larger input error
  masking_03 = next(r for r in table if r["corruption"] == "masking" and r["level"] == 0.3)
  assert masking_03["noisy_input_mse"] == pytest.approx(summary["noisy_input_mse"], rel=0.05)


def test_report_is_self_contained(dae_run):
  workdir, summary, _ = dae_run
  with open(os.path.join(workdir, "report.html")) as f:
    page = f.read()
  assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page, re.I)
  assert page.count('src="data:image/png;base64,') == len(pictures.PICTURES)
  assert "<canvas" in page and "test image" in page
  assert f"{summary['knn_accuracy']:.4f}" in page and f"{summary['pca_knn_accuracy']:.4f}" in page


def test_analyze_reproduces_the_training_metrics(dae_run, tmp_path):
  workdir, summary, _ = dae_run
  with open(os.path.join(workdir, "summary.json")) as f:
    before = json.load(f)
  os.remove(os.path.join(workdir, "latent.png"))
  again = script("analyze")([workdir])
  assert again == before == json.loads(json.dumps(summary))
  assert png_size(os.path.join(workdir, "latent.png")) == inches(plots.LATENT_SIZES[3])
  board = os.path.join(workdir, tensorboard_log.FOLDER)
  assert len([f for f in os.listdir(board) if f.endswith(tensorboard_log.ANALYSIS_SUFFIX)]) == 1
  with open(os.path.join(board, "projector_config.pbtxt")) as f:
    assert f.read().count("embeddings {") == 1   # the analysis replaced, not added to


def test_analyze_and_curse_refuse_a_folder_that_is_no_run(capsys, tmp_path):
  for name, argv in (("analyze", [str(tmp_path)]), ("curse", ["--workdir", str(tmp_path)])):
    with pytest.raises(SystemExit) as e:
      script(name)(argv)
    assert e.value.code == 2
    assert "not a run folder" in capsys.readouterr().err


def test_curse_of_dimensionality(dae_run, tmp_path):
  workdir, _, _ = dae_run
  result = script("curse")(["--workdir", workdir, "--points", "150", "--out", str(tmp_path)])
  contrast = result["uniform_relative_contrast"]
  assert all(a > b for a, b in zip(contrast, contrast[1:]))   # concentrates with the dimension
  assert contrast[-1] < 0.5 < 10 < contrast[0]
  assert png_size(tmp_path / "curse.png") == inches(plots.CURSE_SIZE)
  assert (tmp_path / "curse.pdf").read_bytes()[:5] == b"%PDF-"


def report_view(workdir):
  with open(os.path.join(workdir, "report.html")) as f:
    page = f.read()
  return page, json.loads(re.search(r'<script id="view-data" type="application/json">(.*?)</script>',
                                    page, re.S).group(1))


def test_report_view_holds_the_run_codes_digits_and_settings(dae_run):
  workdir, _, _ = dae_run
  page, view = report_view(workdir)
  with open(os.path.join(workdir, "config.json")) as f:
    saved = json.load(f)
  dataset = data.load_mnist("idx", saved["data_dir"])
  shown = metrics.subset(len(dataset.test_labels), metrics.N_NEIGHBOURHOOD)
  assert view["label"] == dataset.test_labels[shown].tolist() and view["dims"] == 3
  z, p = np.array(view["z"]), np.array(view["p"])
  centre = np.array(view["centre"])
  assert np.allclose(p * view["half"] + centre, z, atol=1e-4 * view["half"] + 1e-3)   # one scale for all axes
  assert np.abs(p).max() <= 1.0 and np.isclose(np.ptp(p, 0).max(), 2 / 1.1, rtol=1e-3)
  for axis, ticks in enumerate(view["ticks"]):
    assert len(ticks) >= 2 and np.allclose(np.diff(ticks), ticks[1] - ticks[0])
    assert all(abs(t - centre[axis]) <= view["half"] for t in ticks)
  sprite = view["sprite"]
  decode = lambda uri: run_page.read_sprite(base64.b64decode(uri.split(",", 1)[1]), len(z), sprite["cols"])
  digits, reconstructions = decode(sprite["images"]), decode(sprite["reconstructions"])
  expected = np.round(dataset.test_images[shown] / 255.0 * 15) * 17
  assert np.array_equal(digits, expected)
  mse = np.mean((digits / 255.0 - reconstructions / 255.0) ** 2, axis=(1, 2, 3))
  assert np.allclose(mse, view["mse"], atol=3e-3) and np.ptp(view["mse"]) > 0
  run_table = page[page.index('<table id="run">'):]
  for field in saved:
    if field not in ("experiment", "resumptions"):
      assert f"<td>config: {field}</td>" in run_table, field
  assert "training samples/s" in run_table


def test_tensorboard_holds_the_run_scalars_images_and_embedding(dae_run):
  workdir, _, _ = dae_run
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
  board = os.path.join(workdir, tensorboard_log.FOLDER)
  events = EventAccumulator(board, size_guidance={"scalars": 0, "images": 0, "tensors": 0})
  events.Reload()
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    records = [json.loads(line) for line in f]
  for key, tag in tensorboard_log.SCALARS.items():
    if key not in records[0]:   # validation_mse: runs with a validation split only
      assert tag not in events.Tags()["scalars"], tag
      continue
    logged = events.Scalars(tag)
    assert [e.step for e in logged] == [r["epoch"] for r in records], tag
    assert np.allclose([e.value for e in logged], [r[key] for r in records], rtol=1e-6), tag
  assert [e.step for e in events.Images("progress")] == progress.progress_epochs(3)
  assert [e.step for e in events.Images("reconstructions")] == [3]
  assert "run/text_summary" in events.Tags()["tensors"]
  with open(os.path.join(board, "projector_config.pbtxt")) as f:
    projector = f.read()
  folder = re.search(r'tensor_path: "(.*)/tensors.tsv"', projector).group(1)
  assert f'image_path: "{folder}/sprite.png"' in projector and "single_image_dim: 28" in projector
  codes = np.loadtxt(os.path.join(board, folder, "tensors.tsv"), ndmin=2)
  meta = np.genfromtxt(os.path.join(board, folder, "metadata.tsv"), delimiter="\t", names=True)
  _, view = report_view(workdir)
  assert np.allclose(codes, view["z"], atol=1e-3)     # the codes the report shows
  assert meta["label"].astype(int).tolist() == view["label"]
  assert png_size(os.path.join(board, folder, "sprite.png")) == (8 * 28, 8 * 28)   # 64 digits


def test_traversals_sweep_every_axis_of_a_short_code_and_the_widest_of_a_long_one():
  """A 3-d code: all three axes; a 1,000-d code: the 16 of widest spread, in axis order
  (a row per axis of a 1,000-d code drew 10,000 images)."""
  assert pictures.traversed_axes(np.zeros(3), np.ones(3)) == [0, 1, 2]
  spread = RNG.permutation(1000) / 1000.0
  axes = pictures.traversed_axes(-spread, spread)
  assert axes == sorted(np.flatnonzero(spread >= 0.984).tolist()) and len(axes) == pictures.TRAVERSED_AXES
