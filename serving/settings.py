"""One way to declare a process's settings: each field of a frozen dataclass says, once, its flag, its
``PLANTSERVE_*`` env name, its default, its help and its check. The CLI flags, the env and the docs all
come from that declaration.

- A flag on the command line wins over the env; the env wins over the default. An empty env value counts
  as unset.
- ``empty=VALUE`` makes an env variable that is set but empty mean VALUE (for example "no label").
- The flag is ``--field-name`` and the env ``PLANTSERVE_FIELD_NAME`` unless the field names others
  (``env=""``: no env; ``flag=""``: env only). Units belong in the name (``..._seconds``, ``..._bytes``).
  A class whose settings belong to one command may set ``ENV_PREFIX: ClassVar[str]`` (for example
  ``"PLANTSERVE_DEMO_"``) so that its env names cannot collide with another process's.
- Types come from the annotation: ``str``, ``int``, ``float``, ``bool`` (``--flag`` alone means true,
  ``--flag=false`` works too), ``Path``, ``X | None``, and ``tuple[X, ...]`` (comma-separated; a
  repeated flag adds to the list).
- A failed parse or check raises ``SettingsError`` naming the flag and the env variable. A class may
  add cross-field checks in ``validate(self)`` (raise ``SettingsError``).

Example::

    >>> import argparse, dataclasses
    >>> @dataclasses.dataclass(frozen=True)
    ... class Poll:
    ...     store: str = setting(help="store URI", required=True)
    ...     poll_interval_seconds: float = setting(10.0, help="how often to look", check=positive)
    >>> p = argparse.ArgumentParser(); add_arguments(p, Poll)
    >>> build(Poll, p.parse_args(["--store", "/s"]), env={"PLANTSERVE_POLL_INTERVAL_SECONDS": "2"})
    Poll(store='/s', poll_interval_seconds=2.0)
    >>> build(Poll, p.parse_args([]), env={})
    Traceback (most recent call last):
    ...
    serving.settings.SettingsError: --store (or PLANTSERVE_STORE) is required
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any, Callable, Mapping

__all__ = ["SettingsError", "Spec", "setting", "add_arguments", "build", "specs", "ENV_PREFIX",
           "positive", "non_negative", "one_of", "parse_bool"]

ENV_PREFIX = "PLANTSERVE_"
_SPEC = "plantserve.setting"
_UNSET = object()


class SettingsError(ValueError):
    """A flag or env value is wrong; the message names both, and what to do."""


Check = Callable[[Any], "str | None"]


@dataclasses.dataclass(frozen=True)
class Spec:
    """How one field is set. ``flag`` and ``env`` are filled in by :func:`specs`."""

    name: str
    help: str
    flag: str
    env: str
    default: Any
    required: bool
    check: Check | None
    choices: tuple[Any, ...] | None
    kind: Callable[[str], Any]
    many: bool
    optional: bool
    group: str | None
    #: What a set but empty env value means; ``_UNSET``: the env variable counts as unset.
    empty: Any = _UNSET

    def where(self) -> str:
        parts = [p for p in (self.flag, self.env) if p]
        return parts[0] + (f" (or {parts[1]})" if len(parts) > 1 else "")


def setting(default: Any = None, *, help: str, flag: str | None = None, env: str | None = None,  # noqa: A002
            required: bool = False, check: Check | None = None, choices: tuple[Any, ...] | None = None,
            group: str | None = None, empty: Any = _UNSET) -> Any:
    """A dataclass field that is also a flag and an env variable (see the module docstring)."""
    meta = {"help": help, "flag": flag, "env": env, "required": required, "check": check, "choices": choices,
            "group": group, "empty": empty}
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple for a sequence default")
    return dataclasses.field(default=default, metadata={_SPEC: meta})


def parse_bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


def positive(value: Any) -> str | None:
    return None if value is None or value > 0 else "must be > 0"


def non_negative(value: Any) -> str | None:
    return None if value is None or value >= 0 else "must be >= 0"


def one_of(*allowed: Any) -> Check:
    def check(value: Any) -> str | None:
        return None if value is None or value in allowed else f"must be one of {', '.join(map(str, allowed))}"
    return check


def _kind(annotation: Any) -> tuple[Callable[[str], Any], bool, bool]:
    """(parser of one item, is a tuple of items, accepts None) for a field's type."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
        origin = typing.get_origin(annotation)
    many = origin is tuple
    item = typing.get_args(annotation)[0] if many else annotation
    parsers: dict[Any, Callable[[str], Any]] = {str: str, int: int, float: float, bool: parse_bool, Path: Path}
    if item not in parsers:
        raise TypeError(f"settings fields take str, int, float, bool, Path or tuples of them, not {item}")
    return parsers[item], many, optional


def specs(cls: type) -> list[Spec]:
    """Every declared setting of ``cls``, in declaration order."""
    namespace = vars(sys.modules[cls.__module__])
    prefix = getattr(cls, "ENV_PREFIX", ENV_PREFIX)
    out = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_SPEC)
        if meta is None:
            continue  # not a setting: its type may be one only a type checker imports
        hint = eval(f.type, namespace) if isinstance(f.type, str) else f.type  # noqa: S307 - the class's own annotation
        kind, many, optional = _kind(hint)
        flag = f"--{f.name.replace('_', '-')}" if meta["flag"] is None else meta["flag"]
        env = prefix + f.name.upper() if meta["env"] is None else meta["env"]
        out.append(Spec(f.name, meta["help"], flag, env, f.default, meta["required"], meta["check"],
                        meta["choices"], kind, many, optional, meta["group"], meta["empty"]))
    return out


def add_arguments(parser: argparse.ArgumentParser, cls: type, *, suppress: bool = False) -> None:
    """One flag per setting. Defaults are None so that :func:`build` can tell "not given" apart;
    ``suppress=True`` leaves a flag that is not given out of the namespace altogether (for a parent
    parser shared by a command and its subcommands, where a subcommand's None would hide the command's value)."""
    groups: dict[str, Any] = {}
    for spec in specs(cls):
        if not spec.flag:
            continue
        target = parser if spec.group is None else groups.setdefault(spec.group, parser.add_argument_group(spec.group))
        shown = "" if spec.default in (None, ()) else f" (default {_show(spec.default)})"
        env = f" [{spec.env}]" if spec.env else ""
        text = f"{spec.help}{shown}{env}".replace("%", "%%")
        absent = argparse.SUPPRESS if suppress else None
        if spec.kind is parse_bool and not spec.many:
            target.add_argument(spec.flag, dest=spec.name, default=absent, nargs="?", const="true", metavar="BOOL",
                                help=text)
        elif spec.many:
            target.add_argument(spec.flag, dest=spec.name, default=absent, action="append", help=text)
        else:
            target.add_argument(spec.flag, dest=spec.name, default=absent, help=text,
                                choices=[str(c) for c in spec.choices] if spec.choices else None)


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _parse(spec: Spec, raw: Any) -> Any:
    if spec.many:
        items = raw if isinstance(raw, list) else [raw]
        return tuple(spec.kind(part.strip()) for item in items for part in str(item).split(",") if part.strip())
    return spec.kind(str(raw)) if isinstance(raw, str) else raw


def build(cls: type, args: argparse.Namespace | None = None, env: Mapping[str, str] | None = None,
          **overrides: Any) -> Any:
    """The settings object: flags (``args``) over env over defaults, parsed and checked.
    ``overrides`` win outright, None included (``--latest`` means "no label" whatever the env says); they
    are values that need no parsing, or fields that are not settings (a positional argument, an object
    built from several flags)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for spec in specs(cls):
        given = spec.name in overrides
        raw = overrides[spec.name] if given else getattr(args, spec.name, None) if args is not None else None
        source = spec.flag or spec.env
        blank = False
        if raw is None and not given and spec.env and spec.env in env:
            if env[spec.env].strip() != "":
                raw, source = env[spec.env], spec.env
            else:
                blank, source = spec.empty is not _UNSET, spec.env
        try:
            value = (None if given else spec.empty if blank else spec.default) if raw is None else _parse(spec, raw)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{spec.where()}: {exc}") from exc
        if spec.required and value in (None, "", ()):
            raise SettingsError(f"{spec.where()} is required")
        if spec.choices and value is not None and value not in spec.choices:
            raise SettingsError(f"{spec.where()}: {value!r} is not one of {', '.join(map(str, spec.choices))}")
        problem = spec.check(value) if spec.check else None
        if problem:
            raise SettingsError(f"{spec.where()}: {problem} (got {_show(value)} from {source})")
        values[spec.name] = value
    extra = {k: v for k, v in overrides.items() if k not in values}  # fields that are not settings
    made = cls(**values, **extra)
    validate = getattr(made, "validate", None)
    if validate is not None:
        validate()
    return made
