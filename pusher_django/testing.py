"""Test helpers for projects using pusher_django: assert broadcasts without a network.

::

    from pusher_django.testing import capture_broadcasts

    def test_posting_broadcasts(db):
        with capture_broadcasts() as sent:
            Message.objects.create(room=room, text="hi")
        sent.assert_broadcast("message.created", channel=f"private-encrypted-room-{room.pk}",
                              data={"text": "hi"})

Inside a ``TestCase`` (whose test runs in a transaction that never commits)
the commit callbacks registered in the block are run when it ends, as
``captureOnCommitCallbacks(execute=True)`` does; a rolled-back block inside
still sends nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.test import TestCase

from .outbox import Event, capturing

_MISSING = object()


@dataclass
class CapturedBroadcasts:
    """The events that would have been sent, in order."""

    events: list[Event] = field(default_factory=list)
    batches: list[list[Event]] = field(default_factory=list)

    def _record(self, events: list[Event]) -> None:
        self.batches.append(list(events))
        self.events.extend(events)

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
    """Record broadcasts and ``trigger_on_commit`` events instead of enqueuing tasks."""
    captured = CapturedBroadcasts()
    with capturing(captured._record), TestCase.captureOnCommitCallbacks(using=using, execute=True):
        yield captured
