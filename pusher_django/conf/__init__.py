"""Settings: one ``DEFAULTS`` dict, one cached, typed :class:`PusherConfig`, one problem list.

Nothing here reads settings at import time. :func:`get_config` builds a
frozen :class:`PusherConfig` on first use and caches it; every nested
section is a typed attribute of it (``get_config().outbox.lease``). The cache
is cleared when ``override_settings`` changes ``PUSHER``, ``PUSHER_URL`` or
``CACHES`` (and by :func:`reset_config`, for the environment variable).
:func:`find_problems` is shared by :func:`get_config` and the system checks
so that both always agree on what is wrong.

Where things live: :mod:`.rules` (how a setting is declared and checked),
:mod:`.connection` (the top-level keys), :mod:`.sections` (the nested
sections), :mod:`.consistency` (checks across settings), :mod:`.codes` (every
check id), :mod:`.parsing` (``PUSHER_URL`` and the master key),
:mod:`.problem` (the problem record), :mod:`.config` (the object and its
cache).
"""

from __future__ import annotations

from .config import DEFAULTS, PusherConfig, find_problems, get_config, on_reset, reset_config
from .parsing import parse_master_key, parse_pusher_url
from .problem import Problem, redact
from .sections import (
    AdminSettings,
    AuthSettings,
    CelerySettings,
    HealthSettings,
    ListenerSettings,
    OutboxSettings,
    UsersSettings,
    WebhookSettings,
)

__all__ = [
    "DEFAULTS",
    "AdminSettings",
    "AuthSettings",
    "CelerySettings",
    "HealthSettings",
    "ListenerSettings",
    "OutboxSettings",
    "Problem",
    "PusherConfig",
    "UsersSettings",
    "WebhookSettings",
    "find_problems",
    "get_config",
    "on_reset",
    "parse_master_key",
    "parse_pusher_url",
    "redact",
    "reset_config",
]
