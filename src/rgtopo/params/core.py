"""The checked-parameter machinery every parameter class rests on: type checks, the JSON round
trip, and the config lookups that name a missing key in one line."""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

from ..errors import SpecError


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _check(where: str, hint, value):
    """value if it has the type ``hint`` (lists become tuples, mappings nested Params)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is types.UnionType and type(None) in args:  # an optional value: ``float | None``
        if value is None:
            return None
        return _check(where, next(a for a in args if a is not type(None)), value)
    if origin is Literal:
        if value in args and type(value) is type(args[args.index(value)]):
            return value
        raise SpecError(f"{where}: must be one of {', '.join(map(repr, args))}, got {value!r}")
    if isinstance(hint, type) and issubclass(hint, Params):
        if not isinstance(value, Mapping | hint):
            raise SpecError(f"{where}: expected a mapping, got {value!r}")
        return hint.of(value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise SpecError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif len(value) != len(args):
            raise SpecError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_check(f"{where}[{i}]", a, v) for i, (a, v) in enumerate(zip(args, value)))
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(hint)
    if ok is None:
        raise SpecError(f"{where}: unsupported parameter type {hint!r} (see rgtopo.params)")
    if not ok:
        raise SpecError(f"{where}: expected {_type_name(hint)}, got {value!r}")
    return value


@dataclasses.dataclass(frozen=True, kw_only=True)
class Params:
    """Base of the stage parameter classes: checked on construction, JSON round trip."""

    WHERE: ClassVar[str] = "parameters"

    def __post_init__(self):
        hints = get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _check(f"{self.WHERE}.{f.name}", hints[f.name], getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    @classmethod
    def from_dict(cls, values: Mapping, where: str | None = None):
        """The parameters in ``values``; one SpecError for a missing or unknown key."""
        where = where or cls.WHERE
        if not isinstance(values, Mapping):
            raise SpecError(f"{where}: expected a mapping of parameters, got {values!r}")
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise SpecError(f"{where}: unknown key '{unknown[0]}' (a new key needs a field "
                            f"in rgtopo.params.{cls.__name__})")
        for name in names:
            if name not in values:
                raise SpecError(f"{where} is missing '{name}'")
        try:
            return cls(**values)
        except SpecError as exc:  # name the section the caller named
            raise SpecError(str(exc).replace(f"{cls.WHERE}.", f"{where}.", 1)) from None

    @classmethod
    def of(cls, value, where: str | None = None):
        """value itself if it already is one, else ``from_dict(value)``."""
        return value if isinstance(value, cls) else cls.from_dict(value, where)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Compact, key-sorted JSON: what the rules pass as --params (or --spec)."""
        return json.dumps(self.as_dict(), sort_keys=True)



@dataclasses.dataclass(frozen=True, kw_only=True)
class NetworkParams(Params):
    """Base of the networks' parameter classes (``rgtopo.nn``): the keys of a config section that
    shape one network; the section's other keys (its training's) belong to a stage class here."""

    @classmethod
    def from_section(cls, section: Mapping, where: str | None = None):
        """The parameters among a config section's keys (or a stage's ``as_dict()``)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls.from_dict({k: v for k, v in section.items() if k in names}, where)

    @classmethod
    def from_config(cls, config: Mapping, **extra):
        """The parameters in the config's own section (``WHERE``), with ``extra`` keys set."""
        return cls.from_section({**_section(config, cls.WHERE), **extra})

FIXED_DISORDER = (1.0, 1.0)  # a dataset's disorder_scale when it names none: the paper's widths
BASE_SIZE = 4  # the base network's lattice; the RG chain halves 4 * 2^k down to it


def _top(config: Mapping, key: str):
    if key not in config:
        raise SpecError(f"config is missing '{key}'")
    return config[key]


def _section(config: Mapping, name: str, leave_out: tuple = ()) -> dict:
    section = _top(config, name)
    if not isinstance(section, Mapping):
        raise SpecError(f"config section '{name}' is not a mapping")
    return {k: v for k, v in section.items() if k not in leave_out}


@dataclasses.dataclass(frozen=True, kw_only=True)
class SectionParams(Params):
    """Parameters that are exactly one config section's keys (``WHERE``)."""

    @classmethod
    def from_config(cls, config: Mapping):
        return cls.from_dict(_section(config, cls.WHERE))
