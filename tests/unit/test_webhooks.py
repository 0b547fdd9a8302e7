"""The webhook endpoint with signed (and forged) deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from pusher_django import signals, tasks
from pusher_django.webhooks import Webhook
from tests.support.signals import SignalRecorder, record_signals

URL = "/pusher/webhook/"
KEY, SECRET = "unit-key", "unit-secret"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    with record_signals() as rec:
        yield rec


def body_of(*events: dict[str, Any], time_ms: int | None = None) -> bytes:
    if time_ms is None:
        time_ms = int(time.time() * 1000)
    return json.dumps({"time_ms": time_ms, "events": list(events)}).encode()


def post(body: bytes, *, key: str = KEY, secret: str = SECRET, signature: str | None = None):
    sig = signature or hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return Client().post(
        URL,
        data=body,
        content_type="application/json",
        headers={"X-Pusher-Key": key, "X-Pusher-Signature": sig},
    )


@pytest.mark.parametrize(
    ("event", "signal", "kwargs"),
    [
        ({"name": "channel_occupied", "channel": "c"}, "channel_occupied", {"channel": "c"}),
        ({"name": "channel_vacated", "channel": "c"}, "channel_vacated", {"channel": "c"}),
        (
            {"name": "member_added", "channel": "presence-r", "user_id": 7},
            "member_added",
            {"channel": "presence-r", "user_id": "7", "user_info": None},
        ),
        (
            {"name": "member_removed", "channel": "presence-r", "user_id": "7"},
            "member_removed",
            {"channel": "presence-r", "user_id": "7", "user_info": None},
        ),
        (
            {
                "name": "client_event",
                "channel": "private-c",
                "event": "client-typing",
                "data": '{"x":1}',
                "socket_id": "1.2",
            },
            "client_event",
            {
                "channel": "private-c",
                "event": "client-typing",
                "data": {"x": 1},
                "socket_id": "1.2",
                "user_id": None,
            },
        ),
        ({"name": "cache_miss", "channel": "cache-x"}, "cache_miss", {"channel": "cache-x"}),
        (
            {"name": "subscription_count", "channel": "c", "subscription_count": 3},
            "subscription_count",
            {"channel": "c", "subscription_count": 3},
        ),
    ],
)
def test_each_event_type_becomes_its_signal_with_source_webhook(
    recorder: SignalRecorder, event: dict[str, Any], signal: str, kwargs: dict[str, Any]
) -> None:
    response = post(body_of(event))
    assert response.status_code == 200
    assert recorder.of(signal) == [{**kwargs, "source": "webhook"}]
    assert recorder.records[0].sender is Webhook


def test_a_batch_is_dispatched_in_order_and_unknown_event_names_are_skipped(
    recorder: SignalRecorder,
) -> None:
    body = body_of(
        {"name": "channel_occupied", "channel": "a"},
        {"name": "some_future_event", "channel": "a"},
        {"name": "channel_vacated", "channel": "a"},
    )
    assert post(body).status_code == 200
    assert [r.signal for r in recorder.records] == ["channel_occupied", "channel_vacated"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signature": "0" * 64}, "Invalid X-Pusher-Signature"),
        ({"secret": "another-secret"}, "Invalid X-Pusher-Signature"),
        ({"key": "other-key"}, "Unknown X-Pusher-Key"),
    ],
)
def test_forged_deliveries_are_refused_with_401_and_no_secret(
    recorder: SignalRecorder, caplog: pytest.LogCaptureFixture, kwargs: dict[str, str], message: str
) -> None:
    response = post(body_of({"name": "channel_occupied", "channel": "a"}), **kwargs)
    assert response.status_code == 401
    assert response.json() == {"error": message + "."}
    assert recorder.records == []
    assert "refused" in caplog.text
    assert SECRET not in response.content.decode()
    assert SECRET not in caplog.text


def test_missing_headers_are_refused() -> None:
    response = Client().post(URL, data=body_of(), content_type="application/json")
    assert response.status_code == 401


def test_a_stale_delivery_is_refused_as_a_possible_replay(recorder: SignalRecorder) -> None:
    old = int(time.time() * 1000) - 3_600_000
    response = post(body_of({"name": "channel_occupied", "channel": "a"}, time_ms=old))
    assert response.status_code == 401
    assert "time_ms" in response.json()["error"]
    assert recorder.records == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"events": []}',
        json.dumps({"time_ms": 1, "events": {}}).encode(),
        json.dumps({"time_ms": 10**400 // 10**380, "events": []}).encode(),
        b'{"time_ms": 1' + b"0" * 400 + b', "events": []}',
        b'{"time_ms": NaN, "events": []}',
    ],
)
def test_malformed_bodies_get_400_and_dispatch_nothing(
    settings: Any, recorder: SignalRecorder, body: bytes
) -> None:
    settings.PUSHER = {**settings.PUSHER, "WEBHOOKS": {"MAX_AGE": None}}
    response = post(body)
    assert response.status_code == 400
    assert recorder.records == []


@pytest.mark.parametrize(
    "bad",
    [
        {"channel": "a"},
        {"name": "member_added", "channel": "presence-a"},
        {"name": "member_added", "channel": "presence-a", "user_id": {"x": 1}},
        {"name": "channel_occupied", "channel": 5},
        {"name": "channel_occupied", "channel": "not a channel"},
        {"name": "subscription_count", "channel": "a", "subscription_count": "many"},
        {"name": "subscription_count", "channel": "a", "subscription_count": 1e300},
        "not an event",
    ],
)
def test_a_malformed_event_is_skipped_and_the_others_still_run(
    recorder: SignalRecorder, bad: Any, caplog: pytest.LogCaptureFixture
) -> None:
    good = {"name": "channel_occupied", "channel": "private-good"}
    response = post(body_of(bad, good))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "skipped": 1}
    assert [(r.signal, r.kwargs["channel"]) for r in recorder.records] == [
        ("channel_occupied", "private-good")
    ]
    assert "event 0 skipped" in caplog.text


def test_client_event_data_nested_deeper_than_any_decoder_goes(recorder: SignalRecorder) -> None:
    """Issue #14: ~2 KB of nesting inside one client event (soketi sends data as an object)."""
    deep = "[" * 5000 + "]" * 5000
    hostile = '{"name":"client_event","channel":"private-a","event":"client-x","data":' + deep + "}"
    good = json.dumps({"name": "channel_occupied", "channel": "private-good"})
    text = f'{{"time_ms":{int(time.time() * 1000)},"events":[{hostile},{good}]}}'
    response = post(text.encode())
    assert response.status_code == 200
    assert response.json()["skipped"] == 1
    assert [r.kwargs["channel"] for r in recorder.records] == ["private-good"]
    as_string = json.dumps(
        {"name": "client_event", "channel": "private-a", "event": "client-x", "data": deep}
    )
    recorder.records.clear()
    response = post(f'{{"time_ms":{int(time.time() * 1000)},"events":[{as_string}]}}'.encode())
    assert response.status_code == 200  # hosted Pusher: the data is a string, kept as it is
    assert recorder.records[0].kwargs["data"] == deep


def test_get_is_not_allowed() -> None:
    assert Client().get(URL).status_code == 405


def test_a_raising_receiver_answers_500_after_the_other_events_and_a_retry_reruns_only_it(
    recorder: SignalRecorder,
) -> None:
    broken = {"on": True}

    def flaky(sender: Any, channel: str, **kwargs: Any) -> None:
        if channel == "b" and broken["on"]:
            raise RuntimeError("database down")

    signals.channel_occupied.connect(flaky, weak=False, dispatch_uid="flaky")
    body = body_of(*({"name": "channel_occupied", "channel": c} for c in ("a", "b", "c")))
    try:
        first = post(body)
        assert first.status_code == 500
        assert [r.kwargs["channel"] for r in recorder.records] == ["a", "b", "c"]
        broken["on"] = False
        retry = post(body)
        assert retry.status_code == 200
        assert [r.kwargs["channel"] for r in recorder.records] == ["a", "b", "c", "b"]
    finally:
        signals.channel_occupied.disconnect(dispatch_uid="flaky")


def test_a_retried_delivery_does_not_fire_receivers_again(recorder: SignalRecorder) -> None:
    body = body_of({"name": "member_added", "channel": "presence-a", "user_id": "1"})
    assert post(body).status_code == 200
    assert post(body).status_code == 200
    assert len(recorder.of("member_added")) == 1


def test_async_mode_answers_at_once_and_the_task_dispatches(
    settings: Any, recorder: SignalRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broker is replaced by a list here; the task itself runs for real."""
    settings.PUSHER = {**settings.PUSHER, "WEBHOOKS": {"ASYNC": True}}
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        tasks.dispatch_webhook, "apply_async", lambda args, **kw: queued.append(args)
    )
    response = post(body_of({"name": "cache_miss", "channel": "cache-a"}))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "queued": 1}
    assert recorder.records == []
    assert tasks.dispatch_webhook.apply(args=queued[0]).get() == 1
    assert recorder.of("cache_miss") == [{"channel": "cache-a", "source": "webhook"}]


def test_async_mode_falls_back_to_dispatching_when_the_broker_is_down(
    settings: Any, recorder: SignalRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PUSHER = {**settings.PUSHER, "WEBHOOKS": {"ASYNC": True}}

    def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.dispatch_webhook, "apply_async", down)
    assert post(body_of({"name": "cache_miss", "channel": "cache-a"})).status_code == 200
    assert len(recorder.of("cache_miss")) == 1
