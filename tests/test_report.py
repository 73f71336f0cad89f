"""report.html: one offline page whose data, title, provenance and script are checked
here on a report of known content, and whose view is driven in headless Chromium
when one is installed (`apt-get install chromium` and `pip install playwright`)."""
import base64
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from aejax import config as config_lib
from aejax import report

RNG = np.random.default_rng(0)
N = 300
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROVENANCE = {"started": "2026-11-28T08:00:00+00:00", "finished": "2026-11-28T08:02:03+00:00",
              "seconds": 123.4, "host": "testhost", "processes": 1, "device": "1 x cpu (cpu)",
              "git_commit": "0123abcd+dirty", "versions": {"python": "3.11.2", "jax": "0.10.2"}}
SUMMARY = {"test_mse": 0.0432, "test_psnr": 13.6, "knn_accuracy": 0.786, "linear_probe_accuracy": 0.738,
           "trustworthiness": 0.923, "continuity": 0.909, "noisy_input_mse": 0.0568, "denoised_mse": 0.0489}
SUMMARY.update({f"pca_{k}": v / 2 for k, v in SUMMARY.items()})


def blobs(labels):
  """[n, 784] uint8 digits: a bright blob whose place depends on the class."""
  yy, xx = np.mgrid[:28, :28]
  cy, cx = 6 + (labels // 4) * 7, 5 + (labels % 4) * 6
  images = 255 * np.exp(-((yy - cy[:, None, None]) ** 2 + (xx - cx[:, None, None]) ** 2) / 12.0)
  return images.reshape(len(labels), 784).round().astype(np.uint8)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
  """(path, html, view, codes, images, reconstructions, config) of a report of known content."""
  folder = tmp_path_factory.mktemp("report")
  labels = RNG.integers(0, 10, N)
  centres = RNG.normal(size=(10, 3)) * np.array([12.0, 4.0, 2.0])   # stretched: z1 spans most
  codes = centres[labels] + 0.5 * RNG.normal(size=(N, 3))
  images = blobs(labels)
  reconstructions = np.clip(images / 255.0 * 0.8 + 0.05 * RNG.random((N, 784)), 0, 1)
  config = config_lib.DAEConfig(corruption="masking", noise=0.3, epochs=7, workdir=str(folder))
  view = report.view_data(codes, labels, images, reconstructions)
  history = [{"epoch": e, "samples_per_s": 1000.0 * e} for e in range(1, 5)]
  path = str(folder / "report.html")
  report.write(path, config, "idx:/data/mnist", SUMMARY, {}, str(folder), view, PROVENANCE, history)
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
  assert title.startswith("DAE (masking, 30% of pixels)")
  assert "denoised MSE 0.0489 (corrupted input 0.0568)" in title and "clean input 0.0432" in title
  assert "3-d code" in title and "7 epochs" in title


def test_provenance_table_lists_every_setting_and_where_the_run_was_made(page):
  _, text, *_, config = page
  table = text[text.index('<table id="run">'):]
  rows = dict(re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td></tr>", table))
  for field, value in vars(config).items():
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
  decode = lambda uri: report.read_sprite(base64.b64decode(uri.split(",", 1)[1]), N, sprite["cols"])
  assert np.array_equal(decode(sprite["images"]), np.round(images / 255.0 * 15) * 17)
  assert np.abs(decode(sprite["reconstructions"]) / 255.0 - reconstructions).max() <= 0.5 / 15 + 1e-9
  assert np.allclose(view["mse"], np.mean((images / 255.0 - reconstructions) ** 2, axis=1), atol=1e-4)
  for lo, hi in ((-38.2, 1.7), (0.012, 0.049), (-3, 3), (1e-5, 9e-5)):
    ticks = np.array(report.nice_ticks(lo, hi))
    step = ticks[1] - ticks[0]
    assert 3 <= len(ticks) <= 10 and lo <= ticks[0] and ticks[-1] <= hi and np.allclose(np.diff(ticks), step)
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-6 and np.allclose(ticks / step, np.round(ticks / step))
  assert report.nice_ticks(-38.2, 1.7) == [-30, -20, -10, 0] or report.nice_ticks(-38.2, 1.7)[0] == -35


def test_view_data_of_codes_of_other_sizes():
  labels = RNG.integers(0, 10, 50)
  images = blobs(labels)
  two = report.view_data(RNG.normal(size=(50, 2)), labels, images, images)
  assert two["dims"] == 2 and np.all(np.array(two["p"])[:, 2] == 0) and two["ticks"][2] == []
  eight = report.view_data(RNG.normal(size=(50, 8)), labels, images, images)
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


BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed")
def test_view_in_headless_chromium(page, tmp_path):
  playwright = pytest.importorskip("playwright.sync_api")
  path, _, view, _, images, reconstructions, _ = page
  with playwright.sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    try:
      context = browser.new_context(viewport={"width": 1000, "height": 800}, device_scale_factor=2,
                                    has_touch=True)
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
      tab.wait_for_function("document.getElementById('tip').textContent.startsWith('digit')")
      grey = lambda canvas: np.array(js(
          f"Array.from(document.getElementById('{canvas}').getContext('2d').getImageData(0, 0, 28, 28).data)"))[::4]
      assert np.array_equal(grey("digit"), np.round(images[i] / 255.0 * 15) * 17)
      assert np.abs(grey("recon") / 255.0 - reconstructions[i]).max() <= 0.5 / 15 + 1 / 255
      assert tab.inner_text("#tip").startswith(f"digit {view['label'][i]}, z = (")
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
      tab.click(f"#legend button[data-digit='{digit}']")
      assert tab.get_attribute(f"#legend button[data-digit='{digit}']", "aria-pressed") == "false"
      hidden = js("window.aejaxView.shown()")
      assert hidden and all(view["label"][k] != digit for k in hidden)
      assert len(hidden) == sum(1 for label in view["label"] if label != digit)
      assert js("window.aejaxView.state.hover") == -1
      tab.screenshot(path=str(tmp_path / "toggled.png"))
      tab.click(f"#legend button[data-digit='{digit}']")
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
      browser.close()


def test_titles_name_the_augmentation():
  config = config_lib
  assert report.run_kind(config.AEConfig()) == "AE"
  assert report.run_kind(config.AEConfig(augmentation="affine", rotation=5.0, shift=1.0, scale=0.05)) == (
      "AE (augmented: up to 5° turned, 1 px moved, 5% resized)")
  assert report.run_kind(config.DAEConfig(augmentation="affine")) == (
      "DAE (gaussian noise, std 0.5; augmented: up to 10° turned, 1.5 px moved, 10% resized)")
