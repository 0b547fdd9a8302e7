"""Reconnect delays: the package's one full-jitter backoff, counted per run of failures.

A successful connection resets the sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from pusher_django.retry import full_jitter

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Delays of :func:`~pusher_django.retry.full_jitter` for attempts 0, 1, 2, ...

    ``minimum`` keeps a floor: Pusher asks for at least one second between
    attempts after a 4100-4199 close.
    """

    base: float = 1.0
    cap: float = 60.0
    minimum: float = 0.0
    attempt: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        delay = full_jitter(self.attempt, self.base, self.cap, floor=self.minimum, rng=self._random)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
