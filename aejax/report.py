"""report.html: one self-contained page (no network needed) with the metrics of a
run beside PCA, a 3-d view of the code space, the pictures inlined, and the
run's provenance.

The view draws the codes on equal-scale axes with ticks in code units; drag (or
one finger) rotates, the wheel (or two fingers) zooms, the dot nearest the
pointer is highlighted and its test digit and reconstruction are shown, and the
legend toggles classes. Its data sit in a JSON block (`<script id="view-data">`):
positions, ticks, labels, codes, and the digits as two PNG sprites.
"""
import base64
import dataclasses
import html
import io
import json
import math
import os
import statistics

import numpy as np
from PIL import Image

from aejax import plots

ROWS = [  # (summary key, label, units)
    ("test_mse", "test per-pixel MSE", "[0, 1] units, lower is better"),
    ("test_psnr", "test PSNR", "dB, higher is better"),
    ("knn_accuracy", "5-NN accuracy of the codes", "fraction"),
    ("linear_probe_accuracy", "linear-probe accuracy", "fraction"),
    ("trustworthiness", "trustworthiness (k = 5)", "1 is best"),
    ("continuity", "continuity (k = 5)", "1 is best"),
]
SIDE = 28  # pixels of a digit's side


def corruption_phrase(corruption, noise):
  """'gaussian noise, std 0.5' -style words for a corruption at a level."""
  if corruption == "gaussian":
    return f"gaussian noise, std {noise:g}"
  if corruption in ("masking", "salt_and_pepper"):
    return f"{corruption.replace('_', ' ')}, {noise:.0%} of pixels"
  return f"{corruption} {noise:g}"


def run_kind(config):
  """'AE', 'DAE (gaussian noise, std 0.5)', and with an augmentation its ranges:
  'AE (augmented: up to 5° turned, 1 px moved, 5% resized)'."""
  corruption = getattr(config, "corruption", "none")
  details = [] if corruption == "none" else [corruption_phrase(corruption, config.noise)]
  if getattr(config, "augmentation", "none") != "none":
    details.append(f"augmented: up to {config.rotation:g}° turned, {config.shift:g} px moved, "
                   f"{config.scale:.0%} resized")
  name = "AE" if corruption == "none" else "DAE"
  return f"{name} ({'; '.join(details)})" if details else name


def headline(config, summary):
  """The run's result in one phrase: the test MSE, and for a DAE the denoised
  MSE of the corrupted test input beside that input's own MSE."""
  if getattr(config, "corruption", "none") != "none" and "denoised_mse" in summary:
    return (f"denoised MSE {summary['denoised_mse']:.4f} (corrupted input {summary['noisy_input_mse']:.4f}), "
            f"clean input {summary['test_mse']:.4f}")
  return f"test MSE {summary['test_mse']:.4f}"


def title(config, summary):
  """The report's title: model, corruption, code size, objective, epochs and the headline."""
  parts = [run_kind(config)]
  if getattr(config, "architecture", None):
    parts.append(config.architecture)
  parts += [f"{config.latent_dim}-d code", f"{config.loss} objective", f"{config.epochs} epochs"]
  return ", ".join(parts) + ": " + headline(config, summary) + " (per pixel, [0, 1] units)"


def sprite(images, cols=None, levels=16):
  """[N, SIDE*SIDE] pixels in [0, 1] (or uint8) -> (PNG bytes of a grid of
  `cols` digits per row, cols): digit i at row i // cols, column i % cols, at
  `levels` grey levels (thumbnails: 16 keep the file small)."""
  images = np.asarray(images) / 255.0 if np.asarray(images).dtype == np.uint8 else np.asarray(images, np.float64)
  images = (np.round(np.clip(images, 0, 1) * (levels - 1)) * (255 // (levels - 1))).astype(np.uint8)
  n = len(images)
  cols = cols or max(1, math.ceil(math.sqrt(n)))
  rows = math.ceil(n / cols)
  canvas = np.zeros((rows * cols, SIDE, SIDE), np.uint8)
  canvas[:n] = images.reshape(n, SIDE, SIDE)
  canvas = canvas.reshape(rows, cols, SIDE, SIDE).transpose(0, 2, 1, 3).reshape(rows * SIDE, cols * SIDE)
  buffer = io.BytesIO()
  Image.fromarray(canvas, mode="L").save(buffer, format="PNG", optimize=True)
  return buffer.getvalue(), cols


def read_sprite(png, n, cols):
  """The inverse of `sprite`: [n, SIDE*SIDE] uint8 digits."""
  grid = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
  rows = grid.shape[0] // SIDE
  tiles = grid.reshape(rows, SIDE, cols, SIDE).transpose(0, 2, 1, 3).reshape(rows * cols, SIDE * SIDE)
  return tiles[:n]


def nice_ticks(lo, hi, target=5):
  """Round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi]."""
  raw = (hi - lo) / target
  if raw <= 0:
    return [lo]
  power = 10 ** math.floor(math.log10(raw))
  step = min((m * power for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
  first = math.ceil(lo / step) * step
  return [round(first + k * step, 10) for k in range(int(math.floor((hi - first) / step + 1e-9)) + 1)]


def view_data(codes, labels, images, reconstructions):
  """The viewer's data: codes [N, d], labels [N], test digits and their
  reconstructions [N, SIDE*SIDE] in [0, 1] (or uint8).

  `p` [N, 3] are the drawn coordinates (the code for d <= 3, zero-padded; else
  its first 3 principal axes), (coordinate - centre) / half, one `half` for
  every axis, so all axes share one scale; `ticks` hold round values in code
  units per axis, `names` the axes' names."""
  coords, names = plots.code_axes(codes)
  limits = plots.equal_limits(coords)
  centre, half = limits.mean(1), float(limits[0, 1] - limits[0, 0]) / 2
  p = np.zeros((len(coords), 3))
  p[:, :coords.shape[1]] = (coords - centre) / half
  ticks = [nice_ticks(lo, hi) for lo, hi in limits] + [[]] * (3 - coords.shape[1])
  pixels = lambda x: np.asarray(x, np.float64) / (255.0 if np.asarray(x).dtype == np.uint8 else 1.0)
  mse = np.mean(np.square(pixels(images) - pixels(reconstructions)), axis=1)
  image_png, cols = sprite(images)
  recon_png, _ = sprite(reconstructions, cols)
  data_uri = lambda png: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
  return {
      "names": names + [""] * (3 - len(names)), "dims": int(np.asarray(codes).shape[1]),
      "centre": [float(c) for c in centre] + [0.0] * (3 - len(centre)), "half": half,
      "ticks": ticks, "p": np.round(p, 4).tolist(), "z": np.round(np.asarray(codes, np.float64), 3).tolist(),
      "label": [int(l) for l in labels], "mse": np.round(mse, 4).tolist(),
      "sprite": {"cols": cols, "side": SIDE, "images": data_uri(image_png),
                 "reconstructions": data_uri(recon_png)},
  }


def _value(value):
  if isinstance(value, float):
    return f"{value:.6g}"
  if value is None:
    return "-"
  return str(value)


def provenance_rows(config, provenance=None, history=None):
  """(name, value) rows: every config field, the corruption, then every entry of
  `provenance` (nested dicts flattened as 'versions: jax'), and the median
  training throughput of `history` (metrics.jsonl records)."""
  fields = dataclasses.asdict(config) if dataclasses.is_dataclass(config) else dict(config)
  for name in ("corruption", "noise"):
    fields.setdefault(name, getattr(config, name, None))
  rows = [(f"config: {k}", _value(v)) for k, v in fields.items()]
  for key, value in (provenance or {}).items():
    if isinstance(value, dict):
      rows += [(f"{key}: {k}", _value(v)) for k, v in value.items()]
    elif key == "seconds" and isinstance(value, (int, float)):
      rows.append(("duration", f"{value:.1f} s ({int(value) // 60} min {value % 60:.0f} s)"))
    else:
      rows.append((key, _value(value)))
  rates = [r["samples_per_s"] for r in history or [] if r.get("samples_per_s")]
  if rates:
    rows.append(("training samples/s (median over epochs after the first)",
                 f"{statistics.median(rates[1:] or rates):,.0f}"))
  return rows


def read_recorded_provenance(workdir):
  """The provenance stored in `workdir`/summary.json, if any (a re-analysed run)."""
  path = os.path.join(workdir, "summary.json")
  try:
    with open(path) as f:
      return json.load(f).get("provenance")
  except (OSError, ValueError, AttributeError):
    return None


VIEWER_STYLE = """
#viewer{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
#view{width:min(640px,100%);height:560px;border:1px solid #ccc;cursor:grab;touch-action:none;display:block}
#side{width:260px;font-size:13px}
#side canvas{width:112px;height:112px;image-rendering:pixelated;border:1px solid #ccc;background:#000}
#legend{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0}
#legend button{font:inherit;border:1px solid #bbb;background:#fff;border-radius:3px;padding:2px 7px;cursor:pointer}
#legend button[aria-pressed=false]{opacity:0.35;text-decoration:line-through}
#legend span{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
"""

VIEWER = """
<div id="legend"></div>
<div id="viewer">
<canvas id="view" aria-label="3-d view of the test codes"></canvas>
<div id="side">
<div><figure style="display:inline-block;margin:0 8px 0 0"><canvas id="digit" width="28" height="28"></canvas>
<figcaption>test digit</figcaption></figure><figure style="display:inline-block;margin:0">
<canvas id="recon" width="28" height="28"></canvas><figcaption>reconstruction</figcaption></figure></div>
<p id="tip">Point at a dot (or tap it) to see its digit.</p>
<p style="color:#555">Drag or one finger: rotate. Wheel or two fingers: zoom where you point. Double-click: reset.
Legend: show or hide a class.</p>
</div></div>
<script>
(function () {
const D = JSON.parse(document.getElementById("view-data").textContent);
const colors = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
const canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
const tip = document.getElementById("tip");
const flat = D.dims < 3;
const start = {yaw: flat ? 0 : 0.6, pitch: flat ? 0 : 0.35, zoom: 1, panX: 0, panY: 0};
const S = Object.assign({hidden: new Set(), hover: -1}, start);
const sprites = {};
let width = 0, height = 0, shown = [];
function loadSprite(name) {
  const img = new Image();
  img.onload = () => { sprites[name] = img; showDigit(); };
  img.src = D.sprite[name];
}
function resize() {
  const dpr = window.devicePixelRatio || 1;
  width = canvas.clientWidth; height = canvas.clientHeight;
  canvas.width = Math.round(width * dpr); canvas.height = Math.round(height * dpr);
  ctx.setTransform(canvas.width / width, 0, 0, canvas.height / height, 0, 0);
  draw();
}
function project(p) {
  const cy = Math.cos(S.yaw), sy = Math.sin(S.yaw), cp = Math.cos(S.pitch), sp = Math.sin(S.pitch);
  const x = cy * p[0] + sy * p[2], z0 = -sy * p[0] + cy * p[2];
  const y = cp * p[1] - sp * z0, depth = sp * p[1] + cp * z0;
  const s = Math.min(width, height) * 0.27 * S.zoom;
  return [width / 2 + S.panX + s * x, height / 2 + S.panY - s * y, depth];
}
function zoomAt(factor, x, y) {
  const f = Math.max(0.2, Math.min(50, S.zoom * factor)) / S.zoom;
  S.panX = (x - width / 2) - f * (x - width / 2 - S.panX);
  S.panY = (y - height / 2) - f * (y - height / 2 - S.panY);
  S.zoom *= f;
}
function pos(value, axis) { return (value - D.centre[axis]) / D.half; }
function line(a, b) { const p = project(a), q = project(b); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); }
function fmt(v) { return Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : String(+v.toFixed(4)); }
function drawAxes() {
  const dims = Math.max(1, Math.min(3, D.dims)), lo = [-1, -1, flat ? 0 : -1];
  ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1; ctx.beginPath();
  if (!flat) {
    for (const a of [-1, 1]) for (const b of [-1, 1]) {
      line([-1, a, b], [1, a, b]); line([a, -1, b], [a, 1, b]); line([a, b, -1], [a, b, 1]);
    }
  } else { for (const a of [-1, 1]) { line([-1, a, 0], [1, a, 0]); line([a, -1, 0], [a, 1, 0]); } }
  ctx.stroke();
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#333"; ctx.strokeStyle = "#888";
  for (let axis = 0; axis < dims; axis++) {
    const end = lo.slice(); end[axis] = 1;
    ctx.beginPath(); line(lo, end); ctx.stroke();
    const off = axis === 0 ? [0, -0.06, 0] : axis === 1 ? [-0.06, 0, 0] : [-0.06, -0.06, 0];
    for (const t of D.ticks[axis]) {
      const q = lo.slice(); q[axis] = pos(t, axis);
      const tickEnd = q.map((v, k) => v + off[k]);
      ctx.beginPath(); line(q, tickEnd); ctx.stroke();
      if (axis === 2 && q[2] < -0.85) continue;  // the corner's label is z1's
      const label = project(q.map((v, k) => v + 2.6 * off[k]));
      ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillText(fmt(t), label[0], label[1]);
    }
    const name = lo.slice(); name[axis] = 1.15;
    const n = project(name.map((v, k) => v + 3 * off[k]));
    ctx.font = "bold 12px sans-serif"; ctx.fillText(D.names[axis], n[0], n[1]); ctx.font = "11px sans-serif";
  }
}
function draw() {
  ctx.clearRect(0, 0, width, height);
  drawAxes();
  shown = [];
  for (let i = 0; i < D.p.length; i++) {
    if (S.hidden.has(D.label[i])) continue;
    const q = project(D.p[i]); shown.push({i: i, x: q[0], y: q[1], depth: q[2]});
  }
  shown.sort((a, b) => a.depth - b.depth);
  for (const q of shown) {
    ctx.fillStyle = colors[D.label[q.i] % 10];
    ctx.beginPath(); ctx.arc(q.x, q.y, 2.6, 0, 2 * Math.PI); ctx.fill();
  }
  const h = shown.find(q => q.i === S.hover);
  if (h) {
    ctx.fillStyle = colors[D.label[h.i] % 10]; ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(h.x, h.y, 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
}
function nearest(x, y, radius) {
  let best = -1, bestD = radius * radius;
  for (const q of shown) { const d = (q.x - x) ** 2 + (q.y - y) ** 2; if (d <= bestD) { best = q.i; bestD = d; } }
  return best;
}
function drawTile(id, name, i) {
  const c = document.getElementById(id).getContext("2d"), side = D.sprite.side, cols = D.sprite.cols;
  c.imageSmoothingEnabled = false; c.clearRect(0, 0, side, side);
  if (i >= 0 && sprites[name])
    c.drawImage(sprites[name], (i % cols) * side, Math.floor(i / cols) * side, side, side, 0, 0, side, side);
}
function showDigit() {
  const i = S.hover;
  drawTile("digit", "images", i); drawTile("recon", "reconstructions", i);
  tip.textContent = i < 0 ? "Point at a dot (or tap it) to see its digit." :
    "digit " + D.label[i] + ", z = (" + D.z[i].join(", ") + "), reconstruction MSE " + D.mse[i] + " ([0, 1] units)";
}
function setHover(i) { if (i !== S.hover) { S.hover = i; draw(); showDigit(); } }
function local(x, y) {
  const r = canvas.getBoundingClientRect();
  return [x - r.left - canvas.clientLeft, y - r.top - canvas.clientTop];
}
function hoverAt(e, radius) { const q = local(e.clientX, e.clientY); setHover(nearest(q[0], q[1], radius)); }
const pointers = new Map();
let moved = 0;
canvas.addEventListener("pointerdown", e => {
  canvas.setPointerCapture(e.pointerId); pointers.set(e.pointerId, [e.clientX, e.clientY]);
  moved = 0; canvas.style.cursor = "grabbing";
});
canvas.addEventListener("pointermove", e => {
  if (!pointers.has(e.pointerId)) { if (e.pointerType === "mouse") hoverAt(e, 14); return; }
  const last = pointers.get(e.pointerId), dx = e.clientX - last[0], dy = e.clientY - last[1];
  moved += Math.abs(dx) + Math.abs(dy);
  if (pointers.size === 1) {
    S.yaw += dx * 0.01; S.pitch = Math.max(-1.57, Math.min(1.57, S.pitch + dy * 0.01));
  } else if (pointers.size === 2) {
    const other = [...pointers].find(([id]) => id !== e.pointerId)[1];
    const before = Math.hypot(last[0] - other[0], last[1] - other[1]);
    const after = Math.hypot(e.clientX - other[0], e.clientY - other[1]);
    const mid = local((e.clientX + other[0]) / 2, (e.clientY + other[1]) / 2);
    if (before > 0) zoomAt(after / before, mid[0], mid[1]);
  }
  pointers.set(e.pointerId, [e.clientX, e.clientY]); draw();
});
function release(e) {
  pointers.delete(e.pointerId);
  if (!pointers.size) { canvas.style.cursor = "grab"; if (moved < 6) hoverAt(e, 24); }
}
canvas.addEventListener("pointerup", release);
canvas.addEventListener("pointercancel", release);
canvas.addEventListener("pointerleave", e => { if (e.pointerType === "mouse" && !pointers.size) setHover(-1); });
canvas.addEventListener("wheel", e => {
  e.preventDefault(); const q = local(e.clientX, e.clientY);
  zoomAt(Math.exp(-e.deltaY * 0.0015), q[0], q[1]); draw();
}, {passive: false});
canvas.addEventListener("dblclick", () => { Object.assign(S, start); draw(); });
const legend = document.getElementById("legend");
[...new Set(D.label)].sort((a, b) => a - b).forEach(c => {
  const b = document.createElement("button");
  b.innerHTML = '<span style="background:' + colors[c % 10] + '"></span>' + c;
  b.setAttribute("aria-pressed", "true"); b.dataset.digit = c; b.title = "show or hide the " + c + "s";
  b.onclick = () => {
    if (S.hidden.has(c)) S.hidden.delete(c); else S.hidden.add(c);
    b.setAttribute("aria-pressed", String(!S.hidden.has(c)));
    if (S.hidden.has(D.label[S.hover])) setHover(-1); else draw();
  };
  legend.appendChild(b);
});
window.addEventListener("resize", resize);
if (window.matchMedia) matchMedia("(resolution: " + (window.devicePixelRatio || 1) + "dppx)").addEventListener("change", resize);
loadSprite("images"); loadSprite("reconstructions");
resize();
window.aejaxView = {state: S, project: i => project(D.p[i]).slice(0, 2), shown: () => shown.map(q => q.i)};
})();
</script>
"""


def _script_json(obj):
  """JSON safe inside a <script> element."""
  return json.dumps(obj, separators=(",", ":")).replace("</", "<\\/")


def write(path, config, source, summary, pictures, workdir, view, provenance=None, history=None):
  """Writes the report of a run on data `source`: `summary` metrics with their
  `pca_` twins, the PNG files named in `pictures` (name -> caption) from
  `workdir`, the viewer over `view` (as `view_data` returns), and the provenance
  table of `config`, `provenance` (aejax.provenance.collect; when None, what
  `workdir`/summary.json records) and `history`."""
  esc = html.escape
  rows = "".join(
      f"<tr><td>{esc(label)}</td><td>{summary[key]:.4f}</td><td>{summary['pca_' + key]:.4f}</td>"
      f"<td>{esc(units)}</td></tr>" for key, label, units in ROWS)
  extra = ""
  if "denoising" in summary:
    extra = ("<h2>Denoising</h2><p>Per-pixel MSE, [0, 1] units, of the corrupted test digits and of "
             "their reconstruction, against the clean digits.</p><table><tr><th>corruption</th><th>level</th>"
             "<th>corrupted input MSE</th><th>denoised MSE</th><th>PSNR gain (dB)</th></tr>" + "".join(
                 f"<tr><td>{esc(r['corruption'])}</td><td>{r['level']:g}</td><td>{r['noisy_input_mse']:.4f}"
                 f"</td><td>{r['denoised_mse']:.4f}</td><td>{r['psnr_gain_db']:+.2f}</td></tr>"
                 for r in summary["denoising"]) + "</table>")
  figures = ""
  for name, caption in pictures.items():
    with open(os.path.join(workdir, name), "rb") as f:
      data = base64.b64encode(f.read()).decode("ascii")
    figures += (f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{esc(caption)} ({esc(name)}; {esc(os.path.basename(plots.vector_path(name)))} "
                f"for print)</figcaption></figure>")
  if provenance is None:
    provenance = read_recorded_provenance(workdir)
  run_rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>"
                     for k, v in provenance_rows(config, provenance, history))
  page_title = title(config, summary)
  axes = ("the code" if view["dims"] <= 3 else f"the first 3 principal axes of the {view['dims']}-d code")
  page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(page_title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}}
td,th{{padding:2px 10px;text-align:right}} td:first-child{{text-align:left}} img{{max-width:100%}}
figure{{margin:1.5em 0}} #run td{{text-align:left;font-size:13px}} {VIEWER_STYLE}</style></head><body>
<h1>{esc(page_title)}</h1>
<p>Test split of {esc(source)}; reconstruction errors are per-pixel MSE of
pixels in [0, 1]. PCA has as many components as the code has dimensions and is fitted on the same
training split.</p>
<h2>Metrics</h2><table><tr><th></th><th>autoencoder</th><th>PCA</th><th></th></tr>{rows}</table>
{extra}
<h2>The code space</h2><p>{len(view['label'])} test digits on {axes}; every axis has the same scale
(code units), so distances on screen are the distances that kNN and trustworthiness measure.</p>
<script id="view-data" type="application/json">{_script_json(view)}</script>
{VIEWER}
<h2>Pictures</h2>{figures}
<h2>The run</h2><table id="run">{run_rows}</table>
</body></html>
"""
  with open(path + ".tmp", "w") as f:
    f.write(page)
  os.replace(path + ".tmp", path)
