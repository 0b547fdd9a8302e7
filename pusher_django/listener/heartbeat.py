"""When to ping a silent connection, and when a missing pong means it is dead.

Pure arithmetic on times the caller passes in. Any frame counts as a sign of
life (a pong included), so the hot path only stores the time of the last
one; the silence is measured when the session's timer comes due.
"""

from __future__ import annotations

import math
from enum import Enum

__all__ = ["Beat", "Heartbeat"]


class Beat(Enum):
    WAIT = "wait"  # nothing to do before the returned deadline
    PING = "ping"  # send a ping now
    DEAD = "dead"  # the pong did not come: close and reconnect


class Heartbeat:
    """Ping after ``activity_timeout`` of silence; dead ``pong_timeout`` after an unanswered one."""

    def __init__(self, activity_timeout: float, pong_timeout: float) -> None:
        self.configured = activity_timeout
        self.activity_timeout = activity_timeout
        self.pong_timeout = pong_timeout
        self.last_activity = 0.0
        self.ping_sent: float | None = None

    def start(self, now: float, server_timeout: float | None) -> None:
        """A connection opened; the server's activity timeout wins when it is shorter."""
        self.activity_timeout = min(self.configured, server_timeout or math.inf)
        self.last_activity = now
        self.ping_sent = None

    def check(self, now: float) -> tuple[Beat, float]:
        """What to do at ``now``, and the time of the next check."""
        if self.ping_sent is not None:
            if self.last_activity >= self.ping_sent:
                self.ping_sent = None
            elif now - self.ping_sent >= self.pong_timeout:
                return Beat.DEAD, now + self.pong_timeout
            else:
                return Beat.WAIT, self.ping_sent + self.pong_timeout
        if now - self.last_activity < self.activity_timeout:
            return Beat.WAIT, self.last_activity + self.activity_timeout
        self.ping_sent = now
        return Beat.PING, now + self.pong_timeout
