"""report.html: one offline page whose data, title, provenance and script are checked
here on a report of known content, and whose view is driven in headless Chromium
when one is installed (`apt-get install chromium` and `pip install playwright`);
and the pictures of images of any shape (plots.image_grid, plots.latent_scatter)."""
import base64
import json
import os
import re
import shutil
import subprocess
import types

import matplotlib.colors
import matplotlib.pyplot
import matplotlib.text
import numpy as np
import pytest
from conftest import colour_images

from aejax import config as config_lib, train
from aejax.report import pictures, plots, progress, run_page

RNG = np.random.default_rng(0)
N = 300
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROVENANCE = {"started": "2026-11-28T08:00:00+00:00", "finished": "2026-11-28T08:02:03+00:00",
              "seconds": 123.4, "host": "testhost", "processes": 1, "device": "1 x cpu (cpu)",
              "git_commit": "0123abcd+dirty", "versions": {"python": "3.11.2", "jax": "0.10.2"}}
SUMMARY = {"test_mse": 0.0432, "test_psnr": 13.6, "knn_accuracy": 0.786, "linear_probe_accuracy": 0.738,
           "trustworthiness": 0.923, "continuity": 0.909, "noisy_input_mse": 0.0568, "denoised_mse": 0.0489}
SUMMARY.update({f"pca_{k}": v / 2 for k, v in SUMMARY.items()})
SUMMARY.update(finetuned_test_error=0.0128, finetune_epochs=30)   # a figure PCA has no twin of


def blobs(labels):
  """[n, 28, 28, 1] uint8 digits: a bright blob whose place depends on the class."""
  yy, xx = np.mgrid[:28, :28]
  cy, cx = 6 + (labels // 4) * 7, 5 + (labels % 4) * 6
  images = 255 * np.exp(-((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) / 12.0)
  return images[..., None].round().astype(np.uint8)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
  """(path, html, view, codes, images, reconstructions, config) of a report of known content."""
  folder = tmp_path_factory.mktemp("report")
  labels = RNG.integers(0, 10, N)
  centres = RNG.normal(size=(10, 3)) * np.array([12.0, 4.0, 2.0])   # stretched: z1 spans most
  codes = centres[labels] + 0.5 * RNG.normal(size=(N, 3))
  images = blobs(labels)
  reconstructions = np.clip(images / 255.0 * 0.8 + 0.05 * RNG.random(images.shape), 0, 1)
  config = config_lib.DAEConfig.from_flags(corruption="masking", noise=0.3, epochs=7, workdir=str(folder))
  view = run_page.view_data(codes, labels, images, reconstructions, [str(c) for c in range(10)])
  history = [{"epoch": e, "samples_per_s": 1000.0 * e} for e in range(1, 5)]
  path = str(folder / "report.html")
  run_page.write(path, config, "idx:/data/mnist", SUMMARY, {}, str(folder), view, PROVENANCE, history)
  with open(path) as f:
    text = f.read()
  return path, text, view, codes, images, reconstructions, config


def script_of(text):
  return re.search(r"<script>\n(.*?)</script>", text, re.S).group(1)


def test_page_is_one_offline_file(page):
  _, text, view, *_ = page
  assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I)
  assert not re.search(r"""(src|href)=["'](?!data:)""", text)
  data = re.search(r'<script id="view-data" type="application/json">(.*?)</script>', text, re.S).group(1)
  assert json.loads(data) == json.loads(json.dumps(view))


def test_title_states_the_corruption_and_the_denoised_figure(page):
  _, text, *_ = page
  title = re.search(r"<title>(.*?)</title>", text).group(1)
  assert title == re.search(r"<h1>(.*?)</h1>", text).group(1)
  assert title.startswith("DAE, masking 30 %, ")
  assert "per-pixel MSE 0.0568 -&gt; 0.0489 (corrupted test input -&gt; its reconstruction)" in title
  assert "clean input 0.0432" in title
  assert "3-d code" in title and "7 epochs" in title


def test_figures_table_shows_each_declared_figure_beside_pca_and_its_detail(page):
  _, text, *_ = page
  rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>[^<]*</td></tr>", text)
  shown = {label: (model, pca) for label, model, pca in rows}
  assert shown["5-NN accuracy of the codes"] == ("0.7860", "0.3930")
  assert shown["test error of the encoder fine-tuned with a softmax head, 30 epochs"] == ("0.0128", "-")


def test_provenance_table_lists_every_setting_and_where_the_run_was_made(page):
  _, text, *_, config = page
  table = text[text.index('<table id="run">'):]
  rows = dict(re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table))
  for field in config.flags():
    assert f"config: {field}" in rows, field
  assert rows["config: corruption"] == "masking" and rows["config: noise"] == "0.3"
  assert rows["config: seed"] == "0" and rows["config: epochs"] == "7"
  for key in ("started", "finished", "host", "device", "git_commit"):
    assert rows[key] == str(PROVENANCE[key]), key
  assert rows["versions: jax"] == "0.10.2" and rows["duration"].startswith("123.4 s")
  assert rows["training samples/s (median over epochs after the first)"] == "3,000"


def test_view_data_one_scale_ticks_and_digits(page):
  _, _, view, codes, images, reconstructions, _ = page
  p = np.array(view["p"])
  assert np.allclose(p * view["half"] + np.array(view["centre"]), codes, atol=1e-4 * view["half"])
  assert np.isclose(np.ptp(p[:, 0]), np.ptp(codes, 0).max() / view["half"], rtol=1e-3)  # the widest axis
  assert np.ptp(p[:, 2]) < 0.5 * np.ptp(p[:, 0])   # the narrow z3 stays narrow: no per-axis stretch
  assert view["names"] == ["z1", "z2", "z3"]
  sprite = view["sprite"]
  decode = lambda uri: run_page.read_sprite(base64.b64decode(uri.split(",", 1)[1]), N, sprite["cols"])
  assert np.array_equal(decode(sprite["images"]), np.round(images / 255.0 * 15) * 17)
  assert np.abs(decode(sprite["reconstructions"]) / 255.0 - reconstructions).max() <= 0.5 / 15 + 1e-9
  assert np.allclose(view["mse"], np.mean((images / 255.0 - reconstructions) ** 2, axis=(1, 2, 3)), atol=1e-4)
  assert (sprite["width"], sprite["height"], sprite["channels"], sprite["shrunk"]) == (28, 28, 1, 1)
  assert view["classes"] == [str(c) for c in range(10)] and view["label"] == [int(c) for c in view["label"]]
  assert view["colors"] == [matplotlib.colors.to_hex(plots.CLASS_COLORS(c)) for c in range(10)]
  for lo, hi in ((-38.2, 1.7), (0.012, 0.049), (-3, 3), (1e-5, 9e-5)):
    ticks = np.array(run_page.nice_ticks(lo, hi))
    step = ticks[1] - ticks[0]
    assert 3 <= len(ticks) <= 10 and lo <= ticks[0] and ticks[-1] <= hi and np.allclose(np.diff(ticks), step)
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-6 and np.allclose(ticks / step, np.round(ticks / step))
  assert run_page.nice_ticks(-38.2, 1.7) == [-30, -20, -10, 0] or run_page.nice_ticks(-38.2, 1.7)[0] == -35


def test_view_data_of_codes_of_other_sizes():
  labels = RNG.integers(0, 10, 50)
  images = blobs(labels)
  two = run_page.view_data(RNG.normal(size=(50, 2)), labels, images, images)
  assert two["dims"] == 2 and np.all(np.array(two["p"])[:, 2] == 0) and two["ticks"][2] == []
  eight = run_page.view_data(RNG.normal(size=(50, 8)), labels, images, images)
  assert eight["names"] == ["PC1 of z", "PC2 of z", "PC3 of z"] and len(eight["z"][0]) == 8
  assert np.all(np.array(eight["mse"]) == 0)


def test_script_binds_mouse_touch_wheel_and_high_density_screens(page):
  _, text, *_ = page
  script = script_of(text)
  for needle in ("devicePixelRatio", '"pointerdown"', '"pointermove"', '"pointerup"', '"pointercancel"',
                 "setPointerCapture", '"wheel"', "passive: false", '"dblclick"', "imageSmoothingEnabled = false",
                 "aria-pressed", "window.aejaxView"):
    assert needle in script, needle
  assert "touch-action:none" in text
  node = shutil.which("node")
  if node:   # a syntax check where a JavaScript engine is at hand
    done = subprocess.run([node, "--check", "-"], input=script, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def canvas_pixels(tab, canvas):
  """[H, W, 3] the RGB pixels of a canvas of the page open in `tab`."""
  h, w = tab.evaluate(f"[document.getElementById('{canvas}').height, document.getElementById('{canvas}').width]")
  data = tab.evaluate(f"Array.from(document.getElementById('{canvas}').getContext('2d')"
                      f".getImageData(0, 0, {w}, {h}).data)")
  return np.array(data).reshape(h, w, 4)[..., :3]


BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
  """Headless Chromium, shared by the tests of this module."""
  if os.environ.get("AEJAX_REQUIRE_BROWSER"):   # .ci/run sets it where Chromium is installed
    assert CHROMIUM, "AEJAX_REQUIRE_BROWSER is set, but no chromium is on the PATH"
    import playwright.sync_api as playwright  # pylint: disable=import-outside-toplevel
  else:
    if not CHROMIUM:
      pytest.skip("chromium is not installed")
    playwright = pytest.importorskip("playwright.sync_api")
  with playwright.sync_playwright() as p:
    chromium = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    try:
      yield chromium
    finally:
      chromium.close()


def test_view_in_headless_chromium(page, browser, tmp_path):
  path, _, view, _, images, reconstructions, _ = page
  context = browser.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=2,
                                has_touch=True)
  try:
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    requests = []
    tab.on("request", lambda r: requests.append(r.url))
    tab.goto("file://" + path)
    tab.locator("#view").scroll_into_view_if_needed()
    tab.wait_for_function("document.getElementById('view').width > 0")
    js = tab.evaluate
    canvas = "document.getElementById('view')"
    assert js(f"[{canvas}.width, {canvas}.height]") == [2 * v for v in js(f"[{canvas}.clientWidth, {canvas}.clientHeight]")]
    origin = js(f"(() => {{ const c = {canvas}, r = c.getBoundingClientRect(); "
                "return [r.left + c.clientLeft, r.top + c.clientTop]; })()")
    at = lambda i: [o + v for o, v in zip(origin, js(f"window.aejaxView.project({i})"))]

    # pointing at a dot highlights it and shows its digit and reconstruction, pixel for pixel
    shown = js("window.aejaxView.shown()")
    i = shown[-1]   # drawn last: on top
    tab.mouse.move(*at(i))
    assert js("window.aejaxView.state.hover") == i
    tab.wait_for_function("document.getElementById('tip').textContent.startsWith('class')")
    grey = lambda canvas: canvas_pixels(tab, canvas)[..., 0]
    assert np.array_equal(grey("image"), np.round(images[i, ..., 0] / 255.0 * 15) * 17)
    assert np.abs(grey("recon") / 255.0 - reconstructions[i, ..., 0]).max() <= 0.5 / 15 + 1 / 255
    assert tab.inner_text("#tip").startswith(f"class {view['label'][i]}, z = (")
    tab.screenshot(path=str(tmp_path / "hover.png"))

    # the wheel zooms where it points: the dot under the pointer stays, the others spread
    j = next(k for k in shown if k != i)
    pointer, before = at(i), np.subtract(at(j), at(i))
    tab.mouse.wheel(0, -400)
    tab.wait_for_function("window.aejaxView.state.zoom > 1.1")
    zoom = js("window.aejaxView.state.zoom")
    assert np.allclose(at(i), pointer, atol=0.5)
    assert np.allclose(np.subtract(at(j), at(i)), zoom * before, rtol=1e-3, atol=0.5)

    # dragging rotates
    yaw, pitch = js("[window.aejaxView.state.yaw, window.aejaxView.state.pitch]")
    tab.mouse.move(origin[0] + 100, origin[1] + 100)
    tab.mouse.down()
    tab.mouse.move(origin[0] + 180, origin[1] + 140, steps=4)
    tab.mouse.up()
    assert js("window.aejaxView.state.yaw") == pytest.approx(yaw + 0.8)
    assert js("window.aejaxView.state.pitch") == pytest.approx(pitch + 0.4)

    # the legend hides and shows a class
    digit = view["label"][i]
    assert tab.inner_text("#legend").split() == [str(c) for c in sorted(set(view["label"]))]
    swatches = js("Array.from(document.querySelectorAll('#legend button span'), s => s.style.background)")
    css = lambda colour: js(f"(() => {{ const s = document.createElement('span'); s.style.background = "
                            f"'{colour}'; return s.style.background; }})()")
    assert swatches == [css(view["colors"][c]) for c in sorted(set(view["label"]))]
    tab.click(f"#legend button[data-class='{digit}']")
    assert tab.get_attribute(f"#legend button[data-class='{digit}']", "aria-pressed") == "false"
    hidden = js("window.aejaxView.shown()")
    assert hidden and all(view["label"][k] != digit for k in hidden)
    assert len(hidden) == sum(1 for label in view["label"] if label != digit)
    assert js("window.aejaxView.state.hover") == -1
    tab.screenshot(path=str(tmp_path / "toggled.png"))
    tab.click(f"#legend button[data-class='{digit}']")
    assert len(js("window.aejaxView.shown()")) == N

    # touch: double-click resets; two fingers spread zoom in, a tap shows a digit
    tab.dblclick("#view")
    assert js("window.aejaxView.state.zoom") == 1
    cdp = context.new_cdp_session(tab)
    centre = [origin[0] + 300, origin[1] + 250]
    touch = lambda kind, d: cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": centre[0] - d, "y": centre[1], "id": 1}, {"x": centre[0] + d, "y": centre[1], "id": 2}]
        if d else []})
    touch("touchStart", 40)
    for d in (60, 80, 100, 120):
      touch("touchMove", d)
    touch("touchEnd", 0)
    assert js("window.aejaxView.state.zoom") == pytest.approx(3.0, rel=0.05)
    k = js("window.aejaxView.shown()")[-1]
    tab.touchscreen.tap(*at(k))
    assert js("window.aejaxView.state.hover") == k
    assert errors == [] and all(u.startswith(("file:", "data:")) for u in requests), (errors, requests)
  finally:
    context.close()


def test_titles_name_the_augmentation():
  config = config_lib
  assert run_page.run_kind(config.AEConfig()) == "AE"
  assert run_page.run_kind(config.AEConfig.from_flags(augmentation="affine", rotation=5.0, shift=1.0,
                                                      scale=0.05)) == (
      "AE (augmented: up to 5° turned, 1 px moved, 5% resized)")
  assert run_page.run_kind(config.DAEConfig.from_flags(augmentation="affine")) == (
      "DAE, gaussian σ = 0.5 (augmented: up to 10° turned, 1.5 px moved, 10% resized)")
  assert run_page.run_kind(config.AEConfig.from_flags(augmentation="affine", rotation=0.0, shift=0.0,
                                                      scale=0.0, flip=0.5)) == (
      "AE (augmented: mirrored with probability 0.5)")


NAMES = ("china", "flower", "cat")


def decode_sprite(view, key, n):
  uri = view["sprite"][key]
  return run_page.read_sprite(base64.b64decode(uri.split(",", 1)[1]), n, view["sprite"]["cols"])


def test_sprites_hold_colour_and_grey_images_of_any_shape():
  labels = RNG.integers(0, 3, 23)
  colour = colour_images(labels)
  png, cols = run_page.sprite(colour)
  back = run_page.read_sprite(png, 23, cols)
  assert back.shape == (23, 24, 40, 3) and cols == 5
  assert np.abs(back / 255.0 - colour / 255.0).max() <= 0.5 / 31 + 0.5 / 255   # 32 levels a channel
  assert np.array_equal(run_page.read_sprite(run_page.sprite(colour, 7, levels=256)[0], 23, 7), colour)
  full = len(run_page.sprite(colour, levels=256)[0])
  assert len(png) < 0.8 * full    # quantised: smaller than the 8-bit sprite
  pixels = colour[:5] / 255.0 * 0.9
  assert np.abs(run_page.read_sprite(run_page.sprite(pixels)[0], 5, 3) / 255.0 - pixels).max() <= 0.5 / 31 + 0.5 / 255
  grey = RNG.integers(0, 256, (10, 8, 8, 1)).astype(np.uint8)
  png, cols = run_page.sprite(grey)
  assert np.array_equal(run_page.read_sprite(png, 10, cols), np.round(grey / 255.0 * 15) * 17)
  assert np.array_equal(run_page.read_sprite(run_page.sprite(grey, levels=256)[0], 10, 4), grey)
  assert np.array_equal(run_page.read_sprite(run_page.sprite(grey[..., 0])[0], 10, 4)[..., 0],
                        np.round(grey[..., 0] / 255.0 * 15) * 17)   # [N, H, W] is grey too


def test_view_data_of_colour_images_with_class_names_and_without_labels(tmp_path):
  labels = RNG.integers(0, 3, 40)
  images = colour_images(labels)
  recon = np.clip(images / 255.0 * 0.9, 0, 1)
  view = run_page.view_data(RNG.normal(size=(40, 3)), labels, images, recon, NAMES)
  assert view["classes"] == list(NAMES) and view["label"] == labels.tolist()
  assert view["colors"] == [matplotlib.colors.to_hex(c) for c in plots.class_colors(3)]
  assert {k: view["sprite"][k] for k in ("width", "height", "channels", "shrunk")} == {
      "width": 40, "height": 24, "channels": 3, "shrunk": 1}
  assert np.abs(decode_sprite(view, "images", 40) / 255.0 - images / 255.0).max() <= 0.5 / 31 + 0.5 / 255
  assert np.abs(decode_sprite(view, "reconstructions", 40) / 255.0 - recon).max() <= 0.5 / 31 + 0.5 / 255
  assert np.allclose(view["mse"], np.mean((images / 255.0 - recon) ** 2, axis=(1, 2, 3)), atol=1e-4)
  unlabelled = run_page.view_data(RNG.normal(size=(40, 2)), None, images.astype(np.float32) / 255, recon)
  assert unlabelled["label"] is None and unlabelled["classes"] == [] and len(unlabelled["colors"]) == 1
  config = config_lib.AEConfig.from_flags(workdir=str(tmp_path))
  summary = {k: v for k, v in SUMMARY.items() if "accuracy" not in k}   # no labels: no class metrics
  run_page.write(str(tmp_path / "report.html"), config, "folder:/photos", summary, {}, str(tmp_path), unlabelled)
  text = (tmp_path / "report.html").read_text()
  assert "accuracy" not in text and "40 test images (no labels)" in text
  assert '<canvas id="image" width="40" height="24" style="width:112px;height:67px">' in text


def test_large_images_are_shrunk_for_the_page():
  assert run_page.thumbnail_factor(2000, (28, 28)) == run_page.thumbnail_factor(2000, (32, 32, 3)) == 1
  assert run_page.thumbnail_factor(2000, (96, 96, 3)) == 3 and run_page.thumbnail_factor(10, (1000, 600)) == 2
  images = RNG.random((3, 90, 61, 3))
  view = run_page.view_data(RNG.normal(size=(3, 2)), [0, 1, 1], images, images)
  assert view["sprite"]["shrunk"] == 1
  block = np.arange(5 * 3, dtype=float).reshape(1, 5, 3, 1) / 15   # 5 x 3 in 2 x 2 blocks, edges repeated
  small = plots.shrink(block, 2)
  assert small.shape == (1, 3, 2, 1)
  assert np.allclose(small[0, 0, 0], block[0, :2, :2].mean((0, 1)))
  assert np.allclose(small[0, 1, 1], block[0, 2:4, 2].mean(0)) and np.allclose(small[0, 2, 1], block[0, 4, 2])


def texts_of(fig):
  """(text, font size, inside the figure) of every text drawn."""
  found, draw_text = [], matplotlib.text.Text.draw

  def recording_draw(text, renderer):
    draw_text(text, renderer)
    if text.get_visible() and text.get_text().strip():
      box, page = text.get_window_extent(renderer), fig.bbox
      inside = box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1 and box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1
      found.append((text.get_text(), text.get_fontsize(), inside))

  with pytest.MonkeyPatch.context() as mp:
    mp.setattr(matplotlib.text.Text, "draw", recording_draw)
    fig.canvas.draw()
  assert found
  return found


def test_image_grid_draws_colour_and_grey_images_at_their_shape(tmp_path):
  labels = np.array([0, 1, 2])
  colour = colour_images(labels)
  fig = plots.image_grid({"original": colour, "reconstruction": colour / 255.0 * 0.5},
                         title="colour, 24 x 40", col_labels=list(NAMES))
  (image,) = fig.axes[0].get_images()
  canvas, gap = np.asarray(image.get_array()), plots.grid_gap((24, 40))
  assert canvas.shape == (2 * 24 + gap, 3 * 40 + 2 * gap, 3)
  for c in range(3):
    assert np.allclose(canvas[:24, c * (40 + gap):c * (40 + gap) + 40], colour[c] / 255.0)
    assert np.allclose(canvas[24 + gap:, c * (40 + gap):c * (40 + gap) + 40], colour[c] / 255.0 * 0.5, atol=1e-6)
  box = fig.axes[0].get_position()
  width, height = fig.get_size_inches()
  assert box.width * width / canvas.shape[1] == pytest.approx(box.height * height / canvas.shape[0], rel=1e-3)
  assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(NAMES)
  assert all(size >= plots.MIN_FONT and inside for _, size, inside in texts_of(fig))
  plots.save(fig, str(tmp_path / "colour.png"))
  grey = RNG.random((10, 8, 8, 1))
  fig = plots.image_grid({"a": grey, "b": 1 - grey}, title="grey, 8 x 8")
  (image,) = fig.axes[0].get_images()
  canvas = np.asarray(image.get_array())
  assert canvas.shape == (2 * 8 + 1, 10 * 9 - 1) and image.get_cmap().name == "gray"
  assert np.allclose(canvas[:8, 9:17], grey[1, ..., 0]) and np.allclose(canvas[9:, 18:26], 1 - grey[2, ..., 0])
  assert (*fig.get_size_inches(),) == pytest.approx(plots.grid_size(["a", "b"], 10, "grey, 8 x 8", None, (8, 8)))
  plots.save(fig, str(tmp_path / "grey.png"))
  assert (tmp_path / "grey.pdf").read_bytes()[:5] == b"%PDF-"
  upright = plots.image_grid({"x": colour}, col_labels=["a very long class name", "another long one", "c"])
  assert upright.axes[0].get_xticklabels()[0].get_rotation() == 90
  assert all(size >= plots.MIN_FONT and inside for _, size, inside in texts_of(upright))
  with pytest.raises(ValueError, match=r"\[N, H, W, C\]"):
    plots.image_grid({"flat": grey.reshape(10, 64)})


def keys_clear_axes(fig):
  """Whether every legend and colour bar sits apart from the other axes and their labels."""
  fig.canvas.draw()
  renderer = fig.canvas.get_renderer()
  bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
  keys = [legend.get_window_extent(renderer) for legend in fig.legends] + [
      bar.get_tightbbox(renderer) for bar in bars]
  plots_ = [ax.get_tightbbox(renderer) for ax in fig.axes if ax not in bars]
  return all(not key.overlaps(box) for key in keys for box in plots_)


@pytest.mark.parametrize("dims", [2, 3])
def test_latent_scatter_names_classes_in_a_legend_or_a_colour_bar(dims):
  codes = RNG.normal(size=(300, dims))
  labels = RNG.integers(0, 3, 300)
  fig = plots.latent_scatter(codes, labels, "three named classes", NAMES)
  (legend,) = fig.legends
  assert [t.get_text() for t in legend.get_texts()] == list(NAMES) and legend.get_title().get_text() == "class"
  colours = fig.axes[-1].collections[0].get_facecolors()
  assert np.allclose(colours, plots.class_colors(3)[labels])
  assert keys_clear_axes(fig) and all(size >= plots.MIN_FONT and inside for _, size, inside in texts_of(fig))
  many = RNG.integers(0, 100, 300)
  fig = plots.latent_scatter(codes, many, "a hundred classes", [f"class {c}" for c in range(100)])
  entries = sum(len(legend.get_texts()) for legend in fig.legends) + sum(
      len(ax.get_legend().get_texts()) for ax in fig.axes if ax.get_legend())
  assert entries <= 12
  (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
  names = [t.get_text() for t in bar.get_xticklabels()]
  assert 3 <= len(names) <= 6 and names[0] == "class 0" and names[-1] == "class 99"
  assert len(np.unique(fig.axes[-2].collections[0].get_facecolors(), axis=0)) == len(np.unique(many))
  assert keys_clear_axes(fig) and all(size >= plots.MIN_FONT and inside for _, size, inside in texts_of(fig))
  fig = plots.latent_scatter(codes, None, "no labels")
  assert not fig.legends and all(ax.get_label() != "<colorbar>" for ax in fig.axes)
  assert len(np.unique(fig.axes[-1].collections[0].get_facecolors(), axis=0)) == 1
  assert tuple(fig.get_size_inches()) == plots.LATENT_SIZES[dims]


def test_latent_scatter_of_a_1d_code_names_its_classes_on_the_axis():
  labels = RNG.integers(0, 3, 100)
  fig = plots.latent_scatter(RNG.normal(size=(100, 1)), labels, "1-d", NAMES)
  assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == list(NAMES)
  assert keys_clear_axes(fig) and all(size >= plots.MIN_FONT and inside for _, size, inside in texts_of(fig))
  fig = plots.latent_scatter(RNG.normal(size=(100, 1)), None, "1-d, no labels")
  assert not fig.legends and len(fig.axes[0].get_yticks()) == 0


def test_mnist_latent_picture_keeps_its_size_and_digit_legend():
  labels = RNG.integers(0, 10, 300)
  fig = plots.latent_scatter(RNG.normal(size=(300, 3)), labels, "digits", [str(c) for c in range(10)])
  assert tuple(fig.get_size_inches()) == plots.LATENT_SIZES[3]
  assert [t.get_text() for t in fig.legends[0].get_texts()] == [str(c) for c in range(10)]
  assert fig.legends[0]._ncols == 10   # one row, as before
  tab10 = plots.CLASS_COLORS(np.arange(10))
  assert np.allclose([h.get_color() for h in fig.legends[0].legend_handles], tab10)
  assert np.allclose(fig.axes[-1].collections[0].get_facecolors(), tab10[labels])


def hover_top_dot(tab):
  """Points at the dot drawn last (on top) of the page open in `tab`; returns its index."""
  tab.locator("#view").scroll_into_view_if_needed()
  tab.wait_for_function("document.getElementById('view').width > 0 && window.aejaxView")
  origin = tab.evaluate("(() => { const c = document.getElementById('view'), r = c.getBoundingClientRect(); "
                        "return [r.left + c.clientLeft, r.top + c.clientTop]; })()")
  i = tab.evaluate("window.aejaxView.shown()")[-1]
  tab.mouse.move(*[o + v for o, v in zip(origin, tab.evaluate(f"window.aejaxView.project({i})"))])
  assert tab.evaluate("window.aejaxView.state.hover") == i
  return i


def test_colour_many_classes_and_unlabelled_views_in_headless_chromium(browser, tmp_path):
  n = 150
  labels = np.arange(n) % 100
  names = [f"kind {c}" for c in range(100)]
  names[labels[0]] = "<b>cat</b> & co"
  colour = colour_images(labels)
  view = run_page.view_data(RNG.normal(size=(n, 3)), labels, colour, colour, names)
  config = config_lib.AEConfig.from_flags(workdir=str(tmp_path))
  run_page.write(str(tmp_path / "colour.html"), config, "folder:/photos", SUMMARY, {}, str(tmp_path), view)
  grey = RNG.integers(0, 256, (60, 8, 8, 1)).astype(np.uint8)
  plain = run_page.view_data(RNG.normal(size=(60, 2)), None, grey, grey)
  run_page.write(str(tmp_path / "plain.html"), config, "folder:/scans", SUMMARY, {}, str(tmp_path), plain)
  few = run_page.view_data(RNG.normal(size=(60, 2)), np.arange(60) % 3, grey, grey, ["<i>a</i>", "b & c", "d"])
  run_page.write(str(tmp_path / "few.html"), config, "folder:/scans", SUMMARY, {}, str(tmp_path), few)
  context = browser.new_context(viewport={"width": 1000, "height": 800})
  try:
    tab = context.new_page()
    errors, requests = [], []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("request", lambda r: requests.append(r.url))

    tab.goto("file://" + str(tmp_path / "colour.html"))
    assert tab.evaluate("[document.getElementById('image').width, document.getElementById('image').height]") == [40, 24]
    box = tab.locator("#image").bounding_box()
    assert box["width"] - 2 == pytest.approx(112) and box["height"] - 2 == pytest.approx(67)   # 1 px border
    i = hover_top_dot(tab)
    tab.wait_for_function("document.getElementById('tip').textContent.startsWith('class')")
    assert tab.inner_text("#tip").startswith(f"class {names[labels[i]]}, z = (")
    for canvas in ("image", "recon"):
      assert np.abs(canvas_pixels(tab, canvas) / 255.0 - colour[i] / 255.0).max() <= 0.5 / 31 + 1.5 / 255, canvas
    legend = tab.inner_text("#legend")
    assert "<b>cat</b> & co" in legend and "kind 99" in legend and tab.locator("#legend b").count() == 0
    assert tab.locator("#legend button").count() == 0
    assert tab.locator("#pick option").count() == 1 + 100
    tab.select_option("#pick", str(labels[i]))
    assert sorted(tab.evaluate("window.aejaxView.shown()")) == [k for k in range(n) if labels[k] == labels[i]]
    tab.select_option("#pick", "-1")
    assert len(tab.evaluate("window.aejaxView.shown()")) == n

    tab.goto("file://" + str(tmp_path / "plain.html"))
    assert tab.inner_text("#legend").strip() == ""
    i = hover_top_dot(tab)
    tab.wait_for_function("document.getElementById('tip').textContent.startsWith('test image')")
    assert tab.inner_text("#tip").startswith(f"test image {i + 1}, z = (")
    shown = canvas_pixels(tab, "image")
    assert shown.shape == (8, 8, 3) and np.array_equal(shown[..., 0], np.round(grey[i, ..., 0] / 255.0 * 15) * 17)
    assert len(tab.evaluate("window.aejaxView.shown()")) == 60

    tab.goto("file://" + str(tmp_path / "few.html"))
    assert tab.locator("#legend button").all_inner_texts() == ["<i>a</i>", "b & c", "d"]
    assert tab.locator("#legend i").count() == 0 and tab.locator("#legend button span").count() == 3
    assert errors == [] and all(u.startswith(("file:", "data:")) for u in requests), (errors, requests)
  finally:
    context.close()


def test_grid_indices_of_labels_many_classes_and_none():
  labels = np.array([2, 0, 2, 1, 0, 1])
  assert progress.grid_indices(labels).tolist() == [1, 3, 0]
  many = np.arange(300) % 100
  idx = progress.grid_indices(many)
  assert len(idx) == progress.GRID_COLUMNS and many[idx[0]] == 0 and many[idx[-1]] == 99
  assert np.all(np.diff(many[idx]) > 0)
  assert progress.grid_indices(None, 50).tolist() == list(range(10))
  assert progress.grid_indices(None, 4).tolist() == [0, 1, 2, 3]


def drawn_pictures(monkeypatch, tmp_path, dataset):
  """Runs pictures.draw on `dataset` with stand-ins for the model (pixels
  [N, H, W, C] in and out); returns {picture: (title, column labels, canvas, legends)}."""
  shape = dataset.image_shape
  monkeypatch.setattr(train, "reconstruct", lambda state, pixels: np.asarray(pixels) * 0.5)
  monkeypatch.setattr(train, "decode", lambda state, z: np.ones((len(z), *shape)) * 0.5 + 0.1 * np.tanh(
      np.asarray(z)[:, :1, None, None]))
  monkeypatch.setattr(pictures, "grid_rows", lambda state, x, key: (np.asarray(x) * 0.2, np.asarray(x) * 0.4,
                                                                     np.asarray(x) * 0.6))
  drawn = {}

  def save(fig, path):
    ax = fig.axes[0]
    drawn[os.path.basename(path)] = (fig._suptitle.get_text(), [t.get_text() for t in ax.get_xticklabels()],
                                     [np.asarray(im.get_array()) for im in ax.get_images()], len(fig.legends))
    fig.savefig(path, dpi=20)
    matplotlib.pyplot.close(fig)

  monkeypatch.setattr(plots, "save", save)
  tmp_path.mkdir()
  pixels = dataset.test_images / 255.0
  config = config_lib.DAEConfig.from_flags(corruption="masking", noise=0.3, epochs=2, latent_dim=2,
                                           workdir=str(tmp_path))
  history = [{"epoch": e, "train_loss": 0.1 / e, "train_mse": 0.05 / e, "test_loss": 0.1, "test_mse": 0.05}
             for e in (1, 2)]
  codes = RNG.normal(size=(len(pixels), 2))
  pictures.draw(str(tmp_path), config, dataset, None, None, pixels, codes, history, dict(SUMMARY), {})
  return drawn


def test_draw_names_classes_and_draws_unlabelled_colour_images(monkeypatch, tmp_path):
  labels = np.arange(60) % 12
  names = tuple(f"kind {c}" for c in range(12))
  images = colour_images(labels)
  dataset = types.SimpleNamespace(test_images=images, test_labels=labels, class_names=names,
                                  image_shape=(24, 40, 3), source="folder:/photos", name="photos")
  drawn = drawn_pictures(monkeypatch, tmp_path / "named", dataset)
  idx = progress.grid_indices(labels)
  title, columns, (canvas,), _ = drawn["reconstructions.png"]
  assert columns == [names[labels[i]] for i in idx] and columns[0] == "kind 0" and columns[-1] == "kind 11"
  gap = plots.grid_gap((24, 40))
  assert canvas.shape == (4 * (24 + gap) - gap, 10 * (40 + gap) - gap, 3)
  assert np.allclose(canvas[:24, 40 + gap:80 + gap], images[idx[1]] / 255.0)
  assert np.allclose(canvas[-24:, :40], images[idx[0]] * 0.6 / 255.0)
  title = drawn["interpolation.png"][0].replace("\n", " ")
  assert f"a test {names[labels[idx[0]]]} to that of a test {names[labels[idx[1]]]}" in title
  assert all("digit" not in picture[0] for picture in drawn.values())
  assert drawn["latent.png"][3] == 0   # 12 classes: a colour bar, no legend
  page = (tmp_path / "named" / "report.html").read_text()
  view = json.loads(re.search(r'<script id="view-data" type="application/json">(.*?)</script>', page, re.S).group(1))
  assert view["classes"] == list(names) and view["sprite"]["width"] == 40

  unlabelled = types.SimpleNamespace(test_images=images, test_labels=None, class_names=(), image_shape=(24, 40, 3),
                                     source="folder:/photos", name="photos")
  drawn = drawn_pictures(monkeypatch, tmp_path / "plain", unlabelled)
  _, columns, (canvas,), _ = drawn["reconstructions.png"]
  assert columns == [] and np.allclose(canvas[:24, 9 * (40 + gap):], images[9] / 255.0)
  assert "from the code of test image 1 to that of test image 2" in drawn["interpolation.png"][0].replace("\n", " ")
  assert drawn["latent.png"][3] == 0
  assert "(no labels)" in (tmp_path / "plain" / "report.html").read_text()
  assert os.path.isdir(tmp_path / "plain" / "tensorboard")
