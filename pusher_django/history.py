"""``pusher/history/``: the events a page missed while it was disconnected.

The outbox keeps every sent event for ``OUTBOX["RETENTION"]`` seconds, with
its id, so a page that remembers the last id it saw on a channel can ask for
what came after — authorized by the same rules as subscribing to the channel.
Events triggered directly through the client never pass through the outbox
and cannot be recovered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import Delivery
from .outbox.events import id_field, wire_data
from .payloads import decode_data

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    #: The channel's newest sent event id (the position to resume from).
    last_id: int
    #: More events follow: ask again after the last one returned.
    more: bool = False
    #: ``after`` is older than what is retained: the page should reload its state.
    expired: bool = False

    def as_json(self, channel: str) -> dict[str, Any]:
        return {
            "channel": channel,
            "events": self.events,
            "last_id": self.last_id,
            "more": self.more,
            "expired": self.expired,
        }


def events_after(channel: str, after: int | None, limit: int = DEFAULT_LIMIT) -> Page:
    """What ``channel`` sent after event ``after``, in the order it was sent.

    "After" means sent later: an event of an overlapping transaction can carry
    a smaller id yet go out later, and is included (the page drops any id
    it has already seen). Events sent in one request share their time and
    follow each other by id.
    """
    sent = Delivery.objects.filter(channel=channel, status=Delivery.Status.SENT)
    last_id = sent.order_by("-sent_at", "-id").values_list("id", flat=True).first() or 0
    if after is None:
        return Page([], last_id)
    if after > 0:
        anchor = sent.filter(pk=after).values("sent_at").first()
        if anchor is None:
            return Page([], last_id, expired=True)
        when = anchor["sent_at"]
        newer = sent.filter(sent_at__gte=when).exclude(sent_at=when, id__lte=after)
    else:
        newer = sent
    rows = list(newer.order_by("sent_at", "id")[: limit + 1])
    field = id_field()
    events = [
        {
            "id": row.pk,
            "event": row.name,
            "data": decode_data(wire_data(row.data, row.data_is_object, row.pk, field)),
        }
        for row in rows[:limit]
    ]
    return Page(events, last_id, more=len(rows) > limit)
