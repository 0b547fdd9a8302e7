"""How long to wait before trying again: one full-jitter backoff for tasks, outbox and listener.

Full jitter (a uniform draw over the whole exponential window) spreads the
retries of every client that failed at the same moment instead of letting
them all come back together.
"""

from __future__ import annotations

import random

from .conf import get_config
from .exceptions import PusherTransientError

__all__ = ["full_jitter", "max_retries", "retry_delay"]

#: Past this many doublings the cap has long won; stops ``2**attempt`` from growing forever.
_MAX_DOUBLINGS = 32


def full_jitter(
    attempt: int, base: float, cap: float, *, floor: float = 0.0, rng: random.Random | None = None
) -> float:
    """A delay drawn from ``uniform(floor, min(cap, base * 2**attempt))`` seconds.

    ``floor`` is itself capped by the window, so it never makes a delay
    longer than the cap.
    """
    ceiling = min(cap, base * 2 ** min(attempt, _MAX_DOUBLINGS))
    draw = rng.uniform if rng is not None else random.uniform
    return draw(min(floor, ceiling), ceiling)


def retry_delay(retries: int, error: PusherTransientError | None = None) -> float:
    """The next retry of a task or outbox row; never shorter than the server's ``Retry-After``."""
    options = get_config().celery
    delay = full_jitter(retries, options.retry_backoff, options.retry_backoff_max)
    if error is not None and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


def max_retries() -> int:
    return get_config().celery.max_retries
