"""How a config works: a frozen dataclass of sections (`Config`), each a frozen
dataclass of settings (`Section`), every setting a flag of its own name
(`Config.settings`, `from_flags`, `flags`, `replace`), and the field makers that
give a setting its help, choices, weight or trace (`option`, `weight`, `hparam`,
`derived`, `section`)."""
import dataclasses
import functools
import types
import typing
from typing import ClassVar

from aejax.errors import UserError


class ConfigError(UserError):
  """An invalid setting; the message names the flag."""


def option(default, help, choices=None, flag=None):  # pylint: disable=redefined-builtin
  """A setting with its flag's help and choices; `flag`: the flag's name where the field's differs."""
  metadata = {"help": help, "choices": choices, **({"flag": flag} if flag else {})}
  return dataclasses.field(default=default, metadata=metadata)


def weight(regulariser, default, help):  # pylint: disable=redefined-builtin
  """An objective's field that weighs `regulariser` (aejax.objectives.Forward ->
  scalar) in the loss, under the field's name; non-negative; 0 leaves the term out."""
  return dataclasses.field(default=default, metadata={"help": help, "regulariser": regulariser})


def hparam(default, help):  # pylint: disable=redefined-builtin
  """An objective's continuous setting that a regulariser (`forward.hparams[name]`)
  or the augmentation reads."""
  return dataclasses.field(default=default, metadata={"help": help, "hparam": True})


def derived(default, help):  # pylint: disable=redefined-builtin
  """A setting that the run sets from its data (no flag), recorded in config.json."""
  return dataclasses.field(default=default, metadata={"help": help, "derived": True})


def section(cls, **defaults):
  """A config's section: a `cls`, whose fields named in `defaults` default to
  those values instead of cls's own (a variant's other defaults)."""
  unknown = sorted(set(defaults) - {f.name for f in dataclasses.fields(cls)})
  if unknown:
    raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
  return dataclasses.field(default_factory=functools.partial(cls, **defaults),
                           metadata={"section": cls, "defaults": defaults})


def flag(name):
  """A setting's flag as typed: `weight_decay` -> `weight-decay`."""
  return name.replace("_", "-")


def shape(text):
  """"HxWxC" -> (H, W, C)."""
  return tuple(int(n) for n in text.split("x"))


@dataclasses.dataclass(frozen=True)
class Section:
  """A group of settings. `check` checks each against its choices; a section
  with more to check extends it (and calls it)."""

  def check(self):
    for f in dataclasses.fields(self):
      choices = f.metadata.get("choices")
      if choices and getattr(self, f.name) not in choices:
        raise ConfigError(f"--{flag(setting_name(f))} must be one of {', '.join(choices)}, "
                          f"got {getattr(self, f.name)!r}")

  def _at_least(self, bound, *names):
    """ConfigError unless every named field is >= bound (1: positive, 0: non-negative)."""
    for name in names:
      if getattr(self, name) < bound:
        kind = "positive" if bound == 1 else "non-negative"
        raise ConfigError(f"--{flag(name)} must be {kind}, got {getattr(self, name)}")


def setting_name(f):
  """The flag name (with underscores) of a section's field: its own, or its `flag` metadata."""
  return f.metadata.get("flag", f.name)


@dataclasses.dataclass(frozen=True)
class Setting:
  """One setting of a config class: `name` (its flag, with underscores), the
  `section` (the config's field) and its `field` in the section's class `owner`;
  `default` is the config's (a variant's own default where it sets one)."""
  name: str
  section: str
  owner: type
  field: dataclasses.Field
  default: typing.Any

  @property
  def type(self):
    """The plain type (Optional[X] -> X, tuple[float, ...] -> tuple)."""
    hint = typing.get_type_hints(self.owner)[self.field.name]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
      hint = next(a for a in typing.get_args(hint) if a is not type(None))
    return typing.get_origin(hint) or hint

  @property
  def metadata(self):
    return self.field.metadata


@dataclasses.dataclass(frozen=True)
class Config:
  """An experiment's settings, in sections (fields made with `section`)."""
  # Settings added after the first version, a group per version: a config.json written
  # before a group lacks it and every later group, and takes AEConfig's defaults for
  # them, which do what that version did.
  ADDED_LATER: ClassVar[tuple] = ()
  # Settings that may differ between a run and its resumption.
  RESUMABLE: ClassVar[tuple] = ()

  @classmethod
  @functools.cache
  def settings(cls):
    """{name: Setting} of every setting of the config class, section by section (read-only).
    TypeError where two sections name the same flag, or a regulariser's weight or an
    `hparam` is declared outside the objective (the loss reads them there)."""
    out = {}
    for s in dataclasses.fields(cls):
      owner, defaults = s.metadata["section"], s.metadata["defaults"]
      for f in dataclasses.fields(owner):
        name = setting_name(f)
        if name in out:
          raise TypeError(f"{cls.__name__}: --{flag(name)} is a setting of both {out[name].section} "
                          f"and {s.name}")
        if ("regulariser" in f.metadata or f.metadata.get("hparam")) and s.name != "objective":
          raise TypeError(f"{cls.__name__}: {name} weighs or tunes the loss, and belongs to the "
                          f"objective, not to {s.name}")
        out[name] = Setting(name, s.name, owner, f, defaults.get(f.name, f.default))
    return types.MappingProxyType(out)

  def __post_init__(self):
    for s in dataclasses.fields(self):
      if not isinstance(getattr(self, s.name), s.metadata["section"]):
        raise TypeError(f"{type(self).__name__}.{s.name} must be a {s.metadata['section'].__name__}, "
                        f"got {type(getattr(self, s.name)).__name__}")

  @classmethod
  def from_flags(cls, **flags):
    """The config with these settings (by flag name, as `flags` gives them) and the
    defaults of the others: the command line in Python. Defaults that depend on a
    given setting (a corruption's level) follow it."""
    settings = cls.settings()
    unknown = sorted(set(flags) - set(settings))
    if unknown:
      raise TypeError(f"{cls.__name__} has no setting {', '.join(unknown)}")
    sections = {}
    for s in dataclasses.fields(cls):
      given = {settings[n].field.name: v for n, v in flags.items() if settings[n].section == s.name}
      sections[s.name] = s.metadata["section"](**{**s.metadata["defaults"], **given})
    return cls(**sections)

  def flags(self):
    """{flag name: value} of every setting (config.json's form)."""
    return {name: getattr(getattr(self, s.section), s.field.name) for name, s in self.settings().items()}

  def replace(self, **flags):
    """The config with these settings (by flag name) changed."""
    return type(self).from_flags(**{**self.flags(), **flags})

  def check(self):
    """Raises ConfigError naming the first invalid flag: each section's checks,
    then those across sections (a subclass extends this)."""
    for s in dataclasses.fields(self):
      getattr(self, s.name).check()


def regularisers(config):
  """{name: (fn, weight)} of the objective's regularisers with a non-zero weight."""
  objective = config.objective
  return {f.name: (f.metadata["regulariser"], getattr(objective, f.name))
          for f in dataclasses.fields(objective)
          if "regulariser" in f.metadata and getattr(objective, f.name) != 0}


def hparams(config):
  """{name: value} of the objective's `hparam` fields."""
  objective = config.objective
  return {f.name: getattr(objective, f.name) for f in dataclasses.fields(objective)
          if f.metadata.get("hparam")}


def sizes(text, name):
  """'128,64,12' -> (128, 64, 12); ConfigError naming --name unless positive integers."""
  try:
    values = tuple(int(w) for w in text.split(","))
    if not values or min(values) <= 0:
      raise ValueError
  except ValueError:
    raise ConfigError(f"--{name} must be positive integers separated by commas, got {text!r}") from None
  return values
