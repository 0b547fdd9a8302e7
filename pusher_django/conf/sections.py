"""The nested settings sections, each a typed, frozen dataclass declared with :func:`.setting`.

A section's field defaults are the defaults (``DEFAULTS`` is derived from
them), and each field carries the rule its value must pass, so adding a
setting is one line here (see :mod:`.rules`). The section types are
public through :mod:`pusher_django.conf`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .rules import (
    CACHE_ALIAS,
    CHANNEL_LIST,
    COUNT,
    DOTTED_PATH,
    FLAG,
    NON_NEGATIVE,
    OPTIONAL_MAPPING,
    OPTIONAL_POSITIVE,
    OPTIONAL_TEXT,
    POSITIVE,
    POSITIVE_INT,
    TEXT,
    setting,
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
    """``PUSHER["LISTENER"]``: the ``pusher_listen`` connection."""

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
    send_at_commit: bool = setting(True, FLAG)  # this process sends due rows after the commit
    coalesce_window: float = setting(
        0.0, NON_NEGATIVE, "Set it to 0 (merge within one transaction only) or a few seconds."
    )
    backlog_warning: float = setting(60.0, POSITIVE)  # an older pending row is a warning
    max_age: float = setting(86400.0, POSITIVE)  # transient failures retried until this old
    id_field: str | None = setting(
        "_pusher_id",
        OPTIONAL_TEXT,
        "Set it to '_pusher_id' (the default) or None to send no event id.",
    )
    #: The largest event data accepted by reference (docs/large-events.md), in bytes.
    max_reference_bytes: int = setting(1048576, POSITIVE_INT)


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
