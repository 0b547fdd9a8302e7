"""Why each channel's events wait: the answer of ``manage.py pusher_outbox status``.

A channel sends in id order, so what holds it is its oldest pending row (the
head) or, when that one is free and due, another of its pending rows that is
leased or waiting for a retry (a claim never takes a channel that has one).
Three queries whatever the table's size: the heads with their counts, the
head rows, and the holding rows of the channels whose head is free.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Min, Q
from django.utils import timezone

from pusher_django.models import Delivery


class Reason(enum.Enum):
    RETRY = "due later after a retry"
    LEASED = "leased by a worker"
    BEHIND = "waiting behind an event that is leased or due later"
    DUE = "due now, not yet claimed (is a worker or `pusher_outbox` running?)"


@dataclass(frozen=True)
class Waiting:
    """A channel's oldest pending event and why it is not sent yet."""

    channel: str
    head: Delivery
    pending: int
    reason: Reason
    #: When the reason ends (the retry's due time, the lease's end); ``None`` for DUE.
    until: datetime | None = None
    #: The other row that holds the channel (``BEHIND`` only).
    holder: Delivery | None = None


def waiting(
    using: str = DEFAULT_DB_ALIAS, *, limit: int = 100, now: datetime | None = None
) -> list[Waiting]:
    """Up to ``limit`` channels with pending events, the longest-waiting first."""
    now = now or timezone.now()
    rows = Delivery.objects.using(using).pending()  # spelled as its partial index
    heads = list(
        rows.order_by()
        .values("channel")
        .annotate(head=Min("id"), n=Count("id"))
        .order_by("head")
        .values_list("head", "n")[:limit]
    )
    counts = dict(heads)
    head_rows = rows.filter(id__in=list(counts)).order_by("id")
    result: list[Waiting] = []
    free: list[Delivery] = []
    for row in head_rows:
        if row.lease_until is not None and row.lease_until >= now:
            result.append(Waiting(row.channel, row, counts[row.pk], Reason.LEASED, row.lease_until))
        elif row.available_at > now:
            result.append(Waiting(row.channel, row, counts[row.pk], Reason.RETRY, row.available_at))
        else:
            free.append(row)
    holders: dict[str, Delivery] = {}
    if free:
        held = rows.filter(
            Q(available_at__gt=now) | Q(lease_until__gte=now),
            channel__in={row.channel for row in free},
        ).order_by("-id")
        holders = {row.channel: row for row in held}  # the lowest id per channel wins
    for row in free:
        holder = holders.get(row.channel)
        if holder is None:
            result.append(Waiting(row.channel, row, counts[row.pk], Reason.DUE))
        else:
            until = max(holder.available_at, holder.lease_until or holder.available_at)
            result.append(
                Waiting(row.channel, row, counts[row.pk], Reason.BEHIND, until, holder=holder)
            )
    result.sort(key=lambda waiting: waiting.head.pk)
    return result
