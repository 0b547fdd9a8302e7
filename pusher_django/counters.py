"""Per-minute counters that every process keeps in a shared cache, for Pusher → Overview.

Workers, web processes and listeners each count what they did into one key
per minute and figure (``PUSHER["HEALTH"]["CACHE"]``), so the page sums a
fixed number of keys whatever the size of the outbox. Delivery latency
(commit to sent) is counted into the buckets of a histogram, the same
buckets :mod:`pusher_django.metrics` gives Prometheus, and the percentiles
are read back from them.

Counting must never slow or break the work it counts. A hook only adds to
this process's tally in memory (microseconds); a daemon thread writes the
tally to the cache every :data:`FLUSH_SECONDS` (and at exit), so a request
never waits for the cache (measured: 1-6 ms per hook through Redis on a
busy machine). A process killed with SIGKILL loses at most that second. A
cache that fails is logged once per process and the tally is dropped.
Increments use ``cache.incr``, which Redis and Memcached apply atomically
across processes.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import BaseCache, caches
from django.utils import timezone

from pusher_django import metrics
from pusher_django.conf import get_config
from pusher_django.metrics import LATENCY_BUCKETS

logger = logging.getLogger(__name__)

#: Plain per-minute figures.
FIGURES = (
    "enqueued",
    "sent",
    "failed",
    "auth_allowed",
    "auth_denied",
    "webhook_received",
    "webhook_skipped",
)
_LATENCY = tuple(f"latency_{index}" for index in range(len(LATENCY_BUCKETS) + 1))
#: A minute is kept a little longer than the longest window the page shows.
KEEP_SECONDS = 25 * 3600
PREFIX = "pusher_django:health"
_NAMES = (*FIGURES, *_LATENCY)
#: An hour is sealed (see ``_hours``) once its last minute is this many minutes old.
SETTLE_MINUTES = 2
#: How often a process writes its tally to the cache.
FLUSH_SECONDS = 1.0

_warned = False


class _Tally:
    """This process's counts not yet in the cache, and the thread that writes them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flushing = threading.Lock()  # one flush at a time: a reader sees all of them
        self.counts: Counter[tuple[int, str]] = Counter()
        self.thread: threading.Thread | None = None

    def add(self, minute: int, counts: Mapping[str, int]) -> None:
        with self.lock:
            for figure, delta in counts.items():
                if delta:
                    self.counts[(minute, figure)] += delta
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="pusher-health-counters", daemon=True
                )
                self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(FLUSH_SECONDS)
            flush()


_tally = _Tally()


def _after_fork() -> None:
    """A forked child (Celery prefork, gunicorn) starts with nothing of its parent's tally."""
    global _tally  # noqa: PLW0603 - the parent's locks and thread do not exist in the child
    _tally = _Tally()


os.register_at_fork(after_in_child=_after_fork)


def flush() -> None:
    """Write this process's tally to the cache now; never raises."""
    global _warned  # noqa: PLW0603 - one warning per process, not one per event
    tally = _tally
    with tally.flushing:
        with tally.lock:
            pending, tally.counts = tally.counts, Counter()
        if not pending:
            return
        try:
            cache = _cache()
            for (minute, figure), delta in pending.items():
                _increment(cache, _key(minute, figure), delta)
        except Exception as err:
            if not _warned:
                _warned = True
                logger.warning("Pusher health counters are not kept: the cache failed (%s)", err)


atexit.register(flush)


def _cache() -> BaseCache:
    return caches[get_config().health.cache]


def minute_of(moment: float) -> int:
    return int(moment // 60)


def _key(minute: int, figure: str) -> str:
    return f"{PREFIX}:{minute}:{figure}"


def _hour_key(hour: int) -> str:
    return f"{PREFIX}:hour:{hour}"


def bucket_of(seconds: float) -> int:
    for index, bound in enumerate(LATENCY_BUCKETS):
        if seconds <= bound:
            return index
    return len(LATENCY_BUCKETS)


def _add(counts: Mapping[str, int], now: float | None = None) -> None:
    """Add ``counts`` to the tally of the current minute (written by :func:`flush`)."""
    _tally.add(minute_of(time.time() if now is None else now), counts)


def _increment(cache: BaseCache, key: str, delta: int) -> None:
    try:
        cache.incr(key, delta)
    except ValueError:  # a new minute: the first writer creates the key
        if not cache.add(key, delta, KEEP_SECONDS):
            cache.incr(key, delta)


# -- hooks (one call where the event happens) ------------------------------------------


def enqueued(count: int) -> None:
    """Events written to the outbox (counted when their transaction commits)."""
    metrics.enqueued(count)
    _add({"enqueued": count})


def sent(created: Iterable[datetime], now: datetime | None = None) -> None:
    """Events that reached Pusher, by the time their transaction wrote them."""
    moment = now or timezone.now()
    latencies = [max(0.0, (moment - stamp).total_seconds()) for stamp in created]
    metrics.sent(latencies)
    counts = Counter(_LATENCY[bucket_of(seconds)] for seconds in latencies)
    _add({"sent": len(latencies), **counts}, moment.timestamp())


def failed(count: int) -> None:
    """Events dead-lettered (refused, or out of retries)."""
    metrics.failed(count)
    _add({"failed": count})


def auth_decisions(statuses: Iterable[int]) -> None:
    """Channel authorization answers: 200 is allowed, anything else denied."""
    outcome = Counter("auth_allowed" if status == 200 else "auth_denied" for status in statuses)
    metrics.auth_decisions(outcome["auth_allowed"], outcome["auth_denied"])
    _add(outcome)


def webhook_events(received: int, skipped: int) -> None:
    """Events of one verified webhook delivery: accepted, and skipped as malformed."""
    metrics.webhook_events(received, skipped)
    _add({"webhook_received": received, "webhook_skipped": skipped})


# -- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Minute:
    """What all processes counted in one minute."""

    start: datetime
    counts: Mapping[str, int]
    latency: Sequence[int]

    def percentile(self, q: float) -> float | None:
        return percentile(self.latency, q)


def percentile(histogram: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile (0-1) of a bucket histogram, interpolated inside its bucket.

    Like Prometheus's ``histogram_quantile``; values in the open top bucket
    read as its lower bound. ``None`` when nothing was counted.
    """
    total = sum(histogram)
    if not total:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(histogram):
        if count and seen + count >= rank:
            if index == len(LATENCY_BUCKETS):
                return LATENCY_BUCKETS[-1]
            low = LATENCY_BUCKETS[index - 1] if index else 0.0
            high = LATENCY_BUCKETS[index]
            return low + (high - low) * (rank - seen) / count
        seen += count
    return LATENCY_BUCKETS[-1]


def _raw(cache: BaseCache, span: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """Each minute's figures read key by key: ``{minute: values in _NAMES order}``."""
    span = list(span)
    stored: dict[str, Any] = cache.get_many([_key(m, n) for m in span for n in _NAMES])
    return {m: tuple(int(stored.get(_key(m, n)) or 0) for n in _NAMES) for m in span}


def _hours(cache: BaseCache, hours: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """The minutes of settled hours, one key per hour; an hour read for the first time is sealed.

    A day is 1,440 minutes of 21 figures: read key by key that is 30,000
    keys (about a second through Redis), so an hour whose last minute is
    :data:`SETTLE_MINUTES` old is stored again as one key and read as one.
    """
    sealed: dict[str, Any] = cache.get_many([_hour_key(h) for h in hours])
    result: dict[int, tuple[int, ...]] = {}
    for hour in hours:
        block = sealed.get(_hour_key(hour))
        if block is None:
            block = {
                m: v for m, v in _raw(cache, range(hour * 60, hour * 60 + 60)).items() if any(v)
            }
            cache.set(_hour_key(hour), block, KEEP_SECONDS)
        result.update(block)
    return result


def minutes(count: int, now: float | None = None) -> list[Minute]:
    """The last ``count`` minutes, oldest first, the current one included.

    Settled hours come from their sealed key (see :func:`_hours`), the rest
    key by key; this process's own tally is flushed first. A cache that
    fails reads as zeros (and is logged).
    """
    flush()
    last = minute_of(time.time() if now is None else now)
    span = range(last - count + 1, last + 1)
    settled = [
        h for h in range(span[0] // 60, last // 60 + 1) if h * 60 + 60 + SETTLE_MINUTES <= last
    ]
    try:
        cache = _cache()
        found = _hours(cache, settled)
        covered = {m for h in settled for m in range(h * 60, h * 60 + 60)}
        found.update(_raw(cache, (m for m in span if m not in covered)))
    except Exception as err:
        logger.warning("Pusher health counters cannot be read: %s", err)
        found = {}
    zone = timezone.get_current_timezone()
    empty = (0,) * len(_NAMES)
    result = []
    for minute in span:
        values = found.get(minute, empty)
        result.append(
            Minute(
                start=datetime.fromtimestamp(minute * 60, tz=zone),
                counts=dict(zip(FIGURES, values[: len(FIGURES)], strict=True)),
                latency=values[len(FIGURES) :],
            )
        )
    return result


def totals(window: Sequence[Minute]) -> dict[str, int]:
    """Each figure summed over ``window``."""
    return {name: sum(m.counts[name] for m in window) for name in FIGURES}


def latency_of(window: Sequence[Minute]) -> list[int]:
    """The latency histogram of the whole window."""
    return [sum(column) for column in zip(*(m.latency for m in window), strict=True)]
