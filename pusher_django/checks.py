"""``manage.py check`` for the Pusher settings, and ``check --deploy`` for the outbox's databases.

The rules live in :func:`pusher_django.conf.find_problems`, shared with
:func:`~pusher_django.conf.get_config`, so the checks and the runtime never
disagree. Ids are stable (``pusher_django.E001`` ...) for
``SILENCED_SYSTEM_CHECKS``.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from .conf import find_problems
from .conf.codes import ONE_INSERT_PER_SAVE

__all__ = ["check_outbox_databases", "check_settings"]


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for problem in find_problems():
        kind = checks.Error if problem.level == "error" else checks.Warning
        messages.append(kind(problem.message, hint=problem.hint, id=problem.id))
    return messages


def check_outbox_databases(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Production advice: each broadcast through Django's own backend is one more round trip.

    A deploy check, because Django's backend works, only slower: a transaction
    of ten saves then runs ten outbox ``INSERT`` statements instead of one
    (measured on PostgreSQL: up to 2.7x the plain save instead of under 2x).
    A replica (``TEST["MIRROR"]``) is left out: it never writes the outbox.
    """
    from pusher_django.db import OutboxFlushMixin, flushing_engine
    from pusher_django.models import Delivery

    messages: list[checks.CheckMessage] = []
    for alias in connections:
        configured = connections.settings[alias]
        engine = configured.get("ENGINE", "")
        if engine == "django.db.backends.dummy" or configured.get("TEST", {}).get("MIRROR"):
            continue  # no database, or a replica: it never writes the outbox
        if not router.allow_migrate_model(alias, Delivery):
            continue
        connection = _connection(alias)
        if connection is None or isinstance(connection, OutboxFlushMixin):
            continue
        flushing = flushing_engine(engine)
        hint = (
            f"Set DATABASES[{alias!r}]['ENGINE'] to {flushing!r}."
            if flushing != engine
            else "Put pusher_django.db.OutboxFlushMixin in front of its backend's "
            "DatabaseWrapper and name that module as ENGINE."
        )
        message = (
            f"DATABASES[{alias!r}] ({engine}) writes the outbox with one INSERT per broadcast; "
            "pusher_django's backend writes a transaction's events in one, before the commit."
        )
        messages.append(checks.Warning(message, hint=hint, id=ONE_INSERT_PER_SAVE.id))
    return messages


def _connection(alias: str) -> Any:
    try:
        return connections[alias]
    except ImproperlyConfigured:  # an ENGINE that does not load: not this check's to report
        return None
