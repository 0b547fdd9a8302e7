"""The listener's side of large events: a reference becomes the event it names.

An event saved ``by_reference`` that was too large for Pusher arrives as
``{"_pusher_id": 42, "_pusher_ref": 42}`` (docs/large-events.md). The listener
runs inside the Django project, so it reads row 42 itself, on the dispatcher
thread where receivers may use the ORM anyway, and ``event_received``
receivers get the whole data, as if it had fitted. Client events are never
outbox rows and are never resolved: a client could send a reference of its
own, so only a row of the same channel with the same event name answers.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError

from pusher_django import signals
from pusher_django.notices import Notice
from pusher_django.outbox.events import REFERENCE_KEY

#: Client events come from pages: their data is never resolved, whatever it looks like.
CLIENT_EVENT_PREFIX = "client-"

__all__ = ["reference_id", "resolved"]

logger = logging.getLogger(__name__)


def reference_id(data: Any) -> int | None:
    """The row id that received ``data`` stands for, or ``None`` when it is an event itself."""
    if not isinstance(data, dict):
        return None
    value = data.get(REFERENCE_KEY)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def resolved(notice: Notice) -> Notice | None:
    """``notice`` with the referenced event's data; ``None`` when that event is gone."""
    if notice.signal is not signals.event_received:
        return notice
    if str(notice.kwargs["event"]).startswith(CLIENT_EVENT_PREFIX):
        return notice  # sent by a page, never an outbox row
    event_id = reference_id(notice.kwargs["data"])
    if event_id is None:
        return notice
    from pusher_django.history import find_event  # models: only once the apps are ready

    channel, name = notice.kwargs["channel"], notice.kwargs["event"]
    try:
        found = find_event(channel, event_id)
    except DatabaseError:
        logger.exception(
            "Pusher listener: could not read event #%s %r on %r sent by reference; dropped",
            event_id,
            name,
            channel,
        )
        return None
    if found is None or found["event"] != name:
        logger.warning(
            "Pusher listener: event #%s %r on %r was sent by reference and is no longer "
            "retained (OUTBOX['RETENTION']); dropped",
            event_id,
            name,
            channel,
        )
        return None
    return Notice(notice.signal, {**notice.kwargs, "data": found["data"]})
