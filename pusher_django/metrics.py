"""Prometheus metrics (``pip install pusher-django[metrics]``) and a view that exposes them.

The metrics are created on first use in ``prometheus_client``'s default
registry, so an existing ``/metrics`` endpoint (django-prometheus, your own)
shows them too. Without ``prometheus_client`` every function here does
nothing and :func:`metrics_view` answers 501.

Processes that count: web processes (auth decisions, webhook events,
events enqueued), Celery workers and ``pusher_outbox`` (sent, failed,
latency), listeners (connected, reconnects). To see them all from one
scrape, run every process with ``PROMETHEUS_MULTIPROC_DIR`` pointing at one
empty directory (Prometheus's multiprocess mode); :func:`metrics_view`
then reads that directory. The outbox gauges are measured by the process
that answers the scrape, with the index-backed queries of the Overview page.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponse

#: Upper bounds (seconds) of the latency buckets, here and in the Overview's counters.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True)
class _Metrics:
    enqueued: Any
    sent: Any
    failed: Any
    auth: Any
    webhooks: Any
    latency: Any
    connected: Any
    reconnects: Any


_registering = threading.Lock()


@cache
def _metrics() -> _Metrics | None:
    """The registered metrics; concurrent first calls (ASGI: a thread per request) register once."""
    with _registering:
        return _register()


@cache
def _register() -> _Metrics | None:
    try:
        from prometheus_client import Counter, Gauge, Histogram
    except ImportError:
        return None
    return _Metrics(
        enqueued=Counter("pusher_django_events_enqueued", "Events written to the outbox."),
        sent=Counter("pusher_django_events_sent", "Outbox events accepted by Pusher."),
        failed=Counter("pusher_django_events_failed", "Outbox events dead-lettered."),
        auth=Counter(
            "pusher_django_auth_decisions",
            "Channel authorization answers.",
            ["decision"],
        ),
        webhooks=Counter(
            "pusher_django_webhook_events",
            "Events of verified webhook deliveries.",
            ["outcome"],
        ),
        latency=Histogram(
            "pusher_django_delivery_latency_seconds",
            "From the commit that wrote an event to Pusher accepting it.",
            buckets=LATENCY_BUCKETS,
        ),
        connected=Gauge(
            "pusher_django_listener_connected",
            "Listener replicas connected to Pusher (1 per connected replica).",
            multiprocess_mode="livesum",
        ),
        reconnects=Counter(
            "pusher_django_listener_reconnects", "Listener connections after the first."
        ),
    )


def enqueued(count: int) -> None:
    found = _metrics()
    if found is not None and count:
        found.enqueued.inc(count)


def sent(latencies: Sequence[float]) -> None:
    found = _metrics()
    if found is not None and latencies:
        found.sent.inc(len(latencies))
        for seconds in latencies:
            found.latency.observe(seconds)


def failed(count: int) -> None:
    found = _metrics()
    if found is not None and count:
        found.failed.inc(count)


def _by_label(counter: Any, counts: dict[str, int]) -> None:
    for label, count in counts.items():
        if count:
            counter.labels(label).inc(count)


def auth_decisions(allowed: int, denied: int) -> None:
    found = _metrics()
    if found is not None:
        _by_label(found.auth, {"allowed": allowed, "denied": denied})


def webhook_events(received: int, skipped: int) -> None:
    found = _metrics()
    if found is not None:
        _by_label(found.webhooks, {"received": received, "skipped": skipped})


def listener_connected(connected: bool) -> None:
    found = _metrics()
    if found is not None:
        found.connected.set(1 if connected else 0)


def listener_reconnected() -> None:
    found = _metrics()
    if found is not None:
        found.reconnects.inc()


class _OutboxCollector:
    """Backlog and oldest age, measured when scraped (index-backed, see pusher_django.health)."""

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from pusher_django.health import backlog

        state = backlog()
        yield GaugeMetricFamily(
            "pusher_django_outbox_backlog",
            f"Pending outbox events (counted up to {state.limit}).",
            value=state.pending,
        )
        yield GaugeMetricFamily(
            "pusher_django_outbox_oldest_age_seconds",
            "Age of the oldest pending outbox event (0: none pending).",
            value=state.oldest_age,
        )


class _Default:
    def collect(self) -> Iterator[Any]:
        from prometheus_client import REGISTRY

        return iter(REGISTRY.collect())


def exposition() -> tuple[bytes, str]:
    """The text exposition of every process (multiprocess mode) or of this one."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Default())
    registry.register(_OutboxCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics`` for Prometheus: mount it yourself, where only Prometheus reaches it.

    ``path("metrics/", pusher_django.metrics.metrics_view)``. It shows
    counts, never event data or secrets; it runs two index-backed queries.
    """
    if _metrics() is None:
        return HttpResponse(
            "prometheus_client is not installed: pip install pusher-django[metrics]",
            status=501,
            content_type="text/plain",
        )
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
