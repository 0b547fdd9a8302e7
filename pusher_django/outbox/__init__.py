"""The transactional outbox: events are rows written with the data they describe.

:func:`trigger_on_commit` and model broadcasts write one row per event inside
the caller's transaction (:mod:`.writer`); after the commit one Celery task
claims and sends them, in order and ten per request (:mod:`.relay`); the
``pusher_outbox`` command or the ``pusher_django.relay_outbox`` periodic task
delivers whatever a lost hand-off left behind. Delivery is at least once:
every event carries its row id (``OUTBOX["ID_FIELD"]``) so subscribers can
drop a duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asgiref.sync import sync_to_async

from .events import OutgoingEvent, make_event
from .writer import write


def trigger_on_commit(
    channels: str | Iterable[str],
    event: str,
    data: Any,
    *,
    socket_id: str | None = None,
    using: str | None = None,
    by_reference: bool = False,
) -> None:
    """Trigger ``event`` on ``channels`` once the current transaction commits.

    The events are stored in the outbox table inside the transaction, so a
    rollback removes them and a commit guarantees them. With ``by_reference``
    data too large for Pusher is sent as a reference that pages and the
    listener resolve (docs/large-events.md).
    """
    names = [channels] if isinstance(channels, str) else list(channels)
    events = [make_event(name, event, data, socket_id, by_reference=by_reference) for name in names]
    write(events, using)


#: :func:`trigger_on_commit` from a coroutine: the same arguments, awaited. The row is
#: written on the thread, so the database connection, of the request's other async ORM
#: calls (``thread_sensitive``, like ``asave()``). Django's async ORM runs each call in
#: autocommit, so outside an ``atomic`` block run in a sync function the row commits by
#: itself, at once (docs/async.md, "What is atomic with what").
atrigger_on_commit = sync_to_async(trigger_on_commit, thread_sensitive=True)


__all__ = ["OutgoingEvent", "atrigger_on_commit", "make_event", "trigger_on_commit"]
