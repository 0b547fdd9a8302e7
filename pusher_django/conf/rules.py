"""How a setting is declared: a dataclass field with its default and the rules its value must pass.

The top-level keys (:mod:`.connection`) and every section (:mod:`.sections`)
are declared with :func:`setting`, so one loop checks them all, one builds
them, and the defaults are read off the same fields: the system checks, the
cached configuration and ``DEFAULTS`` cannot drift apart. A field
``activity_timeout`` is the key ``ACTIVITY_TIMEOUT``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from typing import Any, TypeVar

from django.conf import settings
from django.utils.module_loading import import_string

from pusher_django.channels import validate_channel_name
from pusher_django.exceptions import PusherValidationError

from . import codes
from .codes import Code
from .problem import Problem, shown

__all__ = [
    "CACHE_ALIAS",
    "CHANNEL_LIST",
    "COUNT",
    "DOTTED_PATH",
    "FLAG",
    "NON_NEGATIVE",
    "OPTIONAL_MAPPING",
    "OPTIONAL_POSITIVE",
    "OPTIONAL_TEXT",
    "POSITIVE",
    "POSITIVE_INT",
    "TEXT",
    "ValueRule",
    "build_fields",
    "check_fields",
    "defaults_of",
    "key_of",
    "setting",
]

T = TypeVar("T")


def _unchanged(value: Any) -> Any:
    return value


def _nothing_to_add(value: Any) -> str | None:
    return None


@dataclass(frozen=True)
class ValueRule:
    """What a value must be, the code reported when it is not, and the type it becomes.

    ``expected`` completes "must be ..."; an empty one marks a value that is
    required ("is not set"). ``hint`` may name the setting as ``{setting}``.
    """

    code: Code
    expected: str
    test: Callable[[Any], bool]
    convert: Callable[[Any], Any] = _unchanged
    #: Names the fault more precisely than ``expected`` (``None``: no more to say).
    explain: Callable[[Any], str | None] = _nothing_to_add
    hint: str = ""


def number(value: Any) -> bool:
    """A finite int or float, and not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def optional(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or test(value)


def text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _import_error(value: Any) -> str | None:
    try:
        import_string(value)
    except ImportError as err:
        return f"it cannot be imported ({err})"
    return None


def _channel_error(value: Any) -> str | None:
    if not isinstance(value, list | tuple):
        return "it is not a list"
    for name in value:
        try:
            validate_channel_name(name)
        except PusherValidationError as err:
            return str(err)
    return None


def _no_cache(value: Any) -> str | None:
    caches = getattr(settings, "CACHES", {"default": {}})
    return None if value in caches else "it is not an alias in settings.CACHES"


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


POSITIVE = ValueRule(codes.NOT_POSITIVE, "a positive number", lambda v: number(v) and v > 0, float)
POSITIVE_INT = ValueRule(
    codes.NOT_POSITIVE_INT, "a positive integer", lambda v: integer(v) and v > 0
)
OPTIONAL_POSITIVE = ValueRule(
    codes.NOT_POSITIVE_OR_NONE,
    "a positive number or None",
    optional(lambda v: number(v) and v > 0),
    _optional_float,
)
NON_NEGATIVE = ValueRule(codes.NEGATIVE, "a number >= 0", lambda v: number(v) and v >= 0, float)
COUNT = ValueRule(codes.NOT_A_COUNT, "an integer >= 0", lambda v: integer(v) and v >= 0)
FLAG = ValueRule(codes.NOT_A_FLAG, "True or False", lambda v: isinstance(v, bool))
TEXT = ValueRule(codes.NOT_TEXT, "a non-empty string", text)
OPTIONAL_TEXT = ValueRule(codes.NOT_TEXT_OR_NONE, "a non-empty string or None", optional(text))
OPTIONAL_MAPPING = ValueRule(
    codes.NOT_A_DICT_OR_NONE,
    "a dict or None",
    optional(lambda v: isinstance(v, Mapping)),
    lambda v: None if v is None else dict(v),
)
DOTTED_PATH = ValueRule(
    codes.NOT_IMPORTABLE,
    "the dotted path of an importable object (or the object itself), or None",
    lambda v: v is None or callable(v) or (text(v) and _import_error(v) is None),
    explain=lambda v: _import_error(v) if text(v) else None,
)
CHANNEL_LIST = ValueRule(
    codes.BAD_CHANNELS,
    "a list of channel names",
    lambda v: _channel_error(v) is None,
    lambda v: tuple(dict.fromkeys(v)),
    explain=_channel_error,
)
CACHE_ALIAS = ValueRule(
    codes.NO_SUCH_CACHE, "an alias of settings.CACHES", lambda v: _no_cache(v) is None
)


def setting(
    default: T,
    rule: ValueRule | tuple[ValueRule, ...],
    hint: str = "",
    *,
    key: str = "",
    secret: bool = False,
) -> T:
    """A field: its default, the rule(s) its value must pass in order, and an optional fix.

    ``key`` names the setting when it cannot be the field's name in capitals;
    a ``secret`` stays out of ``repr`` and out of check messages.
    """
    rules = rule if isinstance(rule, tuple) else (rule,)
    metadata = {"rules": rules, "hint": hint, "key": key, "secret": secret}
    return field(default=default, repr=not secret, metadata=metadata)


def key_of(item: Field[Any]) -> str:
    return str(item.metadata.get("key") or item.name.upper())


def defaults_of(schema: type[Any]) -> dict[str, Any]:
    """The declared defaults as the settings dict a user would write."""
    return {key_of(item): item.default for item in fields(schema)}


def check_fields(schema: type[Any], values: Mapping[str, Any], section: str = "") -> list[Problem]:
    """Every field of ``schema`` whose merged value breaks one of its rules (the first one)."""
    problems = []
    for item in fields(schema):
        key = key_of(item)
        name = f"PUSHER[{section!r}][{key!r}]" if section else f"PUSHER[{key!r}]"
        value = values[key]
        rule = next((r for r in item.metadata["rules"] if not r.test(value)), None)
        if rule is None:
            continue
        hint = item.metadata["hint"] or rule.hint
        hint = hint or f"Remove {name} to use the default ({item.default!r})."
        problems.append(
            Problem(
                rule.code,
                _message(rule, name, value, secret=item.metadata["secret"]),
                hint.replace("{setting}", name),
            )
        )
    return problems


def _message(rule: ValueRule, name: str, value: Any, *, secret: bool) -> str:
    if not rule.expected:
        return f"{name} is not set."
    reason = rule.explain(value)
    got = "" if secret else f", got {shown(value)}"
    return f"{name} must be {rule.expected}{got}" + (f": {reason}." if reason else ".")


def build_fields(schema: type[T], values: Mapping[str, Any]) -> T:
    """The typed ``schema`` from merged values that passed :func:`check_fields`."""
    kwargs = {
        item.name: item.metadata["rules"][-1].convert(values[key_of(item)])
        for item in fields(schema)  # type: ignore[arg-type]
    }
    return schema(**kwargs)
