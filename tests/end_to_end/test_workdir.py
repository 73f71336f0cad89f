"""The workdir: one writer at a time (real processes), --overwrite that deletes
only runs, records that survive damage (a fuzz over every file of a finished
run), and config.json that says what happened."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, call, fake_mnist, metrics_lines, one_line_error

from aejax import config
from aejax.run import workdir

TINY = ["--batch-size", "32", "--widths", "16"]


def tiny_dae(data_dir):
  """The flags of the tiny DAE run that the in-process tests here share (and its compiled programs)."""
  return ["--data-dir", data_dir, "--epochs", "2", "--checkpoint-every", "1", "--keep-checkpoints", "1",
          "--noise", "0.3", *TINY]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return fake_mnist(str(tmp_path_factory.mktemp("mnist")))


def popen(name, *argv):
  return subprocess.Popen([sys.executable, os.path.join(ROOT, "experiments", f"{name}.py"), *argv],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})


# One writer per workdir.

def test_lock_names_its_holder_and_is_released_on_close(tmp_path):
  held = workdir.lock(str(tmp_path / "w"), create=True)
  with pytest.raises(workdir.WorkdirError, match=f"in use by process {os.getpid()} "):
    workdir.lock(str(tmp_path / "w"))
  held.close()
  workdir.lock(str(tmp_path / "w")).close()


def test_a_run_that_finds_the_new_workdir_locked_exits_2_and_writes_nothing(capsys, tmp_path, data_dir):
  # What the second of two runs started together meets: the first made the folder
  # and holds its lock, and has not yet written config.json.
  path = str(tmp_path / "run")
  held = workdir.lock(path, create=True)
  code, _, err = call(capsys, "ae", ["--workdir", path, "--data-dir", data_dir, "--epochs", "1", *TINY])
  held.close()
  assert one_line_error(code, err, f"in use by process {os.getpid()}"), err
  assert os.listdir(path) == [workdir.LOCK_FILE]


def test_one_writer_two_runs_started_together_and_a_resume_in_the_12th_epoch(capsys, tmp_path, data_dir):
  """Two runs started together on a workdir that does not exist yet: one trains,
  the other exits 2. While the one that trains is in its 12th epoch (held there
  by SIGSTOP), a --resume exits 2 naming its process id. The run then finishes
  with one metrics line per epoch."""
  path, epochs = str(tmp_path / "run"), 30
  argv = ["--workdir", path, "--data-dir", data_dir, "--epochs", str(epochs), "--checkpoint-every", "5",
          "--no-analysis", *TINY]
  procs = [popen("ae", *argv) for _ in range(2)]
  while metrics_lines(path) < 11 and any(p.poll() is None for p in procs):
    time.sleep(0.002)
  running = [p for p in procs if p.poll() is None]
  try:
    for p in running:
      p.send_signal(signal.SIGSTOP)
    in_epoch = metrics_lines(path) + 1
    resume = call(capsys, "ae", ["--workdir", path, "--resume"])   # from this process
  finally:
    for p in running:
      p.send_signal(signal.SIGCONT)
  results = [p.communicate(timeout=300) for p in procs]
  codes = [p.returncode for p in procs]
  assert sorted(codes) == [0, 2], [r[1][-600:] for r in results]
  winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
  last = results[loser][1].strip().splitlines()[-1]
  assert "Traceback" not in results[loser][1]
  assert f"in use by process {procs[winner].pid} " in last or "holds an earlier run" in last, last
  assert 12 <= in_epoch <= epochs, in_epoch
  assert one_line_error(resume[0], resume[2], f"in use by process {procs[winner].pid} "), resume[2]
  with open(os.path.join(path, "metrics.jsonl")) as f:
    assert [json.loads(line)["epoch"] for line in f] == list(range(1, epochs + 1))
  out, err = results[winner]
  assert "\r" not in out + err and out.count(f"/{epochs}: train_mse ") == epochs   # a log, not a bar


# --overwrite, and a workdir that is no folder.

def listing(path):
  return {os.path.relpath(os.path.join(root, name), path): open(os.path.join(root, name), "rb").read()
          for root, _, files in os.walk(path) for name in files}


def test_overwrite_deletes_only_a_run_of_this_project(capsys, tmp_path, data_dir):
  papers = tmp_path / "papers"
  (papers / "drafts").mkdir(parents=True)
  (papers / "drafts" / "paper.tex").write_text("\\section{Results}")
  (papers / "config.json").write_text('{"experiment": "someone else\'s"}')
  before = listing(papers)
  for folder in (papers, papers / "drafts"):
    code, _, err = call(capsys, "ae", ["--workdir", str(folder), "--overwrite", "--data-dir", data_dir])
    assert one_line_error(code, err, "--overwrite refused", "nothing was deleted"), err
  assert listing(papers) == before    # not even a lock file
  (tmp_path / "file").write_text("x")
  code, _, err = call(capsys, "ae", ["--workdir", str(tmp_path / "file"), "--data-dir", data_dir])
  assert one_line_error(code, err, "exists and is not a folder"), err


# config.json records what happened.

def test_config_records_the_settings_in_force_and_each_resumption_and_a_torn_line_is_dropped(capsys, tmp_path, data_dir):
  path = str(tmp_path / "run")
  first = ["--workdir", path, *tiny_dae(data_dir), "--no-analysis"]
  assert call(capsys, "dae", first)[0] == 0
  assert call(capsys, "dae", first + ["--overwrite"])[0] == 0    # a run made with --overwrite resumes
  with open(os.path.join(path, "metrics.jsonl"), "a") as f:
    f.write('{"epoch": 3, "train_lo')      # what a kill during the append leaves
  code, _, err = call(capsys, "dae", ["--workdir", path, "--resume", "--epochs", "3", "--eval-every", "2",
                                      "--no-analysis"])
  assert code == 0, err
  assert "metrics.jsonl: its last line (line 3) is cut short and is ignored" in err
  assert [r["epoch"] for r in records_of(path)] == [1, 2, 3]
  code, _, err = call(capsys, "analyze", [path])
  assert code == 0, err
  with open(os.path.join(path, "config.json")) as f:
    saved = json.load(f)
  assert saved["epochs"] == 3 and saved["eval_every"] == 2 and not saved["resume"] and not saved["overwrite"]
  assert [(r["epoch"], r["changed"]) for r in saved["resumptions"]] == [
      (2, {"epochs": [2, 3], "eval_every": [1, 2]})]
  with open(os.path.join(path, "summary.json")) as f:
    assert json.load(f)["epochs"] == 3
  with open(os.path.join(path, "report.html")) as f:
    assert "3 epochs" in f.read()
  # A run written before the augmentation and schedule settings existed, or before the data
  # settings, or before binarisation, or before the convolutions' strides, takes their
  # defaults, which do what that version did; a config lacking only some of a version's
  # settings, or a version's but not the later ones', is damaged.
  first, second, third, fourth = config.AEConfig.ADDED_LATER
  for missing in (("scale",), ("image_shape",), first, second, third):
    with open(os.path.join(path, "config.json"), "w") as f:
      json.dump({k: v for k, v in saved.items() if k not in missing}, f)
    code, _, err = call(capsys, "dae", ["--workdir", path, "--resume", "--no-analysis"])
    assert one_line_error(code, err, "config.json: not a config this version can read"), (missing, err)
  # A flag of one invocation (workdir.ACTIONS) that did not exist then reads as not given.
  for missing in (fourth, third + fourth, second + third + fourth, first + second + third + fourth,
                  ("no_pictures", *fourth)):
    with open(os.path.join(path, "config.json"), "w") as f:
      json.dump({k: v for k, v in saved.items() if k not in missing}, f)
    code, _, err = call(capsys, "dae", ["--workdir", path, "--resume", "--no-analysis"])
    assert code == 0, err
    with open(os.path.join(path, "config.json")) as f:
      resumed = json.load(f)
    assert resumed["augmentation"] == "none" and resumed["image_shape"] == "28x28x1", missing
    assert resumed["binarize"] == "none" and resumed["no_pictures"] is False, missing
    assert resumed["strides"] == "2", missing
  held = workdir.lock(path)
  for name, argv in (("analyze", [path]), ("dae", ["--workdir", path, "--resume"])):
    code, _, err = call(capsys, name, argv)
    assert one_line_error(code, err, f"in use by process {os.getpid()} "), err
  held.close()


# Records that survive damage: a fuzz over every file of a finished run. The records and the checkpoints are read by analyze.py and --resume, and each is
# damaged alone; everything else (pictures, PDFs, report.html, TensorBoard files,
# the lock) is written but never read, and is damaged together: all deleted, or each
# truncated or corrupted (the two in turn, as Orbax's files below; for a file that is
# never read they are alike).
RECORDS = {"config.json", "metrics.jsonl", "progress.npz", "summary.json"}
TIMING = {"seconds", "samples_per_s", "provenance"}


def damage(path, target, how):
  """Damages file `target` (a path relative to the run, or a set of them) as `how` says
  (or, a dict, as it says for each file)."""
  for rel in sorted(target) if isinstance(target, (set, frozenset)) else [target]:
    if isinstance(how, dict):
      damage(path, rel, how[rel])
      continue
    file = os.path.join(path, rel)
    if how == "delete":
      os.remove(file)
      continue
    with open(file, "rb") as f:
      raw = f.read()
    if how == "truncate":
      raw = raw[: len(raw) // 2]
    elif how == "corrupt":
      middle = len(raw) // 2
      raw = raw[:middle] + b"\xff\x00garbage\x00\xff" + raw[middle + 12:]
    elif how == "foreign":
      raw = b'["not", "a", "record"]\n'
    elif how == "torn":
      raw = raw + b'{"epoch": 3, "train_lo'
    with open(file, "wb") as f:
      f.write(raw)


def cases(finished):
  files = sorted(os.path.relpath(os.path.join(root, name), finished)
                 for root, _, names in os.walk(finished) for name in names)
  out = []
  read = [f for f in files if f in RECORDS or f.startswith("checkpoints" + os.sep)]
  assert RECORDS <= set(read), files
  hows = ("truncate", "corrupt", "delete")
  checkpoint_files = [f for f in read if f.startswith("checkpoints")]
  unread = sorted(set(files) - set(read))
  out.append((frozenset(unread), "delete"))
  out.append((frozenset(unread), {f: hows[i % 2] for i, f in enumerate(unread)}))
  for target in [f for f in read if f not in checkpoint_files]:
    out.extend((target, how) for how in hows)
    if target in ("config.json", "summary.json", "metrics.jsonl"):
      out.append((target, "foreign"))
  # Orbax's files, many alike (one per array): each damaged one way, the ways in turn.
  out.extend((target, hows[i % 3]) for i, target in enumerate(checkpoint_files))
  out.append(("metrics.jsonl", "torn"))
  return out


def expected_codes(target, how, command):
  """The exit statuses that damaging `target` as `how` may end `command` in: 0 (the
  undamaged result) or 2 (one line). A damaged record is refused, a missing one made
  again; a summary is read by analyze.py only; a torn last line of metrics.jsonl is
  dropped. Orbax's array data files ("d/<hash>") have names and roles that change from
  run to run: either outcome, but never another."""
  name = "the unread files" if isinstance(target, frozenset) else str(target)
  if name == "the unread files" or how == "torn":
    return {0}
  if name == "summary.json":
    return {0} if how == "delete" or command == "dae" else {2}
  if name == "progress.npz":
    return {0} if how == "delete" else {2}
  if name in RECORDS or name == "checkpoints":
    return {2}
  if "/d/" in name:
    return {0, 2}
  # The files of Orbax's format: the step's and the item's metadata are rewritten or not needed;
  # the array metadata, sharding and database manifest are.
  return {0} if os.path.basename(name) in ("_CHECKPOINT_METADATA", "commit_success.txt") or (
      name.endswith("ocdbt.process_0/manifest.ocdbt")) else {2}


def summary_of(path):
  with open(os.path.join(path, "summary.json")) as f:
    return json.load(f)


def records_of(path):
  with open(os.path.join(path, "metrics.jsonl")) as f:
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in f]


def test_damage_to_any_file_ends_in_the_right_result_or_one_line(capsys, tmp_path, data_dir):
  """Every file of a finished run truncated, corrupted or deleted in turn (the
  records also replaced by foreign JSON, metrics.jsonl also given a torn last
  line; the checkpoints folder deleted or made a file; the files no reader reads
  together: all deleted, or each truncated or corrupted): analyze.py, then
  --resume, each ends in the undamaged run's result (the same test figures,
  records and analysis) or in exit 2 with one line, every file as it was. For
  the files in checkpoints/, --resume alone: it restores the checkpoint through
  the same checkpoints.restore that analyze.py uses, and its test figures (of
  the restored parameters) must be the undamaged run's to the last bit. The finished
  run is analysed by analyze.py (as test_analysis checks, to the training run's figures),
  whose programs every analysis here then shares."""
  finished = str(tmp_path / "finished")
  assert call(capsys, "dae", ["--workdir", finished, *tiny_dae(data_dir), "--no-analysis"])[0] == 0
  assert call(capsys, "analyze", [finished])[0] == 0
  expected = {k: v for k, v in summary_of(finished).items() if k not in TIMING}
  expected_records = records_of(finished)
  all_cases = cases(finished) + [("checkpoints", "delete"), ("checkpoints", "file")]
  outcomes = {}
  for i, (target, how) in enumerate(all_cases):
    shown = "truncate or corrupt" if isinstance(how, dict) else how
    case = f"{shown} {'the unread files' if isinstance(target, frozenset) else target}"
    path = str(tmp_path / f"case{i}")
    shutil.copytree(finished, path)
    if target == "checkpoints":
      shutil.rmtree(os.path.join(path, target))
      if how == "file":
        with open(os.path.join(path, target), "w") as f:
          f.write("not a folder")
    else:
      damage(path, target, how)
    steps = [("dae", ["--workdir", path, "--resume", "--no-analysis"])]
    if not str(target).startswith("checkpoints"):   # pictures drawn again only where they were damaged
      steps.insert(0, ("analyze", [path] if isinstance(target, frozenset) else ["--no-pictures", path]))
    for name, argv_ in steps:
      before = listing(path)
      before.pop(workdir.LOCK_FILE, None)
      drawn = os.stat(os.path.join(path, "report.html")).st_mtime_ns if "--no-pictures" in argv_ else None
      code, out, err = call(capsys, name, argv_)
      outcomes[(case, name)] = code
      assert code in expected_codes(target, how, name), (case, name, code, err[-1000:])
      if code != 0:   # the one line names the damaged file (of a checkpoint: its folder)
        named = "checkpoints" if str(target).startswith("checkpoints") else os.path.basename(str(target))
        assert one_line_error(code, err, named), (case, name, err[-1000:])
        after = listing(path)
        after.pop(workdir.LOCK_FILE, None)
        assert after == before, (case, name, "changed files")
      else:
        summary = {k: v for k, v in summary_of(path).items() if k not in TIMING}
        assert summary == {k: expected[k] for k in summary}, (case, name)
        assert {"test_mse", "denoised_mse", "noisy_input_mse", "final_train_loss"} <= set(summary)
        if name == "analyze":
          assert set(expected) - set(summary) <= {"devices"}, case
        if drawn is not None:   # --no-pictures: the figures, and the pictures left as they were
          assert os.stat(os.path.join(path, "report.html")).st_mtime_ns == drawn, case
          assert out.strip().endswith(f"pictures and report not drawn: python experiments/analyze.py {path}")
        else:
          assert records_of(path) == expected_records, case
  codes = list(outcomes.values())
  print(f"{len(all_cases)} damaged workdirs, {len(codes)} commands: "
        f"{codes.count(0)} ended in the undamaged result, {codes.count(2)} in exit 2")
  # What a run itself can leave (a cut last line), and files no reader needs, cost nothing.
  for case in ("torn metrics.jsonl", "delete the unread files", "delete summary.json",
               "delete progress.npz"):
    assert outcomes[(case, "dae")] == 0, case
  assert outcomes[("delete the unread files", "analyze")] == 0
