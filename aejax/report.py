"""report.html: a self-contained page (no network needed) with the metrics of a
run beside PCA, its pictures inlined, and a 3-d view of the code space that
can be rotated by dragging, where pointing at a point shows its class."""
import base64
import html
import json
import os

import numpy as np

ROWS = [  # (summary key, label, units)
    ("test_mse", "test per-pixel MSE", "[0, 1] units, lower is better"),
    ("test_psnr", "test PSNR", "dB, higher is better"),
    ("knn_accuracy", "5-NN accuracy of the codes", "fraction"),
    ("linear_probe_accuracy", "linear-probe accuracy", "fraction"),
    ("trustworthiness", "trustworthiness (k = 5)", "1 is best"),
    ("continuity", "continuity (k = 5)", "1 is best"),
]

VIEWER = """
<canvas id="view" width="640" height="560" style="border:1px solid #ccc;cursor:grab"></canvas>
<div id="tip" style="height:1.4em;font-family:monospace"></div>
<script>
const D = DATA;
const canvas = document.getElementById("view"), ctx = canvas.getContext("2d");
const tip = document.getElementById("tip");
const colors = ["#1f77b4","#ff7f0e","#2ca02c","#d62728","#9467bd","#8c564b","#e377c2","#7f7f7f","#bcbd22","#17becf"];
let yaw = 0.6, pitch = 0.4, drag = null, shown = [];
function draw() {
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const s = Math.min(canvas.width, canvas.height) * 0.38;
  shown = D.p.map((p, i) => {
    const x = cy * p[0] + sy * p[2], z0 = -sy * p[0] + cy * p[2];
    const y = cp * p[1] - sp * z0, depth = sp * p[1] + cp * z0;
    return {i: i, x: canvas.width / 2 + s * x, y: canvas.height / 2 - s * y, depth: depth};
  }).sort((a, b) => a.depth - b.depth);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const q of shown) {
    ctx.fillStyle = colors[D.label[q.i] % 10];
    ctx.beginPath(); ctx.arc(q.x, q.y, 2.5, 0, 2 * Math.PI); ctx.fill();
  }
  colors.forEach((c, k) => { ctx.fillStyle = c; ctx.fillRect(10, 10 + 16 * k, 10, 10);
    ctx.fillStyle = "#000"; ctx.fillText(String(k), 24, 19 + 16 * k); });
}
canvas.onmousedown = e => { drag = [e.clientX, e.clientY]; canvas.style.cursor = "grabbing"; };
window.onmouseup = () => { drag = null; canvas.style.cursor = "grab"; };
canvas.onmousemove = e => {
  if (drag) { yaw += (e.clientX - drag[0]) * 0.01; pitch += (e.clientY - drag[1]) * 0.01;
              drag = [e.clientX, e.clientY]; draw(); return; }
  const r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top;
  let best = null, bestD = 36;
  for (const q of shown) { const d = (q.x - mx) ** 2 + (q.y - my) ** 2; if (d < bestD) { best = q; bestD = d; } }
  tip.textContent = best ? "digit " + D.label[best.i] + "   z = (" + D.z[best.i].join(", ") + ")" : "";
};
draw();
</script>
"""


def _three_axes(codes):
  """[N, d] codes -> [N, 3] coordinates for the viewer, each axis scaled into
  [-1, 1] on its own: the code itself if d <= 3 (zero-padded), else its first 3
  principal axes."""
  codes = np.asarray(codes, np.float64)
  centred = codes - codes.mean(0)
  if codes.shape[1] > 3:
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    centred = centred @ vt[:3].T
  centred = np.pad(centred, ((0, 0), (0, 3 - centred.shape[1])))
  scale = np.abs(centred).max(axis=0)
  return centred / np.where(scale > 0, scale, 1.0)


def write(path, config, source, summary, pictures, workdir, codes, labels, provenance=None):
  """Writes the report of a run on data `source`: `summary` metrics with their `pca_` twins,
  the PNG files named in `pictures` (name -> caption) from `workdir`, and the
  viewer over `codes` [N, d] with their `labels`; `provenance` as aejax.provenance.collect."""
  esc = html.escape
  rows = "".join(
      f"<tr><td>{esc(label)}</td><td>{summary[key]:.4f}</td><td>{summary['pca_' + key]:.4f}</td>"
      f"<td>{esc(units)}</td></tr>" for key, label, units in ROWS)
  extra = ""
  if "denoising" in summary:
    extra = ("<h2>Denoising</h2><table><tr><th>corruption</th><th>level</th><th>corrupted input MSE</th>"
             "<th>denoised MSE</th><th>PSNR gain (dB)</th></tr>" + "".join(
                 f"<tr><td>{esc(r['corruption'])}</td><td>{r['level']:g}</td><td>{r['noisy_input_mse']:.4f}"
                 f"</td><td>{r['denoised_mse']:.4f}</td><td>{r['psnr_gain_db']:+.2f}</td></tr>"
                 for r in summary["denoising"]) + "</table>")
  figures = ""
  for name, caption in pictures.items():
    with open(os.path.join(workdir, name), "rb") as f:
      data = base64.b64encode(f.read()).decode("ascii")
    figures += (f'<figure><img alt="{esc(name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{esc(caption)}</figcaption></figure>")
  title = (f"{'DAE' if config.corruption != 'none' else 'AE'}: code size {config.latent_dim}, "
           f"{config.loss} loss, {config.epochs} epochs")
  view = {"p": np.round(_three_axes(codes), 4).tolist(), "label": [int(l) for l in labels],
          "z": np.round(codes, 3).tolist()}
  axes = "the code" if codes.shape[1] <= 3 else "the first 3 principal axes of the code"
  page = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}} td,th{{padding:2px 10px;text-align:right}}
td:first-child{{text-align:left}} img{{max-width:100%}} figure{{margin:1.5em 0}}</style></head><body>
<h1>{esc(title)}</h1>
<p>Test split of {esc(source)}; reconstruction errors are per-pixel MSE of
pixels in [0, 1]. PCA has as many components as the code has dimensions and is fitted on the same
training split.</p>
<h2>Metrics</h2><table><tr><th></th><th>autoencoder</th><th>PCA</th><th></th></tr>{rows}</table>
{extra}
<h2>The code space</h2><p>{len(labels)} test digits on {axes}, each axis scaled to the same length; drag to rotate, point at a digit to
see its class and its code.</p>
{VIEWER.replace("DATA", json.dumps(view))}
<h2>Pictures</h2>{figures}
</body></html>
"""
  with open(path + ".tmp", "w") as f:
    f.write(page)
  os.replace(path + ".tmp", path)
