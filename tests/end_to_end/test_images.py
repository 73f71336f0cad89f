"""The scripts end to end on real images other than MNIST's: colour, non-square
photo tiles in a .npz, PNG class folders, a TFDS dataset prepared here; resume and
analysis check the data's shape against the run's."""
import json
import os
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest
from conftest import ROOT, call, one_line_error, photo_tiles, prepare_tiles, write_pngs, write_tiles_npz

from aejax.run import experiment

TINY = ["--batch-size", "16", "--widths", "16", "--eval-every", "0", "--checkpoint-every", "0"]
# A third of the 72 training tiles held out: 24 validation tiles, as many as the test
# split's, so that one evaluation program of a model serves both splits.
VALIDATION = ["--validation-fraction", "0.3333"]


@pytest.fixture(scope="module")
def tiles(tmp_path_factory):
  """A .npz of 72 training and 24 test 16x24x3 tiles of two photographs."""
  return write_tiles_npz(tmp_path_factory.mktemp("tiles") / "tiles.npz")


def png_shape(path):
  with PIL.Image.open(path) as image:
    return image.size, image.mode


def test_a_colour_conv_dae_writes_every_file_in_colour(capsys, tmp_path, tiles):
  workdir = str(tmp_path / "conv")
  # One stride-2 layer of 2x2 kernels: a convolution over every pixel's three channels, with
  # fewer taps to compile than 3x3 (the kernels themselves are tested in tests/models/test_conv.py).
  code, out, err = call(capsys, "dae", ["--data", tiles, "--architecture", "conv", "--latent-dim", "4",
                                        "--channels", "4", "--kernel-size", "2", "--epochs", "1",
                                        "--workdir", workdir, *TINY])
  assert code == 0, err
  assert f"data: npz:{tiles}, 72 train and 24 test examples, 16x24x3 colour, 2 classes (china, flower)" in out
  with open(os.path.join(workdir, "config.json")) as f:
    saved = json.load(f)
  assert saved["image_shape"] == "16x24x3" and saved["data"] == tiles
  with open(os.path.join(workdir, "summary.json")) as f:
    summary = json.load(f)
  assert summary["image_shape"] == [16, 24, 3] and 0 <= summary["knn_accuracy"] <= 1
  for name in ("reconstructions.png", "latent.png", "traversals.png", "interpolation.png", "progress.png"):
    assert png_shape(os.path.join(workdir, name))[1] in ("RGB", "RGBA"), name
  with open(os.path.join(workdir, "report.html")) as f:
    page = f.read()
  assert "china" in page and "flower" in page
  # Resumed and analysed again with the same data; refused with images of another shape.
  code, _, err = call(capsys, "dae", ["--workdir", workdir, "--resume", "--epochs", "2", "--no-analysis"])
  assert code == 0, err
  other = str(tmp_path / "other.npz")
  images, labels, _ = photo_tiles((16, 16), 10)
  np.savez(other, x_train=images, y_train=labels, x_test=images, y_test=labels)
  saved["data"] = other
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump(saved, f)
  for name, argv in (("analyze", [workdir]), ("dae", ["--workdir", workdir, "--resume", "--epochs", "3"])):
    code, _, err = call(capsys, name, argv)
    assert one_line_error(code, err, f"npz:{other} holds 16x16x3 images, but the run in {workdir} "
                          "was trained on 16x24x3 images"), err
  assert os.path.isfile(os.path.join(workdir, "report.html"))
  # Bad data is one line and exit status 2, and leaves the earlier run as it was.
  held = sorted(os.listdir(workdir))
  broken = str(tmp_path / "broken.npz")
  with open(tiles, "rb") as f:
    raw = f.read()
  with open(broken, "wb") as f:
    f.write(raw[: len(raw) // 3])
  (tmp_path / "empty").mkdir()
  for data in (broken, str(tmp_path / "nowhere.npz"), str(tmp_path / "empty")):
    code, _, err = call(capsys, "dae", ["--data", data, "--workdir", workdir, "--overwrite"])
    assert one_line_error(code, err, data), err
  assert sorted(os.listdir(workdir)) == held


def test_variants_a_sweep_and_compare_on_colour_tiles(capsys, tmp_path, tiles):
  for name, extra in (("ae", [*VALIDATION, "--augmentation", "affine", "--flip", "0.5"]),
                      ("vae", ["--corruption", "masking", "--noise", "0.2"])):
    workdir = str(tmp_path / name)
    code, _, err = call(capsys, name, ["--data", tiles, "--epochs", "2", "--workdir", workdir,
                                       "--no-analysis", "--latent-dim", "4", *TINY, *extra])
    assert code == 0, (name, err)
    with open(os.path.join(workdir, "summary.json")) as f:
      summary = json.load(f)
    assert np.isfinite(summary["test_mse"]) and summary["image_shape"] == [16, 24, 3], name
  assert summary["n_train"] == 72 and "validation_mse" not in summary
  with open(os.path.join(tmp_path, "ae", "summary.json")) as f:
    summary = json.load(f)
  assert summary["n_train"] == 48 and summary["n_validation"] == 24 and 0 < summary["validation_mse"] < 1
  # --latent-dim as the runs above: the members' model is the AE's, whose initialisation
  # program the sweep reuses.
  code, out, err = call(capsys, "sweep", ["--data", tiles, "--epochs", "1", "--noise", "0.1,0.3",
                                          "--workdir", str(tmp_path / "sweep"), "--no-analysis",
                                          *VALIDATION, "--latent-dim", "4", *TINY])
  assert code == 0, err
  with open(os.path.join(tmp_path, "sweep", "sweep.json")) as f:
    rows = json.load(f)["rows"]
  for level in (0.1, 0.3):   # the best of each noise level, chosen on validation, not test
    best = min((r for r in rows if r["noise"] == level), key=lambda r: r["validation_denoised_mse"])
    assert f"at noise {level:g}: lowest validation denoised per-pixel MSE " \
           f"{best['validation_denoised_mse']:.5f} ([0, 1] units)" in out.splitlines()[-1]
  code, out, err = call(capsys, "compare", [str(tmp_path / "ae"), str(tmp_path / "vae"),
                                            "--out", str(tmp_path / "compared")])
  assert code == 0, err
  assert "validation MSE" in out and f"{summary['validation_mse']:.4f}" in out
  # A reader that goes away (`compare.py A B | head`) ends the script quietly.
  proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "experiments", "compare.py"),
                           str(tmp_path / "ae"), str(tmp_path / "vae"), "--out", str(tmp_path / "piped")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": ROOT})
  proc.stdout.close()
  err = proc.communicate(timeout=300)[1].decode()
  assert proc.returncode == 1 and "Traceback" not in err and "BrokenPipe" not in err, err
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
  events = EventAccumulator(os.path.join(tmp_path, "ae", "tensorboard"), size_guidance={"scalars": 0})
  events.Reload()
  logged = events.Scalars("per_pixel_mse/validation")
  assert [e.step for e in logged] == [2] and np.isclose(logged[0].value, summary["validation_mse"])


# The 12x10 runs below train on 20 images, as many as the TFDS dataset's (conftest.prepare_tiles)
# training split: one training program serves all of them.
N_TRAIN_12x10 = 20


def test_class_folders_of_pngs_and_a_tfds_dataset_by_name(capsys, tmp_path):
  images, labels, names = photo_tiles((12, 10), 15)   # 30 tiles: 20 to train on, 10 held out
  write_pngs(str(tmp_path / "photos"), images, labels, names)
  workdir = str(tmp_path / "folder")
  code, out, err = call(capsys, "ae", ["--data", str(tmp_path / "photos"), "--epochs", "1",
                                       "--test-fraction", "0.33", "--workdir", workdir, *TINY])
  assert code == 0, err
  assert f"{N_TRAIN_12x10} train and 10 test examples, 12x10x3 colour, 2 classes (china, flower)" in out
  with open(os.path.join(workdir, "report.html")) as f:
    page = f.read()
  assert "china" in page and "flower" in page
  folder = str(tmp_path / "tfds")
  prepare_tiles(folder)
  code, out, err = call(capsys, "ae", ["--data", "tiles", "--data-dir", folder, "--epochs", "1",
                                       "--workdir", str(tmp_path / "tfds_run"), "--no-analysis", *TINY])
  assert code == 0, err
  assert f"data: tfds:tiles, {N_TRAIN_12x10} train and 10 test examples, 12x10x3 colour" in out


def test_unlabelled_images_are_analysed_without_the_label_metrics(capsys, tmp_path, monkeypatch):
  images, _, _ = photo_tiles((12, 10), 13)
  path = str(tmp_path / "unlabelled.npz")
  np.savez(path, x_train=images[:N_TRAIN_12x10], x_test=images[N_TRAIN_12x10:])   # 6 test images, no labels
  workdir = str(tmp_path / "run")
  monkeypatch.chdir(tmp_path)
  code, out, err = call(capsys, "ae", ["--data", "unlabelled.npz", "--epochs", "1", "--workdir",
                                       workdir, *TINY])
  assert code == 0, err
  assert "no labels" in out
  with open(os.path.join(workdir, "config.json")) as f:
    assert json.load(f)["data"] == path   # recorded as an absolute path: read from anywhere
  with open(os.path.join(workdir, "summary.json")) as f:
    summary = json.load(f)
  assert "knn_accuracy" not in summary and "trustworthiness" not in summary
  assert any("no labels" in note for note in summary["notes"])
  assert any("6 test images: trustworthiness and continuity" in note for note in summary["notes"])
  assert os.path.isfile(os.path.join(workdir, "report.html"))
  # A damaged image shape in config.json, and a zoo replaced with bad data: one line each,
  # and the earlier files stay.
  with open(os.path.join(workdir, "config.json")) as f:
    saved = json.load(f)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    json.dump({**saved, "image_shape": "12x10"}, f)
  code, _, err = call(capsys, "analyze", [workdir])
  assert one_line_error(code, err, "config.json: damaged", "image_shape must be HxWxC"), err
  zoo = tmp_path / "zoo"
  zoo.mkdir()
  (zoo / "zoo.json").write_text("{}")
  code, _, err = call(capsys, "zoo", ["--workdir", str(zoo), "--overwrite", "--data", str(tmp_path / "none.npz")])
  assert one_line_error(code, err, "none.npz: no such file"), err
  assert (zoo / "zoo.json").read_text() == "{}"


def test_sample_images_writes_real_tile_and_digit_sets(capsys, tmp_path):
  tiles, digits = str(tmp_path / "tiles.npz"), str(tmp_path / "digits.npz")
  for argv in (["--side", "16", "--train", "64", "--test", "16", "--out", tiles],
               ["--set", "digits", "--out", digits]):
    code, out, err = call(capsys, "sample_images", argv)
    assert code == 0, err
  ds = experiment.data.load(tiles)
  assert ds.train_images.shape == (64, 16, 16, 3) and ds.test_images.shape == (16, 16, 16, 3)
  assert len(ds.class_names) == 8 and ds.class_names[0] == "china top left"
  assert ds.train_images.std() > 20   # photographs, not blank tiles
  ds = experiment.data.load(digits)
  assert ds.image_shape == (8, 8, 1) and len(ds.train_images) + len(ds.test_images) == 1797
  code, _, err = call(capsys, "sample_images", ["--side", "65", "--out", tiles])
  assert one_line_error(code, err, "--side must be in 1..64"), err
