"""The package's layout holds: every module imports only its own level and those
below it (aejax/__init__.py states the levels), the run machinery is made of short
steps, and the code passes ruff."""
import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Lowest first; a module may import its own rank and those below.
RANKS = {"errors": 0, "units": 0, "types": 0, "chunks": 0, "data": 1, "models": 1, "objectives": 1, "optim": 1, "train": 2,
         "stacked": 3, "variants": 4, "config": 4, "evaluators": 5, "report": 6, "run": 7}


def rank(module):
  """The rank of a dotted aejax module name (its first part below aejax)."""
  return RANKS[module.split(".")[1]]


def imports(path):
  """The aejax modules that the file at `path` imports, as dotted names."""
  tree = ast.parse(path.read_text())
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (a.name for a in node.names if a.name.startswith("aejax."))
    elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aejax"):
      if node.module == "aejax":
        yield from (f"aejax.{a.name}" for a in node.names)
      else:
        yield node.module


def test_no_module_imports_a_level_above_its_own():
  files = [p for p in (ROOT / "aejax").rglob("*.py") if p != ROOT / "aejax" / "__init__.py"]
  assert len(files) > 30
  upward = []
  for path in files:
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    assert module.split(".")[1] in RANKS, f"{module}: a level of its own? add it to RANKS and the docstring"
    upward += [f"{module} imports {other}" for other in imports(path) if rank(other) > rank(module)]
  assert not upward, upward


def test_the_run_machinery_is_made_of_short_named_steps():
  """No function of aejax/run is longer than 50 lines, docstring included: a
  step that grows past that is split into named steps."""
  long = []
  for path in (ROOT / "aejax" / "run").glob("*.py"):
    for node in ast.walk(ast.parse(path.read_text())):
      if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 50:
        long.append(f"{path.name}: {node.name} ({node.end_lineno - node.lineno + 1} lines)")
  assert not long, long


def test_ruff_finds_nothing():
  done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                        capture_output=True, text=True)
  assert done.returncode == 0, done.stdout + done.stderr


def test_a_run_that_draws_nothing_imports_no_plotting_library():
  """matplotlib costs a training process half a second at start: the processes that draw
  (an analysis, report.html, a sweep's plots) import it, a --no-analysis run, a sweep's
  --no-pictures and --help do not."""
  done = subprocess.run([sys.executable, "-c", "import sys, aejax.run.experiment, aejax.run.sweep; "
                         "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"],
                        capture_output=True, text=True, cwd=ROOT)
  assert done.returncode == 0 and done.stdout.strip() == "[]", (done.stdout, done.stderr[-2000:])
