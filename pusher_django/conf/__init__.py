"""Settings: one ``DEFAULTS`` dict, one cached, typed :class:`PusherConfig`, one problem list.

Nothing here reads settings at import time. :func:`get_config` builds a
frozen :class:`PusherConfig` on first use and caches it; every nested
section is a typed attribute of it (``get_config().outbox.lease``). The cache
is cleared when ``override_settings`` changes ``PUSHER``, ``PUSHER_URL`` or
``CACHES`` (and by :func:`reset_config`, for the environment variable).
:func:`find_problems` is shared by :func:`get_config` and the system checks
so that both always agree on what is wrong.

Where things live: :mod:`.connection` (top-level keys), :mod:`.sections`
(the nested sections and their rules), :mod:`.parsing` (``PUSHER_URL`` and
the master key), :mod:`.problem` (the problem record), :mod:`.config` (the
object and its cache).
"""

from __future__ import annotations

from .config import (
    DEFAULTS,
    PusherConfig,
    find_problems,
    get_config,
    merged_settings,
    on_reset,
    reset_config,
)
from .connection import DEFAULT_CLUSTER
from .parsing import parse_master_key, parse_pusher_url
from .problem import Problem, redact, shown
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
    "DEFAULT_CLUSTER",
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
    "merged_settings",
    "on_reset",
    "parse_master_key",
    "parse_pusher_url",
    "redact",
    "reset_config",
    "shown",
]
