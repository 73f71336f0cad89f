"""Training speed, side by side: the fused-epoch loop, the per-step loop, and PyTorch.

  python experiments/benchmark.py --json benchmark.json   # about 12 minutes on 2 CPU cores
  python experiments/benchmark.py --only conv --rounds 5  # the conv model, five rounds

Every measurement trains the model with Adam (L2 weight decay 1e-5) and MSE on the
same in-memory digits, in a process of its own (so peak memory is its own), and
reports samples per second as the median over timed epochs after one warm-up
epoch. With `--rounds R` the loops of each configuration run in turn R times:
rates are medians over the rounds, ratios to PyTorch the median of the rounds'
ratios (on a shared machine, only ratios measured side by side count). The fused
loop is `train.train_epoch`, the stepwise loop `train.train_epoch_stepwise` (one
compiled step per batch from Python), the PyTorch loop the one researchers write. Models: the dense autoencoders, and the
convolutional one (`models.ConvAutoEncoder`) with its convolutions as matrix
products and, for comparison, with `lax.conv`. Two bounds put the figures in
context: the machine's large float32 matmul rate divided by the model's FLOPs
per training sample, and the time that the step's own matrix products take
alone at the batch's shapes. A layer is a matrix product of `rows` x `in` by
`in` x `out` per sample (a dense layer one row; a convolution one row per output
position with `in` = k*k input channels; a transposed one a row per input
position with `out` = k*k output channels); a training step costs 2 x rows x in
x out FLOPs for each of the forward product and the two backward ones, less the
input gradient of the first layer. Training sets above the 4,000 embedded
digits repeat them (the cost does not depend on the pixels).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

REFERENCE = {"architecture": "mlp", "widths": (128, 64, 12), "latent_dim": 3}
DEEP = {"architecture": "mlp", "widths": (1000, 500, 250), "latent_dim": 30}  # Hinton & Salakhutdinov (2006)
CONV = {"architecture": "conv", "widths": (256,), "latent_dim": 3, "channels": (32, 64),
        "kernel_size": 3}
CONV_LAX = {**CONV, "lax_conv": True}
SIDE = 28


def describe(model):
  """A model's name in the table: its layer sizes."""
  if model["architecture"] == "mlp":
    return "-".join(map(str, (SIDE * SIDE, *model["widths"], model["latent_dim"])))
  sizes = "-".join(map(str, (*model["channels"], *model["widths"], model["latent_dim"])))
  return f"{sizes}{' lax.conv' if model.get('lax_conv') else ''}"


def layer_shapes(model):
  """(rows, in, out) per sample of the matrix product of every layer of the
  encoder and the mirrored decoder, convolutions as products of image patches."""
  widths = (*model["widths"], model["latent_dim"])
  if model["architecture"] == "mlp":
    dims = [SIDE * SIDE, *widths, *reversed(widths[:-1]), SIDE * SIDE]
    return [(1, i, o) for i, o in zip(dims[:-1], dims[1:])]
  k2 = model["kernel_size"] ** 2
  channels = (1, *model["channels"])
  sides = [SIDE // 2 ** i for i in range(len(channels))]
  convs = [(sides[i + 1] ** 2, k2 * channels[i], channels[i + 1]) for i in range(len(channels) - 1)]
  dims = [sides[-1] ** 2 * channels[-1], *widths, *reversed(widths[:-1]), sides[-1] ** 2 * channels[-1]]
  dense = [(1, i, o) for i, o in zip(dims[:-1], dims[1:])]
  deconvs = [(sides[i + 1] ** 2, channels[i + 1], k2 * channels[i])
             for i in reversed(range(len(channels) - 1))]
  return convs + dense + deconvs


def flops_per_sample(model):
  """Multiply-adds x 2 of a training step per sample: forward, weight gradients,
  and input gradients of every layer but the first."""
  shapes = layer_shapes(model)
  return 2 * (3 * sum(r * i * o for r, i, o in shapes) - shapes[0][0] * shapes[0][1] * shapes[0][2])


def training_images(n):
  from aejax import data
  images = data.load("embedded").train_images
  return np.resize(images, (n, *images.shape[1:]))


def peak_memory_mib():
  """Peak device memory if the device reports it (GPU), else the process's peak RSS."""
  import jax
  stats = jax.devices()[0].memory_stats() or {}
  if "peak_bytes_in_use" in stats:
    return stats["peak_bytes_in_use"] / 2**20
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_epochs(run_epoch, epochs):
  """Runs one warm-up epoch and `epochs` timed ones; returns their seconds."""
  run_epoch(0)
  seconds = []
  for epoch in range(1, epochs + 1):
    tic = time.perf_counter()
    run_epoch(epoch)
    seconds.append(time.perf_counter() - tic)
  return seconds


def measure_jax(epoch_fn, model, batch, images, epochs):
  """Seconds of epochs of `epoch_fn` (`train.train_epoch` or a function like it)."""
  import jax

  from aejax import models, optim, train
  fields = {k: tuple(v) if isinstance(v, list) else v for k, v in model.items()}
  module = models.ARCHITECTURES[fields.pop("architecture")](**fields)
  state = train.create_train_state(module, jax.random.key(0), optim.make_optimizer())
  data = jax.device_put(images)
  key = jax.random.key(1)

  def run_epoch(epoch):
    nonlocal state
    state, metrics = epoch_fn(state, data, key, epoch, batch_size=batch)
    jax.device_get(metrics)
  return time_epochs(run_epoch, epochs)


def torch_model(model):
  """The model in PyTorch: the same layers, ReLU, linear code, Tanh output. Its
  convolutions pad (1, 1) where "SAME" pads (0, 1): the same shapes and cost."""
  from torch import nn
  widths = (*model["widths"], model["latent_dim"])
  code = len(model["widths"])
  if model["architecture"] == "mlp":
    dims = [SIDE * SIDE, *widths, *reversed(widths[:-1]), SIDE * SIDE]
    layers = []
    for k, (i, o) in enumerate(zip(dims[:-1], dims[1:])):
      layers += [nn.Linear(i, o)] + ([] if k == code else [nn.Tanh() if k == len(dims) - 2 else nn.ReLU()])
    return nn.Sequential(*layers)
  k = model["kernel_size"]
  channels = (1, *model["channels"])
  inner = SIDE // 2 ** len(model["channels"])
  flat = inner * inner * channels[-1]
  layers = [nn.Unflatten(1, (1, SIDE, SIDE))]
  for i in range(len(channels) - 1):
    layers += [nn.Conv2d(channels[i], channels[i + 1], k, stride=2, padding=(k - 1) // 2), nn.ReLU()]
  layers.append(nn.Flatten())
  dims = [flat, *widths, *reversed(widths[:-1]), flat]
  for j, (i, o) in enumerate(zip(dims[:-1], dims[1:])):
    layers += [nn.Linear(i, o)] + ([] if j == code else [nn.ReLU()])
  layers.append(nn.Unflatten(1, (channels[-1], inner, inner)))
  for i in reversed(range(len(channels) - 1)):
    layers += [nn.ConvTranspose2d(channels[i + 1], channels[i], k, stride=2, padding=(k - 1) // 2,
                                  output_padding=k % 2), nn.ReLU() if i else nn.Tanh()]
  layers.append(nn.Flatten())
  return nn.Sequential(*layers)


def measure_torch(model, batch, images, epochs):
  import torch
  from torch import nn
  device = "cuda" if torch.cuda.is_available() else "cpu"
  model = torch_model(model).to(device)
  opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
  loss_fn = nn.MSELoss()
  x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0 * 2 - 1).to(device)
  loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=batch,
                                       shuffle=True, drop_last=True)

  def run_epoch(epoch):
    for (xb,) in loader:
      opt.zero_grad()
      loss = loss_fn(model(xb), xb)
      loss.backward()
      opt.step()
    loss.item()
  seconds = time_epochs(run_epoch, epochs)
  if device == "cuda":
    return seconds, torch.cuda.max_memory_allocated() / 2**20
  return seconds, None


def measure_sweep(model, batch, images, epochs, models):
  """Seconds per epoch of `models` models trained at once (aejax.run.sweep: one
  program over the stacked states, each model with its own seed), at the
  platform's default chunk."""
  import jax

  from aejax import models as models_lib, optim, train
  from aejax.run import sweep
  fields = {k: tuple(v) if isinstance(v, list) else v for k, v in model.items()}
  module = models_lib.ARCHITECTURES[fields.pop("architecture")](**fields)
  states = sweep.stack([train.create_train_state(module, jax.random.key(s), optim.make_optimizer())
                        for s in range(models)])
  keys = jax.random.split(jax.random.key(1), models)
  data = jax.device_put(images)
  chunk = sweep.default_chunk(jax.devices()[0].platform)

  def run_epoch(epoch):
    nonlocal states
    states, metrics = sweep.train_epoch(states, data, keys, epoch, batch_size=batch, chunk=chunk)
    jax.device_get(metrics)
  return time_epochs(run_epoch, epochs)


def measure_torch_compiled(model, batch, images, epochs):
  """The strongest loop a PyTorch user would write: the tensors in device memory,
  a randperm and slices instead of a DataLoader, the whole step (forward,
  backward, Adam) under torch.compile (mode reduce-overhead, CUDA graphs, on a GPU)."""
  import torch
  from torch import nn
  device = "cuda" if torch.cuda.is_available() else "cpu"
  model = torch_model(model).to(device)
  opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(1e-3), weight_decay=1e-5)
  x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255.0 * 2 - 1).to(device)
  n_steps = len(images) // batch

  @torch.compile(mode="reduce-overhead" if device == "cuda" else None)
  def step(xb):
    loss = nn.functional.mse_loss(model(xb), xb)
    loss.backward()
    opt.step()
    return loss.detach()

  def run_epoch(epoch):
    order = torch.randperm(len(x), device=device)
    for i in range(n_steps):
      opt.zero_grad(set_to_none=True)
      loss = step(x[order[i * batch:(i + 1) * batch]])
    loss.item()
  seconds = time_epochs(run_epoch, epochs)
  if device == "cuda":
    return seconds, torch.cuda.max_memory_allocated() / 2**20
  return seconds, None


SWEEP_MODELS = (1, 8, 32)


def sweep_plan(quick):
  """The sweep measurements: (models, loop); models None: a single run."""
  loops = [(None, "fused"), (None, "torch"), (None, "torch_compiled")]
  return loops + [(n, "sweep") for n in (SWEEP_MODELS[:2] if quick else SWEEP_MODELS)]


def sweep_benchmark(epochs, quick, have_torch):
  """Aggregate training samples/s of N-model sweeps beside one model (the seed
  loop trains N models one after another at one model's rate) and PyTorch's
  two loops, the reference model at batch 128 on the 4,000 digits."""
  print(f"\nsweeps: {describe(REFERENCE)}, batch 128, 4000 digits; aggregate samples/s "
        "of all models; ratios against one model's fused loop (the seed loop) and torch.compile")
  print(f"{'loop':<20}{'models':>7}{'epoch s':>9}{'samples/s':>12}{'vs seed loop':>13}"
        f"{'vs compiled':>12}")
  results = {}
  for models, loop in sweep_plan(quick):
    if loop.startswith("torch") and not have_torch:
      continue
    spec = dict(model=REFERENCE, batch=128, n=4000, loop=loop, epochs=epochs, models=models)
    results[f"{loop}{models or ''}"] = dict(run_child(spec), models=models or 1)
  single = results["fused"]["samples_per_s"]
  compiled = results.get("torch_compiled", {}).get("samples_per_s")
  for name, r in results.items():
    rate = r["samples_per_s"]
    print(f"{name:<20}{r['models']:>7}{statistics.median(r['epoch_seconds']):>9.2f}{rate:>12,.0f}"
          f"{rate / single:>12.2f}x{(f'{rate / compiled:.2f}x' if compiled else '-'):>12}", flush=True)
  return results


def measure_matmuls(model, batch, steps):
  """Seconds per step of the step's matrix products alone: for each layer
  x @ W, dY @ W.T (not for the first layer: no gradient flows into the data)
  and x.T @ dY at the batch's shapes (`layer_shapes`), in a compiled loop."""
  import jax
  import jax.numpy as jnp
  shapes = layer_shapes(model)
  keys = jax.random.split(jax.random.key(0), 3 * len(shapes))
  ws = [jax.random.normal(keys[3 * k], (i, o)) * 0.01 for k, (_, i, o) in enumerate(shapes)]
  xs = [jax.random.normal(keys[3 * k + 1], (batch * r, i)) for k, (r, i, _) in enumerate(shapes)]
  dys = [jax.random.normal(keys[3 * k + 2], (batch * r, o)) for k, (r, _, o) in enumerate(shapes)]

  @jax.jit
  def loop(ws):
    def body(_, ws):
      out = []
      for k, (w, x, dy) in enumerate(zip(ws, xs, dys)):
        y = x @ w
        dx = dy @ w.T if k else 0.0
        dw = x.T @ dy
        out.append(w - 1e-9 * (dw + jnp.sum(dx) + jnp.sum(y)))
      return out
    return jax.lax.fori_loop(0, steps, body, ws)
  jax.block_until_ready(loop(ws))
  runs = []
  for _ in range(5):
    tic = time.perf_counter()
    jax.block_until_ready(loop(ws))
    runs.append((time.perf_counter() - tic) / steps)
  return statistics.median(runs)


def matmul_rate():
  """FLOP/s of a large float32 matrix product on the default device (median of 5)."""
  import jax
  import jax.numpy as jnp
  n = 2048 if jax.devices()[0].platform == "cpu" else 8192
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  f = jax.jit(lambda a: a @ a)
  jax.block_until_ready(f(a))
  runs = []
  for _ in range(5):
    tic = time.perf_counter()
    jax.block_until_ready(f(a))
    runs.append(time.perf_counter() - tic)
  return 2 * n ** 3 / statistics.median(runs)


def child(spec):
  """One measurement in this process; prints its result as JSON."""
  model, batch, n, loop, epochs = spec["model"], spec["batch"], spec["n"], spec["loop"], spec["epochs"]
  images = training_images(n)
  result = {}
  if loop in ("torch", "torch_compiled"):
    measure = measure_torch if loop == "torch" else measure_torch_compiled
    seconds, device_mib = measure(model, batch, images, epochs)
    result["peak_mib"] = device_mib if device_mib is not None else peak_memory_mib()
  elif loop == "sweep":
    seconds = measure_sweep(model, batch, images, epochs, spec["models"])
    result["peak_mib"] = peak_memory_mib()
  else:
    from aejax import train
    epoch_fn = {"fused": train.train_epoch, "stepwise": train.train_epoch_stepwise}[loop]
    seconds = measure_jax(epoch_fn, model, batch, images, epochs)
    result["peak_mib"] = peak_memory_mib()
  if loop == "fused":
    result["matmul_floor_s_per_step"] = measure_matmuls(model, batch, steps=n // batch)
  samples = (n // batch) * batch * (spec.get("models") or 1)
  result["samples_per_s"] = samples / statistics.median(seconds)
  result["epoch_seconds"] = seconds
  print(json.dumps(result))


def combine(results):
  """One loop's measurements over rounds: the median rate, the largest peak memory."""
  out = dict(results[0])
  out["samples_per_s"] = statistics.median(r["samples_per_s"] for r in results)
  out["peak_mib"] = max(r["peak_mib"] for r in results)
  return out


def run_child(spec):
  done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)],
                        capture_output=True, text=True)
  if done.returncode:
    raise SystemExit(f"benchmark: {spec} failed:\n{done.stderr[-2000:]}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def torch_available():
  import importlib.util
  return importlib.util.find_spec("torch") is not None


def plan(quick, only=None):
  """The configurations: (name, model, batch, n_train, loops), those named `only`
  if given. A configuration without "torch" is compared with the PyTorch figure
  of the same layers, batch and n_train measured before it."""
  all_loops = ("fused", "stepwise", "torch")
  configs = [("reference", REFERENCE, b, 4000, all_loops) for b in (128, 256, 512, 1024)]
  configs += [("deep", DEEP, b, 4000, all_loops) for b in (128, 1024)]
  configs += [("conv", CONV, 128, 4000, all_loops), ("conv", CONV_LAX, 128, 4000, ("fused", "stepwise"))]
  configs += [("reference", REFERENCE, 128, n, ("fused", "torch")) for n in (5000, 20000, 60000)]
  if only:
    return [c for c in configs if c[0] == only][:1 if quick else None]
  return configs[:1] if quick else configs


def main(argv=None):
  from aejax.run import cli  # pylint: disable=import-outside-toplevel
  return cli.run_guarded(lambda: benchmark(argv))


def benchmark(argv):
  from aejax import errors
  from aejax.run import cli  # pylint: disable=import-outside-toplevel
  parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
  parser.add_argument("--json", help="write the results to this JSON file")
  parser.add_argument("--epochs", type=int, default=5, help="timed epochs per measurement")
  parser.add_argument("--rounds", type=int, default=1,
                      help="measure each configuration's loops in turn this many times; rates are "
                           "medians over rounds, ratios to PyTorch the median of each round's ratio")
  parser.add_argument("--quick", action="store_true", help="the first configuration only")
  parser.add_argument("--only", choices=("reference", "deep", "conv"),
                      help="the configurations of this model only (no sweeps)")
  parser.add_argument("--sweeps", action="store_true", help="the sweep measurements only")
  parser.add_argument("--child", help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    return child(json.loads(args.child))
  if args.epochs <= 0:
    raise errors.UserError(f"--epochs must be positive, got {args.epochs}")
  if args.rounds <= 0:
    raise errors.UserError(f"--rounds must be positive, got {args.rounds}")

  import jax
  device = jax.devices()[0]
  rate = matmul_rate()
  have_torch = torch_available()
  print(f"device: {device.device_kind} ({device.platform}), {os.cpu_count()} CPU cores; "
        f"float32 matmul {rate / 1e9:.1f} GFLOP/s; PyTorch {'present' if have_torch else 'absent'}")
  header = (f"{'model':<30}{'batch':>6}{'n':>7}  {'loop':<9}{'samples/s':>11}{'vs torch':>9}"
            f"{'% matmul':>9}{'% shapes':>9}{'peak MiB':>9}")
  if args.sweeps:
    out = {"device": f"{device.device_kind} ({device.platform})", "cpu_cores": os.cpu_count(),
           "sweeps": sweep_benchmark(args.epochs, args.quick, have_torch)}
    if args.json:
      with open(args.json, "w") as f:
        json.dump(out, f, indent=2)
    return out
  print(header)
  rows = []
  torch_rates = {}
  for name, model, batch, n, loops in plan(args.quick, args.only):
    wanted = [loop for loop in loops if loop != "torch" or have_torch]
    rounds = [{loop: run_child(dict(model=model, batch=batch, n=n, loop=loop, epochs=args.epochs))
               for loop in wanted} for _ in range(args.rounds)]
    results = {loop: combine([r[loop] for r in rounds]) for loop in wanted}
    limit = rate / flops_per_sample(model)
    floor = batch / results["fused"]["matmul_floor_s_per_step"]
    same_torch = json.dumps([layer_shapes(model), batch, n])
    if "torch" in results:
      torch_rates[same_torch] = results["torch"]["samples_per_s"]
      for loop in wanted:  # side by side: the median of each round's ratio
        results[loop]["vs_torch"] = statistics.median(
            r[loop]["samples_per_s"] / r["torch"]["samples_per_s"] for r in rounds)
    torch_rate = torch_rates.get(same_torch)
    for loop, r in results.items():
      r.setdefault("vs_torch", r["samples_per_s"] / torch_rate if torch_rate else None)
      ratio = f"{r['vs_torch']:.2f}x" if r["vs_torch"] else "-"
      print(f"{name + ' ' + describe(model):<30}{batch:>6}{n:>7}  {loop:<9}"
            f"{r['samples_per_s']:>11,.0f}{ratio:>9}{100 * r['samples_per_s'] / limit:>8.1f}%"
            f"{100 * r['samples_per_s'] / floor:>8.1f}%{r['peak_mib']:>9.0f}", flush=True)
    rows.append({"model": name, "layers": describe(model), "spec": model, "batch_size": batch,
                 "n_train": n, "flops_per_sample": flops_per_sample(model), "limit_samples_per_s": limit,
                 "matmul_floor_samples_per_s": floor,
                 **{f"{loop}_samples_per_s": r["samples_per_s"] for loop, r in results.items()},
                 **{f"{loop}_peak_mib": r["peak_mib"] for loop, r in results.items()},
                 **{f"{loop}_vs_torch": r["vs_torch"] for loop, r in results.items()},
                 **({f"{loop}_rounds_samples_per_s": [r[loop]["samples_per_s"] for r in rounds]
                     for loop in wanted} if args.rounds > 1 else {}),
                 "torch_samples_per_s": torch_rate})
  ref = rows[0]
  out = {"device": f"{device.device_kind} ({device.platform})", "cpu_cores": os.cpu_count(),
         "matmul_flops_per_s": rate, "fused_samples_per_s": ref["fused_samples_per_s"],
         "stepwise_samples_per_s": ref["stepwise_samples_per_s"],
         "torch_samples_per_s": ref["torch_samples_per_s"],
         "limit_samples_per_s": ref["limit_samples_per_s"],
         "matmul_floor_samples_per_s": ref["matmul_floor_samples_per_s"], "configs": rows}
  if not args.only:  # the sweeps train the reference model
    out["sweeps"] = sweep_benchmark(args.epochs, args.quick, have_torch)
  if args.json:
    with open(args.json, "w") as f:
      json.dump(out, f, indent=2)
  return out


if __name__ == "__main__":
  main()
