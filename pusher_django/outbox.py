"""Events waiting for their transaction to commit, then handed to Celery.

Every event is registered with ``transaction.on_commit``, so Django drops the
events of a rolled-back transaction or savepoint. The events that survive are
collected and sent by one ``trigger_batch`` task per transaction: in order,
ten per REST request. Outside a transaction they are enqueued at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction

from .channels import validate_channel_name
from .payloads import serialize
from .sockets import current_socket_id
from .validation import validate_event_name

logger = logging.getLogger(__name__)

Event = dict[str, Any]
_capture: ContextVar[Callable[[list[Event]], None] | None] = ContextVar(
    "pusher_capture", default=None
)


def make_event(channel: str, name: str, data: Any, socket_id: str | None = None) -> Event:
    """A batch event; invalid names and unserializable data fail here, at save time."""
    serialize(data)
    event: Event = {
        "channel": validate_channel_name(channel, allow_server_to_user=True),
        "name": validate_event_name(name),
        "data": data,
    }
    socket_id = socket_id or current_socket_id()
    if socket_id:
        event["socket_id"] = socket_id
    return event


def _flush(connection: Any) -> None:
    events = connection.__dict__.pop("_pusher_pending", [])
    if events:
        dispatch(events)


def _move_flush_last(connection: Any) -> None:
    """Keep one flush callback after every event callback of the transaction.

    It is registered outside any savepoint (empty savepoint set) so a
    rolled-back savepoint can drop events but never the flush itself.
    """
    hooks = connection.run_on_commit
    hooks[:] = [hook for hook in hooks if not getattr(hook[1], "_pusher_flush", False)]
    flush = partial(_flush, connection)
    flush._pusher_flush = True  # type: ignore[attr-defined]
    hooks.append((set(), flush, False))


def send_after_commit(events: Iterable[Event], using: str | None = None) -> None:
    """Send ``events`` (from :func:`make_event`) once the current transaction commits."""
    using = using or DEFAULT_DB_ALIAS
    events = list(events)
    if not events:
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        dispatch(events)
        return
    # Only events whose commit callback ran are here, so a rolled-back
    # transaction leaves nothing behind.
    pending = connection.__dict__.setdefault("_pusher_pending", [])
    for event in events:
        transaction.on_commit(partial(pending.append, event), using=using)
    _move_flush_last(connection)


def trigger_on_commit(
    channels: str | Iterable[str],
    event: str,
    data: Any,
    *,
    socket_id: str | None = None,
    using: str | None = None,
) -> None:
    """Trigger through Celery after the current transaction commits (the public helper)."""
    names = [channels] if isinstance(channels, str) else list(channels)
    send_after_commit([make_event(name, event, data, socket_id) for name in names], using)


def dispatch(events: list[Event]) -> None:
    """Hand committed events to Celery (or to a test capture)."""
    capture = _capture.get()
    if capture is not None:
        capture(events)
        return
    from . import tasks

    if tasks.enqueue(tasks.trigger_batch, events):
        return
    try:
        for _ in tasks.send_in_order(events):
            pass
    except Exception:
        logger.exception("Could not send %d Pusher event(s) either; they are lost", len(events))


@contextlib.contextmanager
def capturing(callback: Callable[[list[Event]], None]) -> Iterator[None]:
    token = _capture.set(callback)
    try:
        yield
    finally:
        _capture.reset(token)
