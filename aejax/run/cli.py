"""The command line of an experiment, derived from its config dataclass.

A run that ends early (a bad flag, file or workdir; a signal; divergence) ends
the program with one line on stderr and the exit status of aejax.errors.
"""
import argparse
import dataclasses
import inspect
import os
import sys

from aejax import config as config_lib
from aejax.errors import RunError, UserError


class ArgumentParser(argparse.ArgumentParser):
  """argparse whose errors are UserErrors: one line and exit status 2 under run_guarded."""

  def error(self, message):
    raise UserError(message)


def _number(kind):
  def parse(text):
    value = kind(text)
    if kind is float and not -float("inf") < value < float("inf"):  # nan, inf
      raise ValueError(text)
    return value
  parse.__name__ = kind.__name__
  return parse


def make_parser(cls, description=None):
  """argparse parser whose flags are the settings of the config class `cls`,
  listed by section; given flags only are set."""
  parser = ArgumentParser(description=inspect.cleandoc(description or cls.__doc__),
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          argument_default=argparse.SUPPRESS)
  groups = {s.name: parser.add_argument_group(s.name) for s in dataclasses.fields(cls)}
  for setting in cls.settings().values():
    if setting.metadata.get("derived"):
      continue
    group, kind = groups[setting.section], setting.type
    name = "--" + config_lib.flag(setting.name)
    help_text = setting.metadata.get("help", "")
    if "default:" not in help_text:
      help_text += f" (default: {setting.default})"
    help_text = help_text.replace("%", "%%")   # argparse formats help with %
    if kind is bool:   # on by default: --no-FLAG turns it off
      group.add_argument(name, action=argparse.BooleanOptionalAction if setting.default else "store_true",
                         help=help_text)
    elif setting.metadata.get("listed"):   # a sweep's list: its text, read by config.as_floats
      group.add_argument(name, help=help_text, metavar=setting.name.upper())
    else:
      choices = setting.metadata.get("choices")
      group.add_argument(name, type=_number(kind) if kind in (int, float) else kind, choices=choices,
                         help=help_text, metavar=None if choices else setting.name.upper())
  return parser


def parse(cls, argv=None, description=None):
  """(config with defaults and the given flags, dict of the given flags); --help
  prints `description` (default: the config class's docstring)."""
  given = vars(make_parser(cls, description).parse_args(argv))
  for name, value in given.items():   # argparse reads --flag=-- as an empty list
    if isinstance(value, list):
      raise UserError(f"--{config_lib.flag(name)} needs a value, got {value!r}")
  given = {name: config_lib.as_floats(value, name) if cls.settings()[name].metadata.get("listed") else value
           for name, value in given.items()}
  return cls.from_flags(**given), given   # defaults that depend on given flags follow them


def main(cls, run, argv=None, description=None):
  """Parses flags into a `cls` config, checks it and calls run(config, given);
  a run that ends early prints `prog: error: ...` (or `interrupted: ...`) and
  exits with the status that aejax.errors gives its reason."""
  def parse_and_run():
    config, given = parse(cls, argv, description)
    config.check()
    return run(config, given)
  return run_guarded(parse_and_run)


def main_preset(cls, run, preset, argv=None, description=None):
  """`main` with the flags of `preset` before the command line's (later flags win), as
  a script that fixes a setting runs; with --resume the run's own settings alone."""
  argv = sys.argv[1:] if argv is None else list(argv)
  return main(cls, run, argv if "--resume" in argv else [*preset, *argv], description)


def run_guarded(fn):
  """Calls fn(); a RunError becomes one line on stderr and its exit status."""
  prog = sys.argv[0].rsplit("/", 1)[-1]
  try:
    return fn()
  except BrokenPipeError:   # the reader of the output went away (`compare.py A B | head`)
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # nothing more to flush there
    sys.exit(1)
  except RunError as e:
    kind = "error" if isinstance(e, UserError) else type(e).__name__.lower()
    print(f"{prog}: {kind}: {e}", file=sys.stderr, flush=True)
    sys.exit(e.exit_status)
