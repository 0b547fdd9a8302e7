"""Pacing of client events: at most N per rolling second on one connection.

Pusher closes a connection that sends more than 10 client events per second
(4301). Publishing is therefore queued and paced, never dropped: a burst of
50 leaves in five one-second windows.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateWindow"]


class RateWindow:
    """A sliding one-second window; :meth:`wait_time` says how long to hold the next send."""

    def __init__(
        self,
        limit: int,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        # A little margin: the server's second and ours do not start together.
        self.window = window * 1.05
        self._clock = clock
        self._sent: deque[float] = deque()

    def wait_time(self, now: float | None = None) -> float:
        """Seconds until one more may be sent (0: now); ``now`` defaults to the clock."""
        if now is None:
            now = self._clock()
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self.window - (now - self._sent[0])

    def record(self, now: float | None = None) -> None:
        self._sent.append(self._clock() if now is None else now)
