"""Live channel data for the admin, read through the REST API.

The list costs one request, plus one more when presence channels are in it
(their user counts come from a second ``get_channels`` limited to
``presence-``). Only a server that ignores ``info`` on the list (soketi)
costs one more request per presence channel. The result is cached for
``PUSHER["ADMIN"]["CACHE_SECONDS"]`` so that reloading the page does not
hammer the API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from pusher_django.channels import ChannelKind, channel_kind, is_server_to_user
from pusher_django.client import PusherClient
from pusher_django.exceptions import PusherAPIError, PusherUnexpectedResponse

PRESENCE_PREFIX = "presence-"


def kind_label(name: str) -> str:
    """``#server-to-user-…`` channels are their own thing, not public channels."""
    return "server-to-user" if is_server_to_user(name) else channel_kind(name).label


@dataclass(frozen=True)
class ChannelRow:
    name: str
    kind: ChannelKind
    subscription_count: int | None
    user_count: int | None

    @property
    def label(self) -> str:
        return kind_label(self.name)


@dataclass
class ChannelDetail:
    name: str
    kind: ChannelKind
    occupied: bool
    subscription_count: int | None = None
    user_count: int | None = None
    cache: dict[str, Any] | None = None
    users: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return kind_label(self.name)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _field(answer: Any, key: str, kind: type) -> Any:
    """``answer[key]`` when it has the documented type; the admin shows anything else."""
    value = answer.get(key) if isinstance(answer, Mapping) else None
    if not isinstance(value, kind):
        raise PusherUnexpectedResponse(
            f"The server's answer has no {key!r} {kind.__name__}: {str(answer)[:200]}"
        )
    return value


def _presence_prefix(prefix: str | None) -> str:
    return prefix if prefix and prefix.startswith(PRESENCE_PREFIX) else PRESENCE_PREFIX


def list_channels(client: PusherClient, prefix: str | None = None) -> list[ChannelRow]:
    """Occupied channels, sorted by name, with whatever counts the server gives."""
    seconds = client.config.admin.cache_seconds
    # Hashed: a filter text may hold characters a cache backend refuses in keys.
    digest = hashlib.sha256((prefix or "").encode("utf-8")).hexdigest()[:32]
    key = f"pusher_django:admin:channels:{client.config.app_id}:{digest}"
    if seconds:
        cached = cache.get(key)
        if cached is not None:
            return list(cached)
    channels = _field(client.get_channels(filter_by_prefix=prefix or None), "channels", dict)
    user_counts: dict[str, Any] = {}
    if any(channel_kind(str(name)).is_presence for name in channels):
        answer = client.get_channels(filter_by_prefix=_presence_prefix(prefix), info="user_count")
        user_counts = _field(answer, "channels", dict)
    rows = []
    for name in sorted(str(name) for name in channels):
        attributes = channels[name] if isinstance(channels[name], Mapping) else {}
        kind = channel_kind(name)
        user_count = None
        if kind.is_presence:
            counted = user_counts.get(name)
            user_count = _int(counted.get("user_count")) if isinstance(counted, Mapping) else None
            if user_count is None:  # servers (soketi) that ignore info on the list
                single: Any = client.get_channel(name, info="user_count")
                user_count = _int(single.get("user_count") if isinstance(single, Mapping) else None)
        rows.append(
            ChannelRow(
                name=name,
                kind=kind,
                subscription_count=_int(attributes.get("subscription_count")),
                user_count=user_count,
            )
        )
    if seconds:
        cache.set(key, rows, seconds)
    return rows


def channel_detail(client: PusherClient, name: str) -> ChannelDetail:
    """``get_channel`` with every attribute that applies, and presence users.

    ``subscription_count`` must be enabled in the Pusher dashboard; when the
    server refuses the attributes, the channel is asked again without them.
    """
    kind = channel_kind(name)
    info = ["user_count"] if kind.is_presence else ["subscription_count"]
    if kind.is_cache:
        info.append("cache")
    detail = ChannelDetail(name=name, kind=kind, occupied=False)
    try:
        data: Any = client.get_channel(name, info=info)
    except PusherAPIError as err:
        if err.status != 400:
            raise
        detail.notes.append(f"The server refused info={','.join(info)} ({err.server_message}).")
        data = client.get_channel(name)
    if not isinstance(data, Mapping):
        raise PusherUnexpectedResponse(f"The server's answer is not an object: {str(data)[:200]}")
    detail.occupied = bool(data.get("occupied"))
    detail.subscription_count = _int(data.get("subscription_count"))
    detail.user_count = _int(data.get("user_count"))
    cached = data.get("cache")
    detail.cache = cached if isinstance(cached, dict) else None
    if kind.is_presence and detail.occupied:
        users = _field(client.get_users(name), "users", list)
        detail.users = [
            str(user["id"]) for user in users if isinstance(user, Mapping) and "id" in user
        ]
    return detail
