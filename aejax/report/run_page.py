"""report.html: one self-contained page (no network needed) with the metrics of a
run beside PCA, a 3-d view of the code space, the pictures inlined, and the
run's provenance.

The view draws the codes on equal-scale axes with ticks in code units; drag (or
one finger) rotates, the wheel (or two fingers) zooms, the dot nearest the
pointer is highlighted and its test image and reconstruction are shown, and the
legend toggles classes (with more than plots.MAX_LEGEND classes a colour ramp
and a choice of one class). Its data sit in a JSON block (`<script
id="view-data">`): positions, ticks, labels, class names and colours, codes,
and the images as two PNG sprites.
"""
import base64
import html
import io
import json
import math
import os
import statistics

import matplotlib.colors
import numpy as np
from PIL import Image

from aejax import evaluators, variants
from aejax.report import plots

LEVELS = {1: 16, 3: 32}   # levels per channel of a sprite: grey, colour
SPRITE_PIXELS = 2_500_000  # most pixels of a sprite: 2000 images of 32 x 32, larger ones shrunk
THUMBNAIL_CSS = 112        # CSS pixels of the longer side of the viewer's image


def run_kind(config):
  """The variant's display name (aejax.variants.display_name) and, with an
  augmentation, its ranges: 'DAE, gaussian σ = 0.2 (augmented: up to 5° turned, 1 px moved, 5% resized)'."""
  name, objective = variants.display_name(config), config.objective
  if objective.augmentation == "none":
    return name
  changes = [text for value, text in (
      (objective.flip, f"mirrored with probability {objective.flip:g}"),
      (objective.rotation, f"up to {objective.rotation:g}° turned"),
      (objective.shift, f"{objective.shift:g} px moved"), (objective.scale, f"{objective.scale:.0%} resized"))
      if value]
  return f"{name} (augmented: {', '.join(changes) or 'nothing changed'})"


def headline(config, summary):
  """The run's result in one phrase, the variant's own figure first
  (aejax.variants.headline), to four digits."""
  return variants.headline(config, summary, digits=4)


def title(config, summary):
  """The report's title: model, corruption, code size, objective, epochs and the headline."""
  parts = [run_kind(config), config.model.architecture, f"{config.model.latent_dim}-d code",
           f"{config.objective.loss} objective", f"{config.optimiser.epochs} epochs"]
  return ", ".join(parts) + ": " + headline(config, summary)


def sprite(images, cols=None, levels=None):
  """[N, H, W, C] pixels in [0, 1] (or uint8) -> (PNG bytes of a grid of `cols`
  images per row, cols): image i at row i // cols, column i % cols. Grey (C = 1)
  is a grey PNG, colour (C = 3) an RGB one; each channel at `levels` levels
  (None: LEVELS[C]), so a pixel reads back within 0.5 / (levels - 1) + 0.5 / 255."""
  images = plots.as_images(images)
  n, h, w, c = images.shape
  levels = levels or LEVELS[c]
  images = np.round(np.round(images * (levels - 1)) * (255 / (levels - 1))).astype(np.uint8)
  cols = cols or max(1, math.ceil(math.sqrt(n)))
  rows = math.ceil(n / cols)
  canvas = np.zeros((rows * cols, h, w, c), np.uint8)
  canvas[:n] = images
  canvas = canvas.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)
  buffer = io.BytesIO()
  Image.fromarray(canvas[..., 0] if c == 1 else canvas, mode="L" if c == 1 else "RGB").save(
      buffer, format="PNG", optimize=True)
  return buffer.getvalue(), cols


def read_sprite(png, n, cols):
  """The inverse of `sprite`: [n, H, W, C] uint8 images."""
  grid = np.asarray(Image.open(io.BytesIO(png)))
  grid = grid[..., None] if grid.ndim == 2 else grid
  rows = math.ceil(n / cols)
  h, w, c = grid.shape[0] // rows, grid.shape[1] // cols, grid.shape[2]
  return grid.reshape(rows, h, cols, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * cols, h, w, c)[:n]


def thumbnail_factor(n, image_shape, budget=SPRITE_PIXELS):
  """The least integer factor by which `shrink` brings n images of `image_shape`
  (H, W, ...) to at most `budget` pixels in all."""
  h, w = image_shape[:2]
  return max(1, math.ceil(math.sqrt(n * h * w / budget)))


def nice_ticks(lo, hi, target=5):
  """Round tick values (1, 2 or 5 times a power of ten apart) inside [lo, hi]."""
  raw = (hi - lo) / target
  if raw <= 0:
    return [lo]
  power = 10 ** math.floor(math.log10(raw))
  step = min((m * power for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
  first = math.ceil(lo / step) * step
  return [round(first + k * step, 10) for k in range(int(math.floor((hi - first) / step + 1e-9)) + 1)]


def view_data(codes, labels, images, reconstructions, class_names=None):
  """The viewer's data: codes [N, d], labels [N] (class indices, or None), test
  images and their reconstructions [N, H, W, C] in [0, 1] (or uint8), class
  names (class index -> name; None: the label values).

  `p` [N, 3] are the drawn coordinates (the code for d <= 3, zero-padded; else
  its first 3 principal axes), (coordinate - centre) / half, one `half` for
  every axis, so all axes share one scale; `ticks` hold round values in code
  units per axis, `names` the axes' names. `classes` and `colors` (CSS) are per
  class, as the pictures have them (one colour without labels); `mse` the
  per-pixel MSE of each image. The sprites hold the images shrunk by an integer
  factor where they would pass SPRITE_PIXELS (`sprite.shrunk`)."""
  coords, names = plots.code_axes(codes)
  limits = plots.equal_limits(coords)
  centre, half = limits.mean(1), float(limits[0, 1] - limits[0, 0]) / 2
  p = np.zeros((len(coords), 3))
  p[:, :coords.shape[1]] = (coords - centre) / half
  ticks = [nice_ticks(lo, hi) for lo, hi in limits] + [[]] * (3 - coords.shape[1])
  images, reconstructions = plots.as_images(images), plots.as_images(reconstructions)
  mse = np.mean(np.square(images - reconstructions).reshape(len(images), -1), axis=1)
  factor = thumbnail_factor(len(images), images.shape[1:])
  image_png, cols = sprite(plots.shrink(images, factor))
  recon_png, _ = sprite(plots.shrink(reconstructions, factor), cols)
  h, w, c = plots.shrink(images[:1], factor).shape[1:]
  data_uri = lambda png: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
  if labels is None:
    classes, colors, labels = [], [plots.CLASS_COLORS(0)], None
  else:
    labels = [int(c) for c in labels]
    classes = list(plots.class_names_of(labels, class_names))
    colors = plots.class_colors(len(classes))
  return {
      "names": names + [""] * (3 - len(names)), "dims": int(np.asarray(codes).shape[1]),
      "centre": [float(c) for c in centre] + [0.0] * (3 - len(centre)), "half": half,
      "ticks": ticks, "p": np.round(p, 4).tolist(), "z": np.round(np.asarray(codes, np.float64), 3).tolist(),
      "label": labels, "classes": classes, "colors": [matplotlib.colors.to_hex(c) for c in colors],
      "mse": [float(f"{m:.4g}") for m in np.asarray(mse, np.float64)],
      "sprite": {"cols": cols, "width": int(w), "height": int(h), "channels": int(c), "shrunk": factor,
                 "images": data_uri(image_png), "reconstructions": data_uri(recon_png)},
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
  fields = config.flags()
  for name in ("corruption", "noise"):   # class constants of a plain AE: shown, not settings
    fields.setdefault(name, getattr(config.objective, name))
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
#side canvas{image-rendering:pixelated;border:1px solid #ccc;background:#000}
#legend{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0;align-items:center}
#legend button{font:inherit;border:1px solid #bbb;background:#fff;border-radius:3px;padding:2px 7px;cursor:pointer}
#legend button[aria-pressed=false]{opacity:0.35;text-decoration:line-through}
#legend button span{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
#legend select{font:inherit}
#ramp{display:inline-block;width:140px;height:10px;border:1px solid #bbb}
"""

HINT = "Point at a dot (or tap it) to see its image."

VIEWER_SCRIPT = """
<script>
(function () {
const D = JSON.parse(document.getElementById("view-data").textContent);
const colors = D.colors, labelled = D.label !== null;
const cls = i => labelled ? D.label[i] : 0;
const canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
const tip = document.getElementById("tip"), hint = tip.textContent;
const flat = D.dims < 3;
const start = {yaw: flat ? 0 : 0.6, pitch: flat ? 0 : 0.35, zoom: 1, panX: 0, panY: 0};
const S = Object.assign({hidden: new Set(), hover: -1}, start);
const sprites = {};
let width = 0, height = 0, shown = [];
function loadSprite(name) {
  const img = new Image();
  img.onload = () => { sprites[name] = img; showImage(); };
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
    if (S.hidden.has(cls(i))) continue;
    const q = project(D.p[i]); shown.push({i: i, x: q[0], y: q[1], depth: q[2]});
  }
  shown.sort((a, b) => a.depth - b.depth);
  for (const q of shown) {
    ctx.fillStyle = colors[cls(q.i)];
    ctx.beginPath(); ctx.arc(q.x, q.y, 2.6, 0, 2 * Math.PI); ctx.fill();
  }
  const h = shown.find(q => q.i === S.hover);
  if (h) {
    ctx.fillStyle = colors[cls(h.i)]; ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(h.x, h.y, 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
}
function nearest(x, y, radius) {
  let best = -1, bestD = radius * radius;
  for (const q of shown) { const d = (q.x - x) ** 2 + (q.y - y) ** 2; if (d <= bestD) { best = q.i; bestD = d; } }
  return best;
}
function drawTile(id, name, i) {
  const c = document.getElementById(id).getContext("2d"), w = D.sprite.width, h = D.sprite.height;
  c.imageSmoothingEnabled = false; c.clearRect(0, 0, w, h);
  if (i >= 0 && sprites[name])
    c.drawImage(sprites[name], (i % D.sprite.cols) * w, Math.floor(i / D.sprite.cols) * h, w, h, 0, 0, w, h);
}
function showImage() {
  const i = S.hover;
  drawTile("image", "images", i); drawTile("recon", "reconstructions", i);
  tip.textContent = i < 0 ? hint : (labelled ? "class " + D.classes[D.label[i]] : "test image " + (i + 1)) +
    ", z = (" + D.z[i].join(", ") + "), reconstruction MSE " + D.mse[i] + " ([0, 1] units)";
}
function setHover(i) { if (i !== S.hover) { S.hover = i; draw(); showImage(); } }
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
function refresh() { if (S.hover >= 0 && S.hidden.has(cls(S.hover))) setHover(-1); else draw(); }
const legend = document.getElementById("legend");
const present = labelled ? [...new Set(D.label)].sort((a, b) => a - b) : [];
if (labelled && D.classes.length <= 10) {
  present.forEach(c => {
    const b = document.createElement("button"), swatch = document.createElement("span");
    swatch.style.background = colors[c];
    b.append(swatch, D.classes[c]);
    b.setAttribute("aria-pressed", "true"); b.dataset.class = c; b.title = "show or hide class " + D.classes[c];
    b.onclick = () => {
      if (S.hidden.has(c)) S.hidden.delete(c); else S.hidden.add(c);
      b.setAttribute("aria-pressed", String(!S.hidden.has(c)));
      refresh();
    };
    legend.appendChild(b);
  });
} else if (labelled) {
  const ramp = document.createElement("span"), pick = document.createElement("select");
  ramp.id = "ramp"; ramp.style.background = "linear-gradient(to right," + colors.join(",") + ")";
  pick.id = "pick"; pick.setAttribute("aria-label", "classes shown");
  pick.add(new Option("all " + D.classes.length + " classes", "-1"));
  present.forEach(c => pick.add(new Option(c + ": " + D.classes[c], String(c))));
  pick.onchange = () => {
    const c = Number(pick.value);
    S.hidden = new Set(c < 0 ? [] : D.classes.map((_, k) => k).filter(k => k !== c));
    refresh();
  };
  legend.append("colour: class index 0 (" + D.classes[0] + ")", ramp,
                (D.classes.length - 1) + " (" + D.classes[D.classes.length - 1] + "); show", pick);
}
window.addEventListener("resize", resize);
if (window.matchMedia) matchMedia("(resolution: " + (window.devicePixelRatio || 1) + "dppx)").addEventListener("change", resize);
loadSprite("images"); loadSprite("reconstructions");
resize();
window.aejaxView = {state: S, project: i => project(D.p[i]).slice(0, 2), shown: () => shown.map(q => q.i)};
})();
</script>
"""


def viewer(view):
  """The viewer's HTML over `view` (as `view_data` returns): the legend, the
  3-d view, and the hovered image beside its reconstruction in canvases of the
  sprite's size, shown THUMBNAIL_CSS pixels on the longer side."""
  w, h = view["sprite"]["width"], view["sprite"]["height"]
  scale = THUMBNAIL_CSS / max(w, h)
  size = f'width="{w}" height="{h}" style="width:{round(w * scale)}px;height:{round(h * scale)}px"'
  if view["label"] is None:
    key = "Without labels every test image has one colour."
  elif len(view["classes"]) <= plots.MAX_LEGEND:
    key = "Legend: show or hide a class."
  else:
    key = "Show: every class, or pick one."
  figure = lambda name, caption: (f'<figure style="display:inline-block;margin:0 8px 0 0"><canvas id="{name}" '
                                  f"{size}></canvas><figcaption>{caption}</figcaption></figure>")
  image, recon = figure("image", "test image"), figure("recon", "reconstruction")
  return f"""
<div id="legend"></div>
<div id="viewer">
<canvas id="view" aria-label="3-d view of the test codes"></canvas>
<div id="side">
<div>{image}{recon}</div>
<p id="tip">{HINT}</p>
<p style="color:#555">Drag or one finger: rotate. Wheel or two fingers: zoom where you point. Double-click: reset.
{key}</p>
</div></div>{VIEWER_SCRIPT}"""


def _script_json(obj):
  """JSON safe inside a <script> element."""
  return json.dumps(obj, separators=(",", ":")).replace("</", "<\\/")


def write(path, config, source, summary, pictures, workdir, view, provenance=None, history=None):
  """Writes the report of a run on data `source`: `summary` metrics with their
  `pca_` twins, the PNG files named in `pictures` (name -> caption) from
  `workdir`, the viewer over `view` (as `view_data` returns), and the provenance
  table of `config`, `provenance` (aejax.run.provenance.collect; when None, what
  `workdir`/summary.json records) and `history`."""
  esc = html.escape
  number = lambda value: "-" if value is None else f"{value:.4f}"
  rows = "".join(   # the evaluators' columns; PCA's beside the model's own
      f"<tr><td>{esc(c.described(summary))}</td><td>{number(summary[c.key])}</td><td>{number(summary.get('pca_' + c.key))}</td>"
      f"<td>{esc(c.unit)}</td></tr>" for c in evaluators.columns()
      if summary.get(c.key) is not None and not c.key.startswith("pca_"))
  extra = ""
  if "denoising" in summary:
    extra = ("<h2>Denoising</h2><p>Per-pixel MSE, [0, 1] units, of the corrupted test images and of "
             "their reconstruction, against the clean images.</p><table><tr><th>corruption</th><th>level</th>"
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
  distances = (", so distances on screen are the distances that kNN and trustworthiness measure"
               if view["dims"] <= 3 else f"; kNN and trustworthiness measure distances in all "
               f"{view['dims']} dimensions")
  classes = f"of {len(view['classes'])} classes" if view["label"] is not None else "(no labels)"
  shrunk = view["sprite"]["shrunk"]
  shown = (f" The images are shown {shrunk} times smaller than they are (each pixel the mean of {shrunk} x "
           f"{shrunk}), to keep the page small." if shrunk > 1 else "")
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
<h2>The code space</h2><p>{len(view['p'])} test images {classes} on {axes}; every axis has the same scale
(code units){distances}.{shown}</p>
<script id="view-data" type="application/json">{_script_json(view)}</script>
{viewer(view)}
<h2>Pictures</h2>{figures}
<h2>The run</h2><table id="run">{run_rows}</table>
</body></html>
"""
  with open(path + ".tmp", "w") as f:
    f.write(page)
  os.replace(path + ".tmp", path)
