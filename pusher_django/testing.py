"""Test helpers for projects using pusher_django: assert broadcasts without a network.

::

    from pusher_django.testing import capture_broadcasts

    def test_posting_broadcasts(db):
        with capture_broadcasts() as sent:
            Message.objects.create(room=room, text="hi")
        sent.assert_broadcast("message.created", channel=f"private-encrypted-room-{room.pk}",
                              data={"text": "hi"})

Events are read from the outbox table when the block ends, so the helper
works the same in a ``TestCase`` (whose transaction never commits), inside
``transaction.atomic()`` and in autocommit: what the block wrote and did not
roll back is what would be sent. It never runs, reorders or drops anyone's
``on_commit`` callbacks, and the captured rows are removed so nothing sends them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Max

from .models import Delivery
from .outbox.writer import capturing
from .payloads import decode_data

Event = dict[str, Any]
_MISSING = object()


@dataclass
class CapturedBroadcasts:
    """The events that would have been sent, in order."""

    events: list[Event] = field(default_factory=list)
    batches: list[list[Event]] = field(default_factory=list)

    def _record(self, rows: list[Delivery]) -> None:
        by_batch: dict[Any, list[Event]] = {}
        for row in rows:
            event: Event = {
                "id": row.pk,
                "channel": row.channel,
                "name": row.name,
                "data": decode_data(row.data),
            }
            if row.socket_id:
                event["socket_id"] = row.socket_id
            if row.is_reference:
                event["by_reference"] = True  # too large: sent as a reference to this data
            by_batch.setdefault(row.batch, []).append(event)
            self.events.append(event)
        self.batches.extend(by_batch.values())

    def matching(self, event: str, channel: str | None = None, data: Any = _MISSING) -> list[Event]:
        return [
            e
            for e in self.events
            if e["name"] == event
            and (channel is None or e["channel"] == channel)
            and (data is _MISSING or _contains(e["data"], data))
        ]

    def assert_broadcast(
        self,
        event: str,
        *,
        channel: str | None = None,
        data: Any = _MISSING,
        count: int | None = None,
    ) -> Event:
        """Assert ``event`` was sent (on ``channel``; with ``data`` a subset of its data)."""
        found = self.matching(event, channel, data)
        if not found or (count is not None and len(found) != count):
            sent = [(e["name"], e["channel"]) for e in self.events]
            expected = f"{count or 'some'} {event!r}" + (f" on {channel!r}" if channel else "")
            raise AssertionError(f"Expected {expected} with data {data!r}; sent: {sent}")
        return found[0]

    def assert_nothing_broadcast(self) -> None:
        if self.events:
            raise AssertionError(f"Expected no broadcast; sent: {self.events}")


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _contains(actual[k], v) for k, v in expected.items())
    return bool(actual == expected)


@contextlib.contextmanager
def capture_broadcasts(using: str = DEFAULT_DB_ALIAS) -> Iterator[CapturedBroadcasts]:
    """Record broadcasts and ``trigger_on_commit`` events instead of sending them."""
    captured = CapturedBroadcasts()
    rows = Delivery.objects.using(using)
    before = rows.aggregate(last=Max("id"))["last"] or 0
    with capturing():
        yield captured
    written = list(rows.filter(id__gt=before, status=Delivery.Status.PENDING).order_by("id"))
    captured._record(written)
    rows.filter(id__in=[row.pk for row in written]).delete()
