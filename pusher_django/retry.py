"""How long to wait before retrying a transient failure (tasks and the outbox alike)."""

from __future__ import annotations

import random

from .conf import get_config
from .exceptions import PusherTransientError


def retry_delay(retries: int, error: PusherTransientError | None = None) -> float:
    """Exponential backoff with full jitter, capped; never shorter than ``Retry-After``."""
    options = get_config().celery
    cap = options.retry_backoff_max
    delay: float = random.uniform(0, min(cap, options.retry_backoff * 2**retries))  # noqa: S311
    if error is not None and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


def max_retries() -> int:
    return get_config().celery.max_retries
