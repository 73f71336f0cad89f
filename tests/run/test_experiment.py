"""The run's steps that read a config against what a run folder or the data hold:
a resumption compares the settings as the config holds them, and the convolutions'
strides are checked against the images' size before anything is written."""
import json

import pytest
from conftest import expect_error

from aejax import config
from aejax.run import cli, experiment, workdir


def test_a_resumption_compares_settings_as_the_config_holds_them(tmp_path):
  """`--strides 2,2` with two convolutions is the stride 2 the run was saved with
  (config.json of an earlier version has no strides: it reads as 2); 1,2 is refused."""
  saved = config.AEConfig.from_flags(architecture="conv", channels="4,8", workdir=str(tmp_path)).flags()
  del saved["strides"]
  with open(tmp_path / workdir.CONFIG_FILE, "w") as f:
    json.dump({"experiment": "ae", **saved, "resumptions": []}, f)
  resume = ["--resume", "--workdir", str(tmp_path)]
  resumed, changes, _ = experiment.resumed_config(*cli.parse(config.AEConfig, resume + ["--strides", "2,2"]), "ae")
  assert resumed.model.strides == "2" and resumed.model.conv_strides == (2, 2) and changes == {}
  with pytest.raises(workdir.WorkdirError, match=r"--resume cannot change --strides \(was '2', now '1,2'\)"):
    experiment.resumed_config(*cli.parse(config.AEConfig, resume + ["--strides", "1,2"]), "ae")


def test_strides_that_shrink_the_images_below_a_pixel_are_refused_before_the_run_starts(capsys, tmp_path):
  # 28x28 digits and five stride-2 convolutions: a factor of 32
  expect_error(capsys, "ae", ["--data", "embedded", "--architecture", "conv", "--channels", "4,4,4,4,4",
                              "--workdir", str(tmp_path / "run")],
               "--strides 2 shrink the images by 32, more than their 28x28 pixels")
  expect_error(capsys, "ae", ["--architecture", "conv", "--strides", "3", "--kernel-size", "2",
                              "--workdir", str(tmp_path / "run")], "--strides must be at most --kernel-size 2")
  assert not (tmp_path / "run").exists()
