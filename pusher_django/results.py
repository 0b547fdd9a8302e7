"""Old name of :mod:`pusher_django.api_types`, kept so existing imports work."""

from __future__ import annotations

from .api_types import (
    BatchEvent,
    BatchResult,
    CacheContents,
    ChannelAttributes,
    ChannelAuth,
    ChannelInfo,
    ChannelsResult,
    PresenceUser,
    TriggerResult,
    UserAuth,
    UsersResult,
)

__all__ = [
    "BatchEvent",
    "BatchResult",
    "CacheContents",
    "ChannelAttributes",
    "ChannelAuth",
    "ChannelInfo",
    "ChannelsResult",
    "PresenceUser",
    "TriggerResult",
    "UserAuth",
    "UsersResult",
]
