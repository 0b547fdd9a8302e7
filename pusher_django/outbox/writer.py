"""Events become outbox rows inside the caller's transaction; one hand-off per commit.

Only public Django APIs are used: the rows are ordinary inserts (a rolled
back transaction or savepoint removes them by itself) and the hand-off is a
``transaction.on_commit(..., robust=True)`` callback, registered with every
write but acting once per transaction. If that callback never runs — the
process died, an earlier callback raised, the broker is down — the rows are
still committed and the relay delivers them.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.utils import timezone

from pusher_django import counters
from pusher_django.conf import get_config
from pusher_django.db import MAX_BUFFERED, OutboxFlushMixin
from pusher_django.models import Delivery

from . import statements
from .events import OutgoingEvent, make_event

logger = logging.getLogger(__name__)

#: How two actions on one instance merge; a missing pair is not merged.
_MERGED = {
    ("created", "updated"): "created",
    ("updated", "updated"): "updated",
    ("updated", "deleted"): "deleted",
    ("created", "deleted"): None,  # never seen by anyone: nothing is sent
}

#: The data a transaction keeps for its sender (a bulk write's is read back instead).
CARRIED_BYTES = 1_000_000

_capturing: ContextVar[bool] = ContextVar("pusher_outbox_capturing", default=False)
_local = threading.local()


class _Transaction:
    """What the writes of one transaction share: their batch id and the hand-off.

    The batch id is also the lease token of the rows written leased for
    send-at-commit (``leased``); ``unleased`` says whether rows are left for
    Celery (a coalescing window, or send-at-commit off); ``exact`` whether the
    sender may send the rows as kept here: not once a merge may have changed
    one, nor past :data:`CARRIED_BYTES` of data (then they are read back and
    the data is not kept).
    """

    __slots__ = ("batch", "carried", "exact", "handed_off", "leased", "outer", "unleased")

    def __init__(self, outer: object) -> None:
        self.outer = outer  # the outermost atomic block it was written in
        self.batch = uuid.uuid4()
        self.handed_off = False
        self.leased: list[LeasedRow] = []
        self.exact = True
        self.carried = 0
        self.unleased = False

    def keep(
        self,
        ids: Sequence[int],
        events: Sequence[OutgoingEvent],
        shared: dict[str, Any],
        *,
        in_savepoint: bool,
    ) -> None:
        """Record written rows: leased ones for the sender, else that Celery has some."""
        until = shared["lease_until"]
        if until is None:
            self.unleased = self.unleased or bool(events)
            return
        now, token = shared["created_at"], self.batch
        pairs = zip(ids, events, strict=True)
        self.lease([LeasedRow.of(i, e, now, token, until) for i, e in pairs])
        if in_savepoint:
            self.exact = False  # a rolled-back savepoint takes these rows: read them back

    def lease(self, rows: list[LeasedRow]) -> None:
        """Keep the rows for the sender; past the limit, only what it needs to read them."""
        self.carried += sum(len(row.data) for row in rows)
        if self.exact and self.carried > CARRIED_BYTES:
            self.exact = False
            self.leased = [replace(row, data="") for row in self.leased]
        self.leased += rows if self.exact else [replace(row, data="") for row in rows]


@dataclass(frozen=True, slots=True)
class LeasedRow:
    """A row as its transaction wrote it, leased to it: what the sender sends without reading.

    Its attributes are the :class:`Delivery` fields sending uses
    (:class:`.relay.OutboxRow`), so the relay's steps take either.
    """

    pk: int
    channel: str
    name: str
    data: str
    data_is_object: bool
    is_reference: bool
    socket_id: str
    created_at: datetime
    lease_token: Any
    lease_until: datetime
    attempts: int = 0

    @classmethod
    def of(
        cls, pk: int, event: OutgoingEvent, now: datetime, token: Any, until: datetime
    ) -> LeasedRow:
        fields = (event.channel, event.name, event.data, event.data_is_object, event.is_reference)
        return cls(pk, *fields, event.socket_id, now, token, until)


def _transaction(using: str) -> _Transaction:
    """The current transaction's state; a new one once the previous was handed off.

    A rolled-back transaction never hands off. Its state is kept only while
    the same outermost atomic block is open (a savepoint rolled back), so the
    next transaction does not inherit its leased ids or its hand-off flags.
    """
    states: dict[str, _Transaction] | None = getattr(_local, "states", None)
    if states is None:
        states = _local.states = {}
    blocks = connections[using].atomic_blocks
    outer = blocks[0] if blocks else None
    state = states.get(using)
    if state is None or state.handed_off or state.outer is not outer:
        state = states[using] = _Transaction(outer)
    return state


@dataclass(frozen=True)
class Coalescing:
    """How a broadcast merges repeated events of one instance."""

    key: str
    action: str
    window: float
    #: The event name and data for a merged action.
    rebuild: Callable[[str], tuple[str, Any]]
    by_reference: bool = False


@dataclass(frozen=True, slots=True)
class Buffered:
    """One write kept by an :class:`~pusher_django.db.OutboxFlushMixin` connection."""

    state: _Transaction
    events: Sequence[OutgoingEvent]
    shared: dict[str, Any]


def write(
    events: Sequence[OutgoingEvent],
    using: str | None = None,
    coalesce: Coalescing | None = None,
) -> None:
    """Store ``events`` in the current transaction; they are sent after it commits."""
    if not events:
        return
    using = using or DEFAULT_DB_ALIAS
    state = _transaction(using)
    now = timezone.now()
    due = now + timedelta(seconds=coalesce.window) if coalesce and coalesce.window else now
    capture = _capturing.get()
    lease = not capture and due == now and _sends_at_commit(using)
    shared = {
        "batch": state.batch,
        "coalesce_key": coalesce.key if coalesce else None,
        "action": coalesce.action if coalesce else "",
        "created_at": now,
        "available_at": due,
        "lease_token": state.batch if lease else None,
        "lease_until": now + timedelta(seconds=get_config().outbox.lease) if lease else None,
    }
    connection = connections[using]
    if isinstance(connection, OutboxFlushMixin):
        if connection.in_atomic_block and coalesce is None and not capture:
            connection.outbox_buffer.append(Buffered(state, events, shared))
            if len(connection.outbox_buffer) >= MAX_BUFFERED:
                connection.flush_outbox()
            _after_commit(state, using, len(events))
            return
        connection.flush_outbox()  # what came before is written first
    with transaction.atomic(using=using, savepoint=False):
        kept = [
            event
            for event in events
            if coalesce is None or not _merge(event, coalesce, state, now, using)
        ]
        ids = statements.insert([(event, shared) for event in kept], using) if kept else []
    if not capture:
        state.keep(ids, kept, shared, in_savepoint=bool(connection.savepoint_ids))
        _after_commit(state, using, len(kept))


def flush(using: str, buffered: Sequence[Buffered]) -> None:
    """Write the kept writes of a transaction as one ``INSERT``, in the order they came."""
    rows = [(event, write.shared) for write in buffered for event in write.events]
    ids = statements.insert(rows, using)
    in_savepoint = bool(connections[using].savepoint_ids)
    start = 0
    for write in buffered:
        end = start + len(write.events)  # no ids (no RETURNING): every slice is empty
        write.state.keep(ids[start:end], write.events, write.shared, in_savepoint=in_savepoint)
        start = end


def _after_commit(state: _Transaction, using: str, written: int) -> None:
    def hand_off() -> None:  # a function: Django logs a robust callback's __qualname__
        _hand_off(state, using, written)

    transaction.on_commit(hand_off, using=using, robust=True)


def _merge(
    event: OutgoingEvent, coalesce: Coalescing, state: _Transaction, now: Any, using: str
) -> bool:
    """Fold ``event`` into a pending row of the same instance; ``True`` if nothing is left.

    Only rows never attempted and not claimed merge: of this transaction
    (leased to it when it sends at commit), or of an earlier one still waiting
    out its coalescing window. The guarded update loses cleanly to a worker
    that claims the row meanwhile.
    """
    pending = Delivery.objects.using(using).filter(
        Q(lease_token__isnull=True) | Q(lease_token=state.batch),
        coalesce_key=coalesce.key,
        channel=event.channel,
        status=Delivery.Status.PENDING,
        attempts=0,
    )
    row = (
        pending.filter(Q(batch=state.batch) | Q(available_at__gt=now))
        .order_by("-id")
        .values("id", "action", "socket_id")
        .first()
    )
    if row is None or (row["action"], coalesce.action) not in _MERGED:
        return False
    state.exact = False  # conservative: the row may be one this transaction leased
    guard = pending.filter(pk=row["id"])
    merged = _MERGED[(row["action"], coalesce.action)]
    if merged is None:
        return guard.delete()[0] > 0
    name, data = coalesce.rebuild(merged)
    rebuilt = make_event(
        event.channel, name, data, event.socket_id or None, by_reference=coalesce.by_reference
    )
    socket_id = rebuilt.socket_id if rebuilt.socket_id == row["socket_id"] else ""
    updated = guard.update(
        name=rebuilt.name,
        data=rebuilt.data,
        data_is_object=rebuilt.data_is_object,
        is_reference=rebuilt.is_reference,
        action=merged,
        socket_id=socket_id,
    )
    return updated > 0


def _sends_at_commit(using: str) -> bool:
    """Send-at-commit needs the ids of the inserted rows, which not every database returns."""
    features = connections[using].features
    return get_config().outbox.send_at_commit and features.can_return_rows_from_bulk_insert


def _hand_off(state: _Transaction, using: str, written: int = 0) -> None:
    connection = connections[using]
    if isinstance(connection, OutboxFlushMixin):
        connection.flush_outbox()  # a test running the callbacks without a commit
    counters.enqueued(written)  # this write's rows: its callback runs only if they committed
    if state.handed_off:
        return
    state.handed_off = True
    from .sender import hand_off, hand_to_celery

    if state.leased:
        hand_off(using, state.batch, state.leased, exact=state.exact)
    if state.unleased or not state.leased:
        hand_to_celery(using)


@contextmanager
def capturing() -> Iterator[None]:
    """Write rows but never hand them off (the test helpers read them instead)."""
    token = _capturing.set(True)
    try:
        yield
    finally:
        _capturing.reset(token)
