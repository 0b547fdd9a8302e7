"""Delivering outbox rows: claim with a lease, send in order, mark, retry or dead-letter.

Claiming is safe with any number of workers and relays. Where the database
has ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL, MySQL 8, Oracle)
concurrent claimers skip each other's rows; elsewhere (SQLite) a claim
starts by taking the database's write lock, so claims run one at a time.
Either way a claim only takes, per channel, an unbroken run starting at the
channel's oldest pending row, so one channel's events go out in id order
however many workers race, and a channel waiting out a retry holds back only
its own later events.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from pusher_django import counters
from pusher_django.client import MAX_BATCH_EVENTS, PusherClient, get_client, send_events
from pusher_django.conf import get_config
from pusher_django.exceptions import PusherConfigurationError, PusherError, PusherTransientError
from pusher_django.models import Delivery
from pusher_django.models.delivery import DeliveryQuerySet
from pusher_django.retry import retry_delay
from pusher_django.tracing import traced

from . import statements
from .events import id_field, sent_data

logger = logging.getLogger(__name__)

PENDING, FAILED = Delivery.Status.PENDING, Delivery.Status.FAILED

#: Rows one prune statement deletes: big enough for throughput, small enough to be brief.
PRUNE_BATCH = 5000
#: Counts stop here; above it the database's estimate stands in.
COUNT_CAP = 1000


@dataclass
class Report:
    """What one :func:`deliver` call did, and when to look again."""

    sent: int = 0
    failed: int = 0
    deferred: int = 0
    #: When pending rows that could not be sent now become due (``None``: nothing left).
    next_due: datetime | None = None
    failures: list[str] = field(default_factory=list)


def _rows(using: str) -> DeliveryQuerySet:
    return Delivery.objects.using(using)


def _free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def claim(using: str, now: datetime | None = None) -> list[Delivery]:
    """Lease the next rows this worker may send, in id order (empty: nothing to do)."""
    options = get_config().outbox
    now = now or timezone.now()
    token = uuid.uuid4()
    rows = _rows(using)
    skip_locked = connections[using].features.has_select_for_update_skip_locked
    # A channel with a row waiting for a retry or leased to a worker sends nothing else now.
    held = rows.pending().filter(Q(available_at__gt=now) | Q(lease_until__gte=now))
    with transaction.atomic(using=using):
        if not skip_locked:
            rows.filter(pk=0).update(lease_token=None)  # take the write lock first
        candidates = (
            rows.pending()
            .filter(_free(now), available_at__lte=now)
            .exclude(channel__in=held.values("channel"))
            .by_id()
        )
        if skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        picked = list(candidates.values_list("id", "channel")[: options.claim_size])
        ids = _unbroken_runs(picked, rows)
        if ids:
            lease = timedelta(seconds=options.lease)
            rows.filter(_free(now), id__in=ids).update(lease_token=token, lease_until=now + lease)
    if not ids:
        return []
    return list(rows.filter(id__in=ids, lease_token=token).order_by("id"))


def _unbroken_runs(picked: Sequence[tuple[int, str]], rows: DeliveryQuerySet) -> list[int]:
    """Per channel, the picked ids up to the first pending row someone else holds."""
    if not picked:
        return []
    mine = {row_id for row_id, _ in picked}
    pending = (
        rows.pending()
        .filter(channel__in={channel for _, channel in picked}, id__lte=max(mine))
        .by_id()
        .values_list("id", "channel")
    )
    stopped: set[str] = set()
    ids = []
    for row_id, channel in pending:
        if channel in stopped:
            continue
        if row_id in mine:
            ids.append(row_id)
        else:
            stopped.add(channel)
    return ids


@traced("pusher_django.outbox.deliver")
def deliver(using: str | None = None, *, max_rounds: int | None = None) -> Report:
    """Claim and send until nothing is left to claim (or ``max_rounds`` claims)."""
    using = using or DEFAULT_DB_ALIAS
    report = Report()
    rounds = 0
    client = get_client()
    while max_rounds is None or rounds < max_rounds:
        rows = claim(using)
        rounds += 1
        if not rows:
            break
        send_rows(client, rows, using, report)
        if report.deferred:
            break  # the API is failing: leave the rest to the scheduled retry
    report.next_due = next_due(using)
    if report.sent or report.failed or report.deferred:
        logger.info(
            "Outbox: %d sent, %d failed, %d deferred", report.sent, report.failed, report.deferred
        )
    return report


class OutboxRow(Protocol):
    """What sending reads of a row: a :class:`Delivery`, or one the sender has as written."""

    @property
    def pk(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def data(self) -> str: ...
    @property
    def data_is_object(self) -> bool: ...
    @property
    def is_reference(self) -> bool: ...
    @property
    def socket_id(self) -> str: ...
    @property
    def lease_token(self) -> Any: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def attempts(self) -> int: ...


def send_rows(
    client: PusherClient,
    rows: Sequence[OutboxRow],
    using: str,
    report: Report,
    size: int = MAX_BATCH_EVENTS,
) -> bool:
    """Send ``rows`` in order, ``size`` per request; ``False`` if a transient failure stopped it.

    A refused request is sent again one event at a time, so only the poison
    events fail. Whatever was not tried is released for the next claim.
    """
    token = frozenset(row.lease_token for row in rows)  # one claim's, or the sender's group
    id_key = id_field()
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        try:
            send_events(client, [_event(row, id_key) for row in chunk])
        except PusherConfigurationError:
            _release(rows[start:], using, token)
            raise
        except PusherTransientError as err:
            _defer(chunk, err, using, token, report)
            _release(rows[start + size :], using, token)
            return False
        except PusherError as err:
            if size == 1:
                _fail(chunk, str(err), using, token, report)
            elif not send_rows(client, chunk, using, report, size=1):
                _release(rows[start + size :], using, token)
                return False
        else:
            _mark_sent(chunk, using, token, report)
    return True


def _event(row: OutboxRow, id_key: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "channel": row.channel,
        "name": row.name,
        "data": sent_data(row.data, row.data_is_object, row.is_reference, row.pk, id_key),
    }
    if row.socket_id:
        event["socket_id"] = row.socket_id
    return event


def _mine(rows: Sequence[OutboxRow], using: str, token: Any) -> QuerySet[Delivery]:
    return _rows(using).filter(id__in=[row.pk for row in rows], lease_token__in=token)


def _mark_sent(rows: Sequence[OutboxRow], using: str, token: Any, report: Report) -> None:
    report.sent += statements.mark_sent([row.pk for row in rows], token, using, timezone.now())
    counters.sent([row.created_at for row in rows])


def _release(rows: Sequence[OutboxRow], using: str, token: Any) -> None:
    release([row.pk for row in rows], using, token)


def release(ids: Sequence[int], using: str, tokens: Collection[Any]) -> None:
    """Give up the leases ``tokens`` hold on ``ids``: the next claim may take them."""
    if ids:
        _rows(using).filter(id__in=list(ids), lease_token__in=tokens).update(
            lease_token=None, lease_until=None
        )


# -- rows leased at commit (:mod:`.sender`) ---------------------------------------------


def leased(
    ids: Sequence[int], using: str, tokens: Collection[Any], now: datetime
) -> list[Delivery]:
    """Those of ``ids`` still pending under an unexpired lease of ``tokens``, in id order."""
    return list(
        _rows(using)
        .filter(id__in=list(ids), status=PENDING, lease_token__in=tokens, lease_until__gt=now)
        .order_by("id")
    )


def unbroken_runs(picked: Sequence[tuple[int, str]], using: str) -> list[int]:
    """Per channel, the ``(id, channel)`` picked up to the first pending row not among them."""
    return _unbroken_runs(picked, _rows(using))


def _fail(rows: Sequence[OutboxRow], error: str, using: str, token: Any, report: Report) -> None:
    # Never the data: on an encrypted channel it is the plaintext the encryption protects.
    for row in rows:
        logger.error(
            "Outbox event #%s %r on %r (%d bytes of data) is dead-lettered "
            "(`manage.py pusher_outbox retry --ids %s` or the admin retries it): %s",
            row.pk,
            row.name,
            row.channel,
            len(row.data.encode()),
            row.pk,
            error,
        )
        report.failures.append(f"#{row.pk}: {error}")
    report.failed += _mine(rows, using, token).update(
        status=FAILED,
        error=error[:2000],
        attempts=F("attempts") + 1,
        lease_token=None,
        lease_until=None,
    )
    counters.failed(len(rows))


#: Backoff grows as 2**attempts up to its cap; past this the cap is reached anyway.
_MAX_BACKOFF_EXPONENT = 32


def _defer(
    rows: Sequence[OutboxRow], error: PusherTransientError, using: str, token: Any, report: Report
) -> None:
    """Put rows back with a capped backoff; rows older than ``OUTBOX["MAX_AGE"]`` fail instead.

    An outage of any length loses nothing younger than MAX_AGE: the number of
    attempts does not count (``CELERY["MAX_RETRIES"]`` governs tasks, not rows).
    """
    max_age = get_config().outbox.max_age
    now = timezone.now()
    expired = {row.pk for row in rows if (now - row.created_at).total_seconds() >= max_age}
    if expired:
        reason = f"gave up after {max_age:g} s (OUTBOX['MAX_AGE']): {error}"
        _fail([row for row in rows if row.pk in expired], reason, using, token, report)
    again = [row for row in rows if row.pk not in expired]
    if not again:
        return
    attempts = max(row.attempts for row in again)
    delay = retry_delay(min(attempts, _MAX_BACKOFF_EXPONENT), error)
    logger.warning(
        "Outbox: %d event(s) not sent (%s); retry %d in %.1f s",
        len(again),
        error,
        attempts + 1,
        delay,
    )
    report.deferred += _mine(again, using, token).update(
        attempts=F("attempts") + 1,
        error=str(error)[:2000],
        available_at=now + timedelta(seconds=delay),
        lease_token=None,
        lease_until=None,
    )


def next_due(using: str | None = None) -> datetime | None:
    """When the next channel head can be claimed (``None``: nothing pending).

    Only each channel's oldest pending row counts: rows behind a head that
    waits for a retry are not due before it, however old they are.
    """
    rows = _rows(using or DEFAULT_DB_ALIAS).pending()
    heads = rows.order_by().values("channel").annotate(head=Min("id")).values("head")
    due = Greatest("available_at", Coalesce("lease_until", "available_at"))
    result: datetime | None = rows.filter(id__in=heads).aggregate(due=Min(due))["due"]
    return result


def prune(using: str | None = None, now: datetime | None = None) -> int:
    """Delete sent rows older than ``OUTBOX["RETENTION"]``, oldest first; returns how many.

    Each batch is one short statement of its own (autocommit) that deletes a
    range of the expiry index: up to the send time of the ``PRUNE_BATCH``-th
    oldest row, so no list of ids travels. Pruning never holds a lock that a
    claimer or a writer would wait for long, and it touches only sent rows,
    which nobody claims.
    """
    rows = _rows(using or DEFAULT_DB_ALIAS)
    cutoff = (now or timezone.now()) - timedelta(seconds=get_config().outbox.retention)
    expired = rows.sent().filter(sent_at__lt=cutoff)
    deleted = 0
    while True:
        times = expired.order_by("sent_at", "id").values_list("sent_at", flat=True)
        boundary = next(iter(times[PRUNE_BATCH : PRUNE_BATCH + 1]), None)
        if boundary is None:
            return deleted + expired.delete()[0]
        batch = expired.filter(sent_at__lt=boundary).delete()[0]
        if not batch:  # more than a batch share one send time
            batch = expired.filter(sent_at=boundary).delete()[0]
        deleted += batch
        # The next batch starts where this one ended, not among its dead index entries.
        expired = expired.filter(sent_at__gte=boundary)


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    #: Exact up to :data:`COUNT_CAP`, estimated above (:func:`estimated_rows`).
    sent: int
    oldest_pending: datetime | None

    def age(self, now: datetime | None = None) -> float:
        if self.oldest_pending is None:
            return 0.0
        return ((now or timezone.now()) - self.oldest_pending).total_seconds()


def backlog(using: str | None = None) -> Backlog:
    """The open rows counted exactly, the retained sent ones only up to :data:`COUNT_CAP`."""
    rows = _rows(using or DEFAULT_DB_ALIAS)
    pending = rows.pending().aggregate(n=Count("id"), oldest=Min("created_at"))
    failed = rows.failed().count()
    sent = bounded_count(rows.sent())
    if sent >= COUNT_CAP:
        sent = max(estimated_rows(using) - pending["n"] - failed, sent)
    return Backlog(pending["n"], failed, sent, pending["oldest"])


def bounded_count(rows: QuerySet[Delivery]) -> int:
    """``rows.count()``, but reading no more than :data:`COUNT_CAP` index entries."""
    return rows.order_by()[:COUNT_CAP].count()


def estimated_rows(using: str | None = None) -> int:
    """The table's row count from the database's statistics, without counting it.

    Where there are no statistics (SQLite, a table never analyzed) the span of
    ids stands in: exact until rows are pruned, merged or discarded.
    """
    connection = connections[using or DEFAULT_DB_ALIAS]
    table = Delivery._meta.db_table
    estimate = None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            estimate = cursor.fetchone()[0]
        elif connection.vendor == "mysql":
            cursor.execute(
                "SELECT table_rows FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name = %s",
                [table],
            )
            row = cursor.fetchone()
            estimate = row[0] if row else None
    if estimate is not None and estimate >= 0:
        return int(estimate)
    ids = _rows(connection.alias).values_list("id", flat=True)
    low, high = ids.order_by("id").first(), ids.order_by("-id").first()  # two index probes
    return 0 if low is None or high is None else high - low + 1


def warn_if_behind(using: str | None = None) -> Backlog:
    """Log a warning when the oldest pending event is older than ``BACKLOG_WARNING``."""
    state = backlog(using)
    limit = get_config().outbox.backlog_warning
    if state.age() > limit:
        logger.warning(
            "Outbox backlog: %d event(s) pending, the oldest for %.0f s (limit %.0f s); "
            "is a Celery worker or `manage.py pusher_outbox` running?",
            state.pending,
            state.age(),
            limit,
        )
    return state


def retry(ids: Sequence[int], using: str | None = None) -> int:
    """Put failed rows back in the queue, attempts reset (one batch of :func:`.requeue.requeue`)."""
    return (
        _rows(using or DEFAULT_DB_ALIAS)
        .failed()
        .filter(id__in=list(ids))
        .update(status=PENDING, attempts=0, available_at=timezone.now(), error="")
    )
