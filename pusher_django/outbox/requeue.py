"""Putting failed events back in the queue: the admin's Retry action and ``pusher_outbox retry``.

Rows are re-queued in id order, a thousand per statement, so a retry of a
long outage's dead letters neither holds one huge lock nor reads every id
into memory at once; then one delivery is woken for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import QuerySet

from pusher_django.models import Delivery
from pusher_django.models.delivery import DeliveryQuerySet

from . import relay

BATCH = 1000


@dataclass
class Requeued:
    """What one re-queue put back: per channel, how many and the first and last id."""

    count: int = 0
    channels: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def add(self, row_id: int, channel: str) -> None:
        self.count += 1
        n, first, last = self.channels.get(channel, (0, row_id, row_id))
        self.channels[channel] = (n + 1, min(first, row_id), max(last, row_id))


def failed_rows(
    using: str = DEFAULT_DB_ALIAS,
    *,
    channel: str | None = None,
    first_id: int | None = None,
    last_id: int | None = None,
    since: datetime | None = None,
) -> QuerySet[Delivery]:
    """The failed rows that match every filter given (all failed rows without one)."""
    rows = Delivery.objects.using(using).failed()  # spelled as its partial index
    if channel is not None:
        rows = rows.filter(channel=channel)
    if first_id is not None:
        rows = rows.filter(id__gte=first_id)
    if last_id is not None:
        rows = rows.filter(id__lte=last_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return rows


def requeue(rows: QuerySet[Delivery], *, wake: bool = True) -> Requeued:
    """Re-queue the failed ones among ``rows`` and (``wake``) hand them to a delivery."""
    using = rows.db
    done = Requeued()
    after = 0
    pending = cast(DeliveryQuerySet, rows).failed().by_id()
    rows_by_id = Delivery.objects.using(using)
    while True:
        batch = list(pending.filter(id__gt=after).values_list("id", flat=True)[:BATCH])
        if not batch:
            break
        after = batch[-1]
        with transaction.atomic(using=using):
            locked = list(
                rows_by_id.filter(id__in=batch, status=Delivery.Status.FAILED)
                .select_for_update()
                .values_list("id", "channel")
            )
            relay.retry([row_id for row_id, _ in locked], using)
        for row_id, channel in locked:
            done.add(row_id, channel)
    if done.count and wake:
        from pusher_django import tasks

        tasks.enqueue_or_run(
            tasks.deliver_outbox, using, fallback=lambda: relay.deliver(using, max_rounds=1)
        )
    return done
