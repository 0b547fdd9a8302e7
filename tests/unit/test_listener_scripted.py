"""The listener against a scripted websocket server.

soketi cannot produce these on demand: ``pusher_internal:subscription_count``
(soketi does not implement it), a ``pusher:ping`` without ``data``, a chosen
close code, a pong that never comes, malformed frames, a refused handshake.
Each script plays one connection; the listener under test is the real one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pusher_django import crypto, signals
from pusher_django.conf import ListenerSettings, get_config, parse_master_key
from pusher_django.exceptions import PusherValidationError
from pusher_django.listener import Listener, ListenerFailed, Session, State, listener_settings
from tests.support.scripted_server import Conn, ScriptedServer
from tests.support.signals import SignalRecorder, record_signals

MASTER_KEY = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk="


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    with record_signals() as rec:
        yield rec


def make_listener(server: ScriptedServer, settings: Any, *channels: str, **opts: Any) -> Listener:
    settings.PUSHER = server.settings()
    base = listener_settings(channels)
    options = ListenerSettings(**{**base.__dict__, "signin": False, **opts})
    return Listener(options=options, config=get_config())


def running(listener: Listener) -> Listener:
    listener.start()
    assert listener.wait_connected(5), "listener did not connect"
    return listener


def test_ping_without_data_is_answered_with_pong_carrying_empty_object(
    settings: Any, recorder: SignalRecorder
) -> None:
    pongs: list[dict[str, Any]] = []

    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.send({"event": "pusher:ping"})
        pongs.append(await conn.expect("pusher:pong"))
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings))
        deadline = time.monotonic() + 5
        while not pongs and time.monotonic() < deadline:
            time.sleep(0.02)
        listener.stop()
    assert pongs == [{"event": "pusher:pong", "data": {}}]
    assert listener.state is State.DISCONNECTED


def test_subscription_count_and_both_cache_miss_names_become_signals(
    settings: Any, recorder: SignalRecorder
) -> None:
    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(2)
        await conn.send(
            {
                "event": "pusher_internal:subscription_count",
                "channel": "counted",
                "data": json.dumps({"subscription_count": 7}),
            }
        )
        await conn.send({"event": "pusher:cache_miss", "channel": "cache-news"})
        await conn.send({"event": "pusher_internal:cache_miss", "channel": "cache-news"})
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings, "counted", "cache-news"))
        counts = recorder.wait_for("subscription_count")
        misses = recorder.wait_for("cache_miss", count=2)
        listener.stop()
    assert counts == [{"channel": "counted", "subscription_count": 7, "source": "listener"}]
    assert misses == [{"channel": "cache-news", "source": "listener"}] * 2


def test_event_data_as_string_object_or_non_json_and_malformed_frames_are_survived(
    settings: Any, recorder: SignalRecorder
) -> None:
    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        await conn.send("this is not json")
        await conn.send(json.dumps({"no": "event"}))
        await conn.send(json.dumps(["a", "list"]))
        await conn.ws.send(b"\x00binary")
        await conn.send({"event": "a", "channel": "news", "data": json.dumps({"n": 1})})
        await conn.send({"event": "b", "channel": "news", "data": {"n": 2}})
        await conn.send({"event": "c", "channel": "news", "data": "plain text"})
        await conn.send({"event": "d", "channel": "not-joined", "data": "{}"})
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings, "news"))
        events = recorder.wait_for("event_received", count=3)
        time.sleep(0.2)
        listener.stop()
        assert len(server.connections) == 1, "a malformed frame must not cost the connection"
    assert [(e["event"], e["data"]) for e in recorder.of("event_received")] == [
        ("a", {"n": 1}),
        ("b", {"n": 2}),
        ("c", "plain text"),
    ]
    assert events[0]["user_id"] is None


@pytest.mark.parametrize("code", [4001, 4009, 4099, 4301])
def test_codes_that_forbid_reconnecting_stop_the_listener_with_a_clear_failure(
    settings: Any, recorder: SignalRecorder, code: int
) -> None:
    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.send({"event": "pusher:error", "data": {"code": code, "message": "go away"}})
        await conn.close(code, "go away")

    with ScriptedServer(script) as server:
        listener = make_listener(server, settings)
        with pytest.raises(ListenerFailed, match=f"code {code}"):
            listener.run()
        assert len(server.connections) == 1
    assert listener.state is State.FAILED
    assert recorder.of("connection_error")[0]["code"] == code


def test_a_refusal_instead_of_the_handshake_stops_the_listener(settings: Any) -> None:
    async def script(conn: Conn) -> None:
        await conn.send({"event": "pusher:error", "data": {"code": 4001, "message": "No app"}})
        await conn.close(4001, "")

    with ScriptedServer(script) as server:
        listener = make_listener(server, settings)
        with pytest.raises(ListenerFailed, match=r"4001.*does not exist"):
            listener.run()


def _reconnect_gap(settings: Any, code: int, backoff: float) -> float:
    stamps: list[float] = []

    async def first(conn: Conn) -> None:
        stamps.append(time.monotonic())
        await conn.established()
        await conn.close(code, "test")

    async def second(conn: Conn) -> None:
        stamps.append(time.monotonic())
        await conn.established()
        await conn.hold()

    with ScriptedServer(first, second) as server:
        listener = make_listener(
            server, settings, reconnect_backoff=backoff, reconnect_backoff_max=backoff
        )
        listener.start()
        deadline = time.monotonic() + 10
        while len(stamps) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        listener.stop()
    assert len(stamps) == 2, f"no reconnect after close {code}"
    return stamps[1] - stamps[0]


def test_4200_range_reconnects_at_once(settings: Any) -> None:
    assert _reconnect_gap(settings, 4200, backoff=3.0) < 1.0


@pytest.mark.parametrize("code", [4100, 1011])
def test_4100_range_and_other_closes_back_off(settings: Any, code: int) -> None:
    assert _reconnect_gap(settings, code, backoff=0.6) >= 0.6


def test_silence_triggers_a_ping_and_a_missing_pong_a_reconnect(settings: Any) -> None:
    pings: list[dict[str, Any]] = []

    async def silent(conn: Conn) -> None:
        await conn.established(activity_timeout=1)
        pings.append(await conn.expect("pusher:ping", timeout=5))
        await conn.hold()  # never answers

    async def healthy(conn: Conn) -> None:
        await conn.established()
        await conn.hold()

    with ScriptedServer(silent, healthy) as server:
        listener = make_listener(server, settings, pong_timeout=0.5)
        started = time.monotonic()
        listener.start()
        deadline = started + 10
        while len(server.connections) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        elapsed = time.monotonic() - started
        listener.stop()
    assert pings
    assert pings[0]["data"] == {}
    assert len(server.connections) == 2
    assert 1.4 <= elapsed < 5


def _presence(members: dict[str, Any]) -> str:
    return json.dumps({"presence": {"ids": list(members), "hash": members, "count": len(members)}})


def test_presence_members_are_tracked_and_diffed_after_a_reconnect(
    settings: Any, recorder: SignalRecorder
) -> None:
    channel = "presence-room"
    subscribed = [threading.Event(), threading.Event()]
    member_frames: list[dict[str, Any]] = []

    async def first(conn: Conn) -> None:
        await conn.established()
        message = await conn.expect("pusher:subscribe")
        member_frames.append(json.loads(message["data"]["channel_data"]))
        await conn.send(
            {
                "event": "pusher_internal:subscription_succeeded",
                "channel": channel,
                "data": _presence({"a": {"name": "Ann"}, "b": {"name": "Bob"}}),
            }
        )
        await conn.send(
            {
                "event": "pusher_internal:member_added",
                "channel": channel,
                "data": json.dumps({"user_id": "c", "user_info": {"name": "Cy"}}),
            }
        )
        await conn.send(
            {
                "event": "pusher_internal:member_removed",
                "channel": channel,
                "data": json.dumps({"user_id": "a"}),
            }
        )
        subscribed[0].set()
        await conn.close(4200, "restart")

    async def second(conn: Conn) -> None:
        await conn.established()
        await conn.expect("pusher:subscribe")
        # While away: b left, d joined, c stayed.
        await conn.send(
            {
                "event": "pusher_internal:subscription_succeeded",
                "channel": channel,
                "data": _presence({"c": {"name": "Cy"}, "d": {"name": "Di"}}),
            }
        )
        subscribed[1].set()
        await conn.hold()

    with ScriptedServer(first, second) as server:
        listener = running(
            make_listener(server, settings, channel, user_id="bot", user_info={"role": "bot"})
        )
        recorder.wait_for("subscription_succeeded", count=2)
        recorder.wait_for("member_added", user_id="d")
        members = listener.members(channel)
        listener.stop()

    assert member_frames == [{"user_id": "bot", "user_info": {"role": "bot"}}]
    assert [(e["user_id"], e["user_info"]) for e in recorder.of("member_added")] == [
        ("c", {"name": "Cy"}),
        ("d", {"name": "Di"}),
    ]
    assert [(e["user_id"], e["user_info"]) for e in recorder.of("member_removed")] == [
        ("a", {"name": "Ann"}),
        ("b", {"name": "Bob"}),
    ]
    first_success = recorder.of("subscription_succeeded")[0]
    assert first_success["members"] == {"a": {"name": "Ann"}, "b": {"name": "Bob"}}
    assert members == {"c": {"name": "Cy"}, "d": {"name": "Di"}}


def test_subscription_error_is_a_signal_and_publishing_there_fails(
    settings: Any, recorder: SignalRecorder
) -> None:
    async def script(conn: Conn) -> None:
        await conn.established()
        message = await conn.expect("pusher:subscribe")
        await conn.send(
            {
                "event": "pusher:subscription_error",
                "channel": message["data"]["channel"],
                "data": {"type": "AuthError", "error": "Invalid signature", "status": 401},
            }
        )
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings, "private-x"))
        errors = recorder.wait_for("subscription_error")
        future = listener.publish("private-x", "hello", {})
        with pytest.raises(PusherValidationError, match="not subscribed"):
            future.result(5)
        listener.stop()
    assert errors == [
        {"channel": "private-x", "status": 401, "error": "Invalid signature", "source": "listener"}
    ]


def test_encrypted_events_are_decrypted_and_bad_ones_reported_without_stopping(
    settings: Any, recorder: SignalRecorder
) -> None:
    channel = "private-encrypted-vault"
    key = parse_master_key(MASTER_KEY)
    good = crypto.encrypt(channel, json.dumps({"secret": 42}), key)

    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        await conn.send({"event": "plain", "channel": channel, "data": json.dumps({"oops": 1})})
        await conn.send({"event": "bad", "channel": channel, "data": "not even json"})
        await conn.send({"event": "good", "channel": channel, "data": good})
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings, channel))
        received = recorder.wait_for("event_received")
        listener.stop()
    assert received == [
        {
            "channel": channel,
            "event": "good",
            "data": {"secret": 42},
            "user_id": None,
            "source": "listener",
        }
    ]
    assert [f["event"] for f in recorder.of("decryption_failed")] == ["plain", "bad"]


@pytest.mark.django_db(transaction=True)
def test_receivers_use_the_orm_and_a_raising_receiver_does_not_stop_others(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.testapp.models import Room

    seen: list[str] = []

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    def store(sender: Any, **kwargs: Any) -> None:
        Room.objects.create(name=kwargs["event"])
        seen.append(kwargs["event"])

    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        for n in range(3):
            await conn.send({"event": f"e{n}", "channel": "news", "data": "{}"})
        await conn.hold()

    signals.event_received.connect(broken, weak=False, dispatch_uid="broken")
    signals.event_received.connect(store, weak=False, dispatch_uid="store")
    try:
        with ScriptedServer(script) as server:
            listener = running(make_listener(server, settings, "news"))
            deadline = time.monotonic() + 5
            while len(seen) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            listener.stop()
    finally:
        signals.event_received.disconnect(dispatch_uid="broken")
        signals.event_received.disconnect(dispatch_uid="store")
    assert sorted(Room.objects.values_list("name", flat=True)) == ["e0", "e1", "e2"]
    assert caplog.text.count("receiver bug") >= 3


def test_stop_waits_for_receivers_in_flight(settings: Any) -> None:
    finished: list[str] = []

    def slow(sender: Any, **kwargs: Any) -> None:
        time.sleep(0.5)
        finished.append(kwargs["event"])

    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        await conn.send({"event": "slow", "channel": "news", "data": "{}"})
        await conn.hold()

    signals.event_received.connect(slow, weak=False, dispatch_uid="slow")
    try:
        with ScriptedServer(script) as server:
            listener = running(make_listener(server, settings, "news"))
            time.sleep(0.2)
            listener.stop()
    finally:
        signals.event_received.disconnect(dispatch_uid="slow")
    assert finished == ["slow"]


def test_client_events_are_paced_to_the_rate_limit_and_kept_in_order(settings: Any) -> None:
    """25 events published at once leave in windows of at most 10 per second."""
    arrivals: list[tuple[float, dict[str, Any]]] = []

    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(2)
        while True:
            message = await conn.recv(timeout=10)
            if message["event"].startswith("client-"):
                arrivals.append((time.monotonic(), message))

    with ScriptedServer(script) as server:
        listener = running(
            make_listener(server, settings, "private-chat", "private-encrypted-chat")
        )
        futures = [listener.publish("private-chat", "tick", {"n": n}) for n in range(25)]
        secret = listener.publish("private-encrypted-chat", "client-secret", {"s": 1})
        for future in [*futures, secret]:
            future.result(10)
        listener.stop()

    ticks = [m for _, m in arrivals if m["event"] == "client-tick"]
    assert [m["data"] for m in ticks] == [{"n": n} for n in range(25)]
    times = [t for t, _ in arrivals]
    for i in range(len(times) - 10):
        assert times[i + 10] - times[i] >= 1.0, "more than 10 client events in one second"
    encrypted = next(m for _, m in arrivals if m["event"] == "client-secret")
    plain = crypto.decrypt(
        "private-encrypted-chat", encrypted["data"], parse_master_key(MASTER_KEY)
    )
    assert json.loads(plain) == {"s": 1}


def test_publish_refuses_public_channels_unjoined_channels_and_oversize_data(settings: Any) -> None:
    settings.PUSHER = {**ScriptedServer().settings()}
    listener = Listener(["private-chat", "news"], options=ListenerSettings(), config=get_config())
    with pytest.raises(PusherValidationError, match="only allowed on private and presence"):
        listener.publish("news", "x", {})
    with pytest.raises(PusherValidationError, match="subscribe"):
        listener.publish("private-other", "x", {})
    with pytest.raises(PusherValidationError, match="limit"):
        listener.publish("private-chat", "x", "a" * 20000)
    with pytest.raises(PusherValidationError, match="Event name"):
        listener.publish("private-chat", "x" * 300, {})


def test_a_receiver_may_stop_the_listener(settings: Any) -> None:
    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        await conn.send({"event": "stop-now", "channel": "news", "data": "{}"})
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = make_listener(server, settings, "news")

        def stopper(sender: Any, **kwargs: Any) -> None:
            listener.stop()

        signals.event_received.connect(stopper, weak=False, dispatch_uid="stopper")
        try:
            thread = threading.Thread(target=listener.run)
            thread.start()
            thread.join(10)
        finally:
            signals.event_received.disconnect(dispatch_uid="stopper")
    assert not thread.is_alive(), "stop() from a receiver must not deadlock"
    assert listener.state is State.DISCONNECTED


def test_hostile_frames_are_rejected_and_the_next_event_still_arrives(
    settings: Any, recorder: SignalRecorder
) -> None:
    """Issue #14: ~2 KB of nesting in a client event used to end the listener thread."""
    deep = "[" * 3000 + "]" * 3000

    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        await conn.send('{"event":"client-x","channel":"private-a","data":' + deep + "}")
        await conn.send({"event": "client-x", "channel": "private-a", "data": deep})
        await conn.send('{"event":"client-x","channel":"private-a","data":1e999}')
        await conn.send('{"event":"client-x","channel":"private-a","data":{"n":NaN}}')
        await conn.send({"event": "after", "channel": "private-a", "data": '{"ok":true}'})
        await conn.hold()

    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings, "private-a"))
        after = recorder.wait_for("event_received", event="after")
        rejected = recorder.of("frame_rejected")
        listener.stop()
    assert after[0]["data"] == {"ok": True}
    assert len(rejected) == 3
    assert all(r["event"] is None and "frame refused" in r["error"] for r in rejected)
    kept_as_text = recorder.of("event_received", event="client-x")
    assert [r["data"] for r in kept_as_text] == [deep]  # data sent as a string stays a string


def test_an_exception_while_handling_a_frame_is_reported_not_fatal(
    settings: Any, recorder: SignalRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def script(conn: Conn) -> None:
        await conn.established()
        await conn.accept_subscriptions(1)
        await conn.send({"event": "boom", "channel": "private-a", "data": "{}"})
        await conn.send({"event": "after", "channel": "private-a", "data": "{}"})
        await conn.hold()

    original = Session._channel_event

    def fragile(self: Session, message: Any) -> None:
        if message.event == "boom":
            raise KeyError("a bug in one handler")
        original(self, message)

    monkeypatch.setattr(Session, "_channel_event", fragile)
    with ScriptedServer(script) as server:
        listener = running(make_listener(server, settings, "private-a"))
        recorder.wait_for("event_received", event="after")
        listener.stop()
    assert recorder.of("frame_rejected") == [
        {"event": "boom", "error": "KeyError", "source": "listener"}
    ]


def test_an_unusable_handshake_reconnects_instead_of_ending_the_thread(
    settings: Any, recorder: SignalRecorder
) -> None:
    async def bad(conn: Conn) -> None:
        data = json.dumps({"socket_id": "not-a-socket-id", "activity_timeout": 10**400})
        await conn.send({"event": "pusher:connection_established", "data": data})
        await conn.hold()

    async def good(conn: Conn) -> None:
        await conn.established()
        await conn.hold()

    with ScriptedServer(bad, good) as server:
        listener = make_listener(server, settings, reconnect_backoff=0.05, signin=True)
        listener.start()
        assert listener.wait_connected(5)
        deadline = time.monotonic() + 5
        while listener.socket_id != "1001.2001" and time.monotonic() < deadline:
            time.sleep(0.02)
        socket_id = listener.socket_id
        listener.stop()
    assert socket_id == "1001.2001"
    assert len(server.connections) == 2
