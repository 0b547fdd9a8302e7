"""Reconnect delays: exponential with full jitter, capped.

Full jitter spreads reconnecting listeners (and every other client that lost
the same server) over the whole window instead of letting them all retry at
the same instant. A successful connection resets the sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays of ``uniform(min, min(cap, base * 2**attempt))`` seconds.

    ``minimum`` keeps a floor: Pusher asks for at least one second between
    attempts after a 4100-4199 close.
    """

    base: float = 1.0
    cap: float = 60.0
    minimum: float = 0.0
    attempt: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(self.attempt, 32)))
        self.attempt += 1
        floor = min(self.minimum, ceiling)
        return self._random.uniform(floor, ceiling)

    def reset(self) -> None:
        self.attempt = 0
