"""The state of the realtime pipeline now: what Pusher → Overview and the metrics read.

Every figure comes from the per-minute :mod:`~pusher_django.counters`, the
listener heartbeats (:mod:`~pusher_django.listener.replicas`) or a query
that an index of the outbox serves at any table size:

- pending and failed counts walk ``(status, id)`` and stop at
  :data:`COUNT_LIMIT` rows;
- the oldest pending event is the first row of ``(status, id)``;
- the last sent event is the first row of ``(status, sent_at)`` backwards;
- the top channels are counted over the last :data:`TOP_SAMPLE` sent
  events of the window, read backwards along ``(status, sent_at)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from pusher_django import counters
from pusher_django.conf import get_config
from pusher_django.listener.replicas import Replica, replicas
from pusher_django.models import Delivery

#: Counts of pending or failed rows stop here (shown as "100,000+").
COUNT_LIMIT = 100_000
#: The top channels are counted over at most this many recent sent events.
TOP_SAMPLE = 10_000

WINDOWS = {"hour": 60, "day": 24 * 60}


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_age: float  # seconds; 0 when nothing is pending
    last_sent: datetime | None
    limit: int = COUNT_LIMIT


def _capped_count(status: str, using: str) -> int:
    rows = Delivery.objects.using(using)
    open_rows = rows.pending() if status == Delivery.Status.PENDING else rows.failed()
    return open_rows.order_by().values("id")[:COUNT_LIMIT].count()


def backlog(using: str = DEFAULT_DB_ALIAS, now: datetime | None = None) -> Backlog:
    now = now or timezone.now()
    rows = Delivery.objects.using(using)
    oldest = (
        rows.pending()  # spelled as its partial index, which SQLite needs
        .by_id()
        .values_list("created_at", flat=True)
        .first()
    )
    last_sent = (
        rows.filter(status=Delivery.Status.SENT)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    return Backlog(
        pending=_capped_count(Delivery.Status.PENDING, using),
        failed=_capped_count(Delivery.Status.FAILED, using),
        oldest_age=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        last_sent=last_sent,
    )


def top_channels(
    since: datetime, using: str = DEFAULT_DB_ALIAS, limit: int = 10
) -> tuple[list[tuple[str, int]], bool]:
    """The busiest channels among the last :data:`TOP_SAMPLE` events sent since ``since``.

    The flag says whether the sample was cut at :data:`TOP_SAMPLE`.
    """
    recent = list(
        Delivery.objects.using(using)
        .filter(status=Delivery.Status.SENT, sent_at__gte=since)
        .order_by("-sent_at")
        .values_list("channel", flat=True)[:TOP_SAMPLE]
    )
    return Counter(recent).most_common(limit), len(recent) >= TOP_SAMPLE


@dataclass(frozen=True)
class Snapshot:
    """Everything the Overview page shows for one window."""

    window: str
    now: datetime
    minutes: list[counters.Minute]
    totals: dict[str, int]
    latency: list[int]
    backlog: Backlog
    top_channels: list[tuple[str, int]]
    top_sampled: bool
    replicas: list[Replica]

    @property
    def stalled(self) -> bool:
        """Events wait longer than ``OUTBOX["BACKLOG_WARNING"]``: deliveries have stopped."""
        return self.backlog.oldest_age > get_config().outbox.backlog_warning

    def percentile(self, q: float) -> float | None:
        return counters.percentile(self.latency, q)


def overview(window: str = "hour", using: str = DEFAULT_DB_ALIAS) -> Snapshot:
    now = timezone.now()
    span = WINDOWS[window]
    window_minutes = counters.minutes(span, now.timestamp())
    totals = counters.totals(window_minutes)
    top, sampled = top_channels(now - timedelta(minutes=span), using)
    return Snapshot(
        window=window,
        now=now,
        minutes=window_minutes,
        totals=totals,
        latency=counters.latency_of(window_minutes),
        backlog=backlog(using, now),
        top_channels=top,
        top_sampled=sampled,
        replicas=replicas(now.timestamp()),
    )
