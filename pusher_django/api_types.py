"""Typed shapes of what the client takes and returns.

They are ``TypedDict`` so that results stay the plain decoded JSON the Pusher
docs describe (easy to log, cache and pass to Celery) while editors and mypy
still know the keys.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class BatchEvent(TypedDict):
    """One event of ``trigger_batch``: a single channel each."""

    channel: str
    name: str
    data: Any
    socket_id: NotRequired[str]
    info: NotRequired[str | list[str]]


class ChannelAttributes(TypedDict, total=False):
    subscription_count: int
    user_count: int


class TriggerResult(TypedDict, total=False):
    channels: dict[str, ChannelAttributes]
    ok: bool  # soketi answers {"ok": true} where hosted Pusher answers {}


class BatchResult(TypedDict, total=False):
    batch: list[ChannelAttributes]
    ok: bool


class ChannelsResult(TypedDict):
    channels: dict[str, ChannelAttributes]


class CacheContents(TypedDict):
    data: str
    ttl: int


class ChannelInfo(TypedDict, total=False):
    occupied: bool
    subscription_count: int
    user_count: int
    cache: CacheContents | None


class ChannelUser(TypedDict):
    """One entry of ``GET /channels/{channel}/users``: a presence member's id."""

    id: str


class UsersResult(TypedDict):
    users: list[ChannelUser]


class ChannelAuth(TypedDict, total=False):
    auth: str
    channel_data: str
    shared_secret: str


class UserAuth(TypedDict):
    auth: str
    user_data: str
