"""Counters, heartbeats, metrics and the Overview page, offline.

The outbox hooks are driven through the relay with ``send_events`` replaced
(a unit test has no server); the real run is in
``tests/browser/test_overview_chromium.py``.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.db import transaction
from django.test import Client, TestCase
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from pusher_django import counters, health, metrics, tasks
from pusher_django.admin.charts import Series, bar_chart, line_chart
from pusher_django.admin.overview import seconds
from pusher_django.exceptions import PusherAuthenticationError
from pusher_django.listener.replicas import ReplicaReporter, replicas
from pusher_django.listener.session import State
from pusher_django.models import Delivery
from pusher_django.outbox import relay, trigger_on_commit
from tests.unit.helpers import celery_hand_off

pytestmark = pytest.mark.django_db
OVERVIEW = "/admin/pusher_django/overview/"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    caches["default"].clear()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_percentiles_interpolate_inside_the_bucket_like_prometheus() -> None:
    histogram = [0] * 14
    histogram[1] = 10  # ten events between 10 and 25 ms
    assert counters.percentile(histogram, 0.5) == pytest.approx(0.0175)
    assert counters.percentile(histogram, 1.0) == pytest.approx(0.025)
    assert counters.percentile([0] * 14, 0.5) is None
    histogram[-1] = 90  # the open top bucket reads as its lower bound
    assert counters.percentile(histogram, 0.99) == 300.0


def test_counts_add_up_per_minute_and_window() -> None:
    now = time.time()
    moment = timezone.now()
    counters.sent([moment - timedelta(seconds=0.02)] * 3, now=moment)
    counters.sent([moment - timedelta(seconds=2)], now=moment)
    counters.failed(2)
    counters.enqueued(7)
    counters.auth_decisions([200, 200, 403])
    counters.webhook_events(received=4, skipped=1)
    window = counters.minutes(60, now)
    assert len(window) == 60
    assert window[-1].counts["sent"] == 4
    assert counters.totals(window) == {
        "enqueued": 7,
        "sent": 4,
        "failed": 2,
        "auth_allowed": 2,
        "auth_denied": 1,
        "webhook_received": 4,
        "webhook_skipped": 1,
    }
    histogram = counters.latency_of(window)
    assert histogram[counters.bucket_of(0.02)] == 3
    assert histogram[counters.bucket_of(2)] == 1
    assert counters.minutes(60, now + 3600)[-1].counts["sent"] == 0  # an hour later: gone


def test_a_hook_only_tallies_and_the_flush_writes_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(counters, "FLUSH_SECONDS", 3600.0)  # the thread must not race the test
    monkeypatch.setattr(counters, "_tally", counters._Tally())
    counters.enqueued(3)
    key = counters._key(counters.minute_of(time.time()), "enqueued")
    assert caches["default"].get(key) is None  # the caller did not wait for the cache
    counters.flush()
    assert caches["default"].get(key) == 3
    counters.enqueued(2)
    parents = counters._tally
    counters._after_fork()  # a forked child does not inherit (and so re-count) a tally
    assert parents.counts
    assert not counters._tally.counts


def test_a_settled_hour_is_read_from_one_sealed_key() -> None:
    now = time.time()
    earlier = now - 3 * 3600
    counters._add({"sent": 4, "failed": 1}, earlier)
    day = counters.minutes(24 * 60, now)
    assert counters.totals(day)["sent"] == 4
    hour = counters.minute_of(earlier) // 60
    sealed = caches["default"].get(counters._hour_key(hour))
    assert sealed == {counters.minute_of(earlier): (0, 4, 1) + (0,) * 18}
    caches["default"].delete(counters._key(counters.minute_of(earlier), "sent"))
    assert counters.totals(counters.minutes(24 * 60, now))["sent"] == 4  # no longer key by key


def test_a_broken_cache_never_breaks_the_counted_work(
    settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counters, "_warned", False)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        },
    }
    settings.PUSHER = {**settings.PUSHER, "HEALTH": {"CACHE": "down"}}
    counters.enqueued(1)
    counters.failed(1)
    assert counters.totals(counters.minutes(5))["enqueued"] == 0
    assert replicas() == []
    assert caplog.text.count("counters are not kept") == 1  # once per process, not per event


def test_the_outbox_counts_enqueued_sent_with_latency_and_failed(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    celery_hand_off(settings)  # the relay sends, here
    before = sample("pusher_django_events_sent_total")
    before_hist = sample("pusher_django_delivery_latency_seconds_count")
    monkeypatch.setattr(relay, "send_events", lambda client, events: None)
    monkeypatch.setattr(tasks, "enqueue_or_run", lambda task, *args, fallback: True)
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        trigger_on_commit("private-a", "one", {"n": 1})
        trigger_on_commit("private-b", "two", {"n": 2})
    assert relay.deliver().sent == 2
    totals = counters.totals(counters.minutes(1))
    assert (totals["enqueued"], totals["sent"], totals["failed"]) == (2, 2, 0)
    assert sample("pusher_django_events_sent_total") - before == 2
    assert sample("pusher_django_delivery_latency_seconds_count") - before_hist == 2

    def refuse(client: Any, events: Any) -> None:
        raise PusherAuthenticationError("refused", status=401, method="POST", path="/batch_events")

    monkeypatch.setattr(relay, "send_events", refuse)
    trigger_on_commit("private-a", "three", {"n": 3})
    assert relay.deliver().failed == 1
    assert counters.totals(counters.minutes(1))["failed"] == 1


def test_rolled_back_events_are_not_counted_as_enqueued(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "enqueue_or_run", lambda task, *args, fallback: True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            trigger_on_commit("private-a", "one", {"n": 1})
            raise RuntimeError("roll back")
        with transaction.atomic():
            trigger_on_commit("private-a", "two", {"n": 2})
            with pytest.raises(RuntimeError), transaction.atomic():
                trigger_on_commit("private-a", "three", {"n": 3})
                raise RuntimeError("roll back the savepoint")
    assert counters.totals(counters.minutes(1))["enqueued"] == 1


class FakeListener:
    """The attributes a reporter reads, set by the test instead of a server."""

    def __init__(self) -> None:
        self.state = State.CONNECTING
        self.socket_id: str | None = None
        self.channels = ["presence-room"]
        self.session = type("S", (), {"heartbeat": type("H", (), {"last_activity": 0.0})()})()

    def connect(self, socket_id: str) -> None:
        self.state, self.socket_id = State.CONNECTED, socket_id
        self.session.heartbeat.last_activity = time.monotonic()


def test_a_replica_reports_reconnects_and_is_gone_when_its_heartbeat_stops(
    settings: Any,
) -> None:
    settings.PUSHER = {**settings.PUSHER, "HEALTH": {"HEARTBEAT": 1.0}}
    listener = FakeListener()
    reporter = ReplicaReporter(listener)  # type: ignore[arg-type]
    before = sample("pusher_django_listener_reconnects_total")
    now = time.time()
    listener.connect("1.1")
    reporter.observe(now)
    listener.connect("2.2")  # a new socket id: a second connection
    reporter.observe(now + 1)
    reporter._write(now + 1)
    (seen,) = replicas(now + 2)
    assert seen.status(now + 2) == "connected"
    assert seen.reconnects == 1
    assert seen.connected_since == now + 1
    assert seen.channels == ("presence-room",)
    assert seen.holding is None
    assert sample("pusher_django_listener_reconnects_total") - before == 1
    assert sample("pusher_django_listener_connected") == 1
    assert replicas(now + 5)[0].status(now + 5) == "gone"  # three heartbeats missed
    reporter.stop()
    assert replicas(now + 5)[0].status(now + 5) == "stopped"
    assert sample("pusher_django_listener_connected") == 0


def test_backlog_counts_stop_at_the_limit_and_name_the_oldest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health, "COUNT_LIMIT", 3)
    old = timezone.now() - timedelta(minutes=10)
    Delivery.objects.bulk_create(
        Delivery(channel="a", name="e", data="{}", created_at=old + timedelta(seconds=i))
        for i in range(5)
    )
    state = health.backlog()
    assert state.pending == 3
    assert state.oldest_age == pytest.approx(600, abs=5)
    assert state.last_sent is None


def test_top_channels_come_from_the_windows_sent_events() -> None:
    now = timezone.now()
    rows = [("busy", 5), ("calm", 2), ("old", 9)]
    for channel, count in rows:
        sent_at = now - timedelta(hours=3) if channel == "old" else now
        Delivery.objects.bulk_create(
            [
                Delivery(channel=channel, name="e", data="{}", status="sent", sent_at=sent_at)
                for _ in range(count)
            ]
        )
    top, sampled = health.top_channels(now - timedelta(hours=1))
    assert top == [("busy", 5), ("calm", 2)]
    assert not sampled


@pytest.fixture
def viewer(django_user_model: Any) -> Client:
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client = Client()
    client.force_login(user)
    return client


def test_the_page_needs_view_delivery_and_has_no_row_urls(
    viewer: Client, django_user_model: Any
) -> None:
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    other = Client()
    other.force_login(staff)
    assert other.get(OVERVIEW).status_code == 403
    index = viewer.get("/admin/").content.decode()
    assert OVERVIEW in index
    assert ">Overview<" in index
    response = viewer.get(OVERVIEW)
    assert response.status_code == 200
    row = Delivery.objects.create(channel="private-x", name="e", data='{"secret": "s3"}')
    assert viewer.get(f"{OVERVIEW}{row.pk}/change/").status_code == 404


def test_the_page_says_deliveries_stopped_when_events_wait_too_long(
    viewer: Client, settings: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "OUTBOX": {"BACKLOG_WARNING": 60}}
    response = viewer.get(OVERVIEW)
    assert 'data-status="ok"' in response.content.decode()
    Delivery.objects.create(
        channel="private-x", name="e", data="{}", created_at=timezone.now() - timedelta(minutes=5)
    )
    page = viewer.get(OVERVIEW).content.decode()
    assert 'data-status="stopped"' in page
    assert "Deliveries have stopped" in page
    assert "5 min" in page
    assert '<meta http-equiv="refresh"' in page


def test_the_page_shows_the_counters_and_costs_a_fixed_number_of_queries(
    viewer: Client, django_assert_max_num_queries: Any
) -> None:
    moment = timezone.now()
    counters.sent([moment - timedelta(seconds=0.2)] * 20, now=moment)
    counters.webhook_events(received=3, skipped=2)
    Delivery.objects.create(
        channel="presence-<b>room</b>", name="e", data="{}", status="sent", sent_at=moment
    )
    with django_assert_max_num_queries(12):
        page = viewer.get(OVERVIEW).content.decode()
    assert 'id="pusher-latency-chart"' in page
    assert 'id="pusher-throughput-chart"' in page
    assert "presence-&lt;b&gt;room&lt;/b&gt;" in page  # escaped
    assert "<td>3</td>" in page
    assert "<td>2</td>" in page
    assert viewer.get(OVERVIEW + "?window=day").status_code == 200
    assert viewer.get(OVERVIEW + "?window=<script>").status_code == 200


@examples(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(window=st.text(max_size=40))
def test_any_window_parameter_gets_the_page_never_an_error(viewer: Client, window: str) -> None:
    response = viewer.get(OVERVIEW, {"window": window})
    assert response.status_code == 200
    shown = "Last day" if window == "day" else "Last hour"
    assert f"<strong>{shown}</strong>" in response.content.decode()


def test_charts_are_svg_with_gaps_and_escaped_labels() -> None:
    svg = line_chart(
        [Series("<p50>", "#000", [0.1, None, 0.3])], ["a", "b", "c"], title="t", css_id="c"
    )
    assert svg.startswith('<svg id="c"')
    assert "&lt;p50&gt;" in svg
    assert svg.count("M") == 2  # the gap starts a new segment
    assert svg.count("<circle") == 2  # lone values are dots
    bars = bar_chart([Series("sent", "#0f0", [1, 0, 3])], ["a", "b", "c"], title="t", css_id="b")
    assert bars.count("z") == 2  # a rectangle per non-zero column
    assert [seconds(0.25), seconds(4.2), seconds(None)] == ["250 ms", "4.2 s", "-"]


def test_the_metrics_view_exposes_counters_and_outbox_gauges(settings: Any) -> None:
    Delivery.objects.create(channel="a", name="e", data="{}")
    counters.auth_decisions([200, 403, 403])
    response = metrics.metrics_view(None)  # type: ignore[arg-type]
    text = response.content.decode()
    assert response.status_code == 200
    assert "pusher_django_outbox_backlog 1.0" in text
    assert 'pusher_django_auth_decisions_total{decision="denied"}' in text
    assert "pusher_django_delivery_latency_seconds_bucket" in text


def test_without_prometheus_client_the_view_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "_metrics", lambda: None)
    response = metrics.metrics_view(None)  # type: ignore[arg-type]
    assert response.status_code == 501
    assert b"pusher-django[metrics]" in response.content
    metrics.sent([0.1])  # and counting does nothing


def test_spans_wrap_a_delivery_and_its_rest_calls(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """Offline: the REST call goes to a closed port, a real refusal (still a span)."""
    celery_hand_off(settings)  # the relay sends, here
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from pusher_django import tracing

    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    monkeypatch.setattr(tracing, "_tracer", lambda: provider.get_tracer("pusher_django"))
    trigger_on_commit("private-a", "one", {"secret": "not in a span"})
    assert relay.deliver().deferred == 1
    spans = {span.name: span for span in exported.get_finished_spans()}
    rest, delivery = spans["pusher.rest"], spans["pusher_django.outbox.deliver"]
    assert rest.parent is not None
    assert rest.parent.span_id == delivery.context.span_id
    assert dict(rest.attributes or {}) == {
        "http.request.method": "POST",
        "url.path": "/apps/123/events",  # one event: a plain trigger
    }
    assert "not in a span" not in str([dict(s.attributes or {}) for s in spans.values()])
