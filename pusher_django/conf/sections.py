"""The nested settings sections, each a typed, frozen dataclass that says how it is checked.

A section's field defaults are the defaults (``DEFAULTS`` is derived from
them), and each field carries the :class:`Rule` its value must pass, so
adding a setting is one line here: the system checks, the cached
configuration and the defaults cannot drift apart. A field
``activity_timeout`` is the key ``ACTIVITY_TIMEOUT``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

from django.conf import settings
from django.utils.module_loading import import_string

from pusher_django.channels import validate_channel_name
from pusher_django.exceptions import PusherValidationError

from .problem import Problem, shown

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    """What a value must be (``expected`` completes "must be ..."), its check id and its type."""

    id: str
    expected: str
    test: Callable[[Any], bool]
    convert: Callable[[Any], Any] = lambda value: value
    #: Names the fault more precisely than ``expected`` (``None``: no more to say).
    explain: Callable[[Any], str | None] = lambda value: None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or test(value)


def _text(value: Any) -> bool:
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


POSITIVE = Rule("pusher_django.E017", "a positive number", lambda v: _number(v) and v > 0, float)
POSITIVE_INT = Rule("pusher_django.E017", "a positive integer", lambda v: _integer(v) and v > 0)
OPTIONAL_POSITIVE = Rule(
    "pusher_django.E017",
    "a positive number or None",
    _optional(lambda v: _number(v) and v > 0),
    _optional_float,
)
NON_NEGATIVE = Rule("pusher_django.E019", "a number >= 0", lambda v: _number(v) and v >= 0, float)
COUNT = Rule("pusher_django.E024", "an integer >= 0", lambda v: _integer(v) and v >= 0)
FLAG = Rule("pusher_django.E023", "True or False", lambda v: isinstance(v, bool))
TEXT = Rule("pusher_django.E024", "a non-empty string", _text)
OPTIONAL_TEXT = Rule("pusher_django.E024", "a non-empty string or None", _optional(_text))
OPTIONAL_MAPPING = Rule(
    "pusher_django.E024",
    "a dict or None",
    _optional(lambda v: isinstance(v, Mapping)),
    lambda v: None if v is None else dict(v),
)
DOTTED_PATH = Rule(
    "pusher_django.E022",
    "the dotted path of an importable object (or the object itself), or None",
    lambda v: v is None or callable(v) or (_text(v) and _import_error(v) is None),
    explain=lambda v: _import_error(v) if _text(v) else None,
)
CHANNEL_LIST = Rule(
    "pusher_django.E016",
    "a list of channel names",
    lambda v: _channel_error(v) is None,
    lambda v: tuple(dict.fromkeys(v)),
    explain=_channel_error,
)
CACHE_ALIAS = Rule(
    "pusher_django.E018", "an alias of settings.CACHES", lambda v: _no_cache(v) is None
)
EVENT_ID_FIELD = Rule("pusher_django.E020", "a non-empty string or None", _optional(_text))


def setting(default: T, rule: Rule, hint: str = "", *, key: str = "", secret: bool = False) -> T:
    """A section field: its default, the rule its value must pass, and an optional fix.

    ``key`` names the setting when it cannot be the field's name in capitals;
    a ``secret`` (a URL with a password) stays out of ``repr``.
    """
    return field(
        default=default, repr=not secret, metadata={"rule": rule, "hint": hint, "key": key}
    )


@dataclass(frozen=True)
class AuthSettings:
    """``PUSHER["AUTH"]``: how the auth endpoints decide and whom they name."""

    #: A ChannelPolicy subclass replacing the @channel rules.
    policy: str | None = setting(None, DOTTED_PATH)
    #: callable(user) -> str: the presence user id (default: the pk).
    presence_user_id: str | None = setting(None, DOTTED_PATH)
    #: callable(request) -> dict: the user data of pusher.signin().
    user_data: str | None = setting(None, DOTTED_PATH)


@dataclass(frozen=True)
class CelerySettings:
    """``PUSHER["CELERY"]``: where tasks go and how transient failures are retried."""

    queue: str | None = setting(None, OPTIONAL_TEXT)  # None: Celery's default queue
    max_retries: int = setting(10, COUNT)
    retry_backoff: float = setting(1.0, NON_NEGATIVE)  # doubled after each retry (0: none)
    retry_backoff_max: float = setting(300.0, NON_NEGATIVE)


@dataclass(frozen=True)
class UsersSettings:
    """``PUSHER["USERS"]``: when a user's connections are terminated."""

    terminate_on_deactivate: bool = setting(True, FLAG)  # is_active False or user deleted
    terminate_on_logout: bool = setting(False, FLAG)


@dataclass(frozen=True)
class ListenerSettings:
    """``PUSHER["LISTENER"]``: the ``pusher_listen`` connection (also :class:`ListenerSettings`)."""

    channels: tuple[str, ...] = setting(
        (), CHANNEL_LIST, "Set PUSHER['LISTENER']['CHANNELS'] = ['presence-room-1', ...]."
    )
    user_id: str = setting("pusher-django-listener", TEXT)  # presence member id / sign-in id
    user_info: Mapping[str, Any] | None = setting(None, OPTIONAL_MAPPING)
    signin: bool = setting(True, FLAG)  # needed by servers with authorized connections
    activity_timeout: float = setting(120.0, POSITIVE)  # silence before a ping
    pong_timeout: float = setting(30.0, POSITIVE)
    reconnect_backoff: float = setting(1.0, POSITIVE)  # first delay, doubled each time
    reconnect_backoff_max: float = setting(60.0, POSITIVE)
    client_events_per_second: int = setting(10, POSITIVE_INT)  # Pusher's limit per connection
    lock_url: str | None = setting(None, OPTIONAL_TEXT, secret=True)  # Redis for --lock
    lock_ttl: float = setting(15.0, POSITIVE)  # before a dead lock holder is replaced
    open_timeout: float = setting(10.0, POSITIVE)  # for the websocket handshake

    @classmethod
    def from_settings(cls, extra_channels: Iterable[str] = ()) -> ListenerSettings:
        """The configured section, with ``extra_channels`` (e.g. ``--channel``) joined too."""
        from .config import get_config

        base = get_config().listener
        extra = (validate_channel_name(name) for name in extra_channels)
        return replace(base, channels=tuple(dict.fromkeys((*base.channels, *extra))))


@dataclass(frozen=True)
class AdminSettings:
    """``PUSHER["ADMIN"]``: the live channel pages."""

    cache_seconds: float = setting(5.0, NON_NEGATIVE)  # 0: always live


@dataclass(frozen=True)
class OutboxSettings:
    """``PUSHER["OUTBOX"]``: the durable delivery table and its relay."""

    retention: float = setting(86400.0, POSITIVE)  # sent rows are kept this long
    lease: float = setting(60.0, POSITIVE)  # a claimed row is reserved this long
    claim_size: int = setting(50, POSITIVE_INT)  # rows one worker claims at a time
    relay_interval: float = setting(5.0, POSITIVE)  # between `pusher_outbox` passes
    coalesce_window: float = setting(
        0.0, NON_NEGATIVE, "Set it to 0 (merge within one transaction only) or a few seconds."
    )
    backlog_warning: float = setting(60.0, POSITIVE)  # an older pending row is a warning
    max_age: float = setting(86400.0, POSITIVE)  # transient failures retried until this old
    id_field: str | None = setting(
        "_pusher_id",
        EVENT_ID_FIELD,
        "Set it to '_pusher_id' (the default) or None to send no event id.",
    )


@dataclass(frozen=True)
class WebhookSettings:
    """``PUSHER["WEBHOOKS"]``: verification and at-most-once dispatch."""

    asynchronous: bool = setting(False, FLAG, key="ASYNC")  # verify, enqueue, answer at once
    max_age: float | None = setting(300.0, OPTIONAL_POSITIVE)  # older time_ms refused
    dedup_ttl: float = setting(600.0, POSITIVE)  # a handled event is remembered this long
    cache: str = setting(
        "default",
        CACHE_ALIAS,
        "Set it to an alias of settings.CACHES (the webhook endpoint remembers handled "
        "events there).",
    )


@dataclass(frozen=True)
class HealthSettings:
    """``PUSHER["HEALTH"]``: the counters and listener heartbeats behind Pusher → Overview."""

    cache: str = setting(
        "default",
        CACHE_ALIAS,
        "Set it to an alias of settings.CACHES that every process shares (Redis, Memcached).",
    )
    heartbeat: float = setting(5.0, POSITIVE)  # a listener replica reports this often


#: settings key -> its section type, in the order the checks report them
SECTIONS: dict[str, type[Any]] = {
    "AUTH": AuthSettings,
    "CELERY": CelerySettings,
    "USERS": UsersSettings,
    "LISTENER": ListenerSettings,
    "ADMIN": AdminSettings,
    "OUTBOX": OutboxSettings,
    "WEBHOOKS": WebhookSettings,
    "HEALTH": HealthSettings,
}


def key_of(item: Any) -> str:
    return str(item.metadata.get("key") or item.name.upper())


def defaults_of(section_type: type[Any]) -> dict[str, Any]:
    """The section's defaults as the settings dict a user would write."""
    return {key_of(item): item.default for item in fields(section_type)}


def check_section(name: str, section_type: type[Any], values: Mapping[str, Any]) -> list[Problem]:
    """Every field of one merged section that breaks its rule, plus unknown keys."""
    problems = []
    known = {key_of(item): item for item in fields(section_type)}
    for key in values:
        if key not in known:
            problems.append(
                Problem(
                    "pusher_django.W001",
                    f"Unknown key PUSHER[{name!r}][{key!r}] is ignored.",
                    f"Use one of: {', '.join(sorted(known))}.",
                    "warning",
                )
            )
    for key, item in known.items():
        rule: Rule = item.metadata["rule"]
        value = values[key]
        if rule.test(value):
            continue
        reason = rule.explain(value)
        problems.append(
            Problem(
                rule.id,
                f"PUSHER[{name!r}][{key!r}] must be {rule.expected}, got {shown(value)}"
                + (f": {reason}." if reason else "."),
                item.metadata["hint"]
                or f"Remove PUSHER[{name!r}][{key!r}] to use the default ({item.default!r}).",
            )
        )
    return problems


def build_section(section_type: type[T], values: Mapping[str, Any]) -> T:
    """The typed section from merged values that passed :func:`check_section`."""
    kwargs = {
        item.name: item.metadata["rule"].convert(values[key_of(item)])
        for item in fields(section_type)  # type: ignore[arg-type]
    }
    return section_type(**kwargs)
