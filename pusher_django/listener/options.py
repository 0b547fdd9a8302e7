"""The listener's tunables, read from ``PUSHER["LISTENER"]`` or given directly."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pusher_django.channels import validate_channel_name
from pusher_django.conf import section


@dataclass(frozen=True)
class ListenerOptions:
    """See the README's settings reference for each field's meaning."""

    channels: tuple[str, ...] = ()
    user_id: str = "pusher-django-listener"
    user_info: Mapping[str, Any] | None = None
    signin: bool = True
    activity_timeout: float = 120.0
    pong_timeout: float = 30.0
    reconnect_backoff: float = 1.0
    reconnect_backoff_max: float = 60.0
    client_events_per_second: int = 10
    lock_url: str | None = field(default=None, repr=False)
    lock_ttl: float = 15.0
    open_timeout: float = 10.0

    @classmethod
    def from_settings(cls, extra_channels: Iterable[str] = ()) -> ListenerOptions:
        values = section("LISTENER")
        channels = [*values["CHANNELS"], *extra_channels]
        return cls(
            channels=tuple(dict.fromkeys(validate_channel_name(name) for name in channels)),
            user_id=str(values["USER_ID"]),
            user_info=values["USER_INFO"],
            signin=bool(values["SIGNIN"]),
            activity_timeout=float(values["ACTIVITY_TIMEOUT"]),
            pong_timeout=float(values["PONG_TIMEOUT"]),
            reconnect_backoff=float(values["RECONNECT_BACKOFF"]),
            reconnect_backoff_max=float(values["RECONNECT_BACKOFF_MAX"]),
            client_events_per_second=int(values["CLIENT_EVENTS_PER_SECOND"]),
            lock_url=values["LOCK_URL"],
            lock_ttl=float(values["LOCK_TTL"]),
        )

    def with_channels(self, channels: Iterable[str]) -> ListenerOptions:
        return replace(self, channels=tuple(dict.fromkeys(channels)))
