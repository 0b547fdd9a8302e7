"""The listener's sans-I/O session: frames and time in, frames and notices out.

No server, no thread, no sleep: each test feeds frames with a made-up clock
and reads what the session produced.
"""

from __future__ import annotations

import concurrent.futures
import json
import logging
from dataclasses import replace
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from pusher_django import crypto, notices, signals
from pusher_django.conf import ListenerSettings, get_config, parse_master_key
from pusher_django.exceptions import ConnectionRefused, ProtocolError, PusherValidationError
from pusher_django.listener import Session, State
from pusher_django.listener.protocol import CloseAction
from pusher_django.signing import channel_auth_token

MASTER_KEY = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk="


@pytest.fixture
def config(settings: Any) -> Any:
    settings.PUSHER = {**settings.PUSHER, "ENCRYPTION_MASTER_KEY_BASE64": MASTER_KEY}
    return get_config()


def make(config: Any, *channels: str, **options: Any) -> Session:
    base = replace(ListenerSettings(), signin=False, activity_timeout=30.0, pong_timeout=5.0)
    return Session(replace(base, **options), config, channels)


def frame(event: str, data: Any = None, channel: str | None = None, **extra: Any) -> str:
    message: dict[str, Any] = {"event": event, **extra}
    if data is not None:
        message["data"] = data if isinstance(data, str) else json.dumps(data)
    if channel is not None:
        message["channel"] = channel
    return json.dumps(message)


def connect(session: Session, now: float = 0.0, timeout: int = 120) -> None:
    session.connecting(now)
    established = {"socket_id": "123.456", "activity_timeout": timeout}
    session.receive(frame("pusher:connection_established", established), now)


def sent(session: Session) -> list[dict[str, Any]]:
    return [json.loads(text) for text in session.data_to_send()]


def emitted(session: Session) -> list[tuple[str, dict[str, Any]]]:
    names = {
        getattr(signals, n): n
        for n in dir(signals)
        if isinstance(getattr(signals, n), type(signals.cache_miss))
    }
    return [(names[n.signal], n.kwargs) for n in session.events_received()]


def test_handshake_connects_signs_every_subscription_and_reports_the_state(config: Any) -> None:
    session = make(config, "news", "private-a", "presence-room")
    connect(session)
    assert session.state is State.CONNECTED
    assert session.socket_id == "123.456"
    frames = sent(session)
    assert [f["data"]["channel"] for f in frames] == ["news", "private-a", "presence-room"]
    assert frames[0]["data"]["auth"] == ""
    expected = channel_auth_token(config.key, config.secret, "123.456", "private-a")
    assert frames[1]["data"]["auth"] == expected
    presence = json.loads(frames[2]["data"]["channel_data"])
    assert presence["user_id"] == "pusher-django-listener"
    assert [kwargs["current"] for _, kwargs in emitted(session)] == ["connecting", "connected"]


def test_signin_goes_first_when_enabled(config: Any) -> None:
    session = make(config, "private-a", signin=True, user_id="bot-1")
    connect(session)
    frames = sent(session)
    assert [f["event"] for f in frames] == ["pusher:signin", "pusher:subscribe"]
    assert json.loads(frames[0]["data"]["user_data"])["id"] == "bot-1"


def test_a_refused_handshake_raises_and_4001_stops_with_a_hint(config: Any) -> None:
    session = make(config)
    session.connecting(0)
    with pytest.raises(ConnectionRefused) as info:
        session.receive(frame("pusher:error", {"code": 4001, "message": "No app"}), 0)
    assert session.closed(info.value.code, info.value.text, 0) is CloseAction.STOP
    assert session.state is State.FAILED
    assert "the app does not exist" in str(session.failure)


@pytest.mark.parametrize(
    ("code", "action"),
    [(4100, CloseAction.BACKOFF), (4200, CloseAction.RECONNECT), (1006, CloseAction.BACKOFF)],
)
def test_close_codes_decide_what_comes_next(config: Any, code: int, action: CloseAction) -> None:
    session = make(config)
    connect(session)
    assert session.closed(code, "", 1) is action
    assert session.state is State.UNAVAILABLE
    assert session.socket_id is None


def test_a_stopping_session_never_reconnects(config: Any) -> None:
    session = make(config)
    connect(session)
    session.stopping = True
    assert session.closed(4200, "", 1) is CloseAction.STOP
    assert session.failure is None


def test_every_system_event_routes_to_its_signal(config: Any) -> None:
    session = make(config, "presence-room", "counted", "cache-x")
    connect(session)
    emitted(session)
    sent(session)
    members = {"presence": {"hash": {"1": {"name": "Ann"}, "2": None}}}
    session.receive(frame("pusher_internal:subscription_succeeded", members, "presence-room"), 1)
    session.receive(
        frame(
            "pusher_internal:member_added", {"user_id": 3, "user_info": {"n": 3}}, "presence-room"
        ),
        2,
    )
    session.receive(frame("pusher_internal:member_removed", {"user_id": "1"}, "presence-room"), 3)
    session.receive(
        frame("pusher_internal:subscription_count", {"subscription_count": 7}, "counted"), 4
    )
    session.receive(frame("pusher:cache_miss", channel="cache-x"), 5)
    session.receive(frame("pusher_internal:cache_miss", channel="cache-x"), 6)
    session.receive(frame("pusher:error", {"code": 4301, "message": "slow down"}), 7)
    session.receive(frame("pusher:ping"), 8)
    assert emitted(session) == [
        (
            "subscription_succeeded",
            {
                "channel": "presence-room",
                "members": {"1": {"name": "Ann"}, "2": None},
                "source": "listener",
            },
        ),
        (
            "member_added",
            {
                "channel": "presence-room",
                "user_id": "3",
                "user_info": {"n": 3},
                "source": "listener",
            },
        ),
        # The leaver's info comes from the member map: the frame carries only the id.
        (
            "member_removed",
            {
                "channel": "presence-room",
                "user_id": "1",
                "user_info": {"name": "Ann"},
                "source": "listener",
            },
        ),
        (
            "subscription_count",
            {"channel": "counted", "subscription_count": 7, "source": "listener"},
        ),
        ("cache_miss", {"channel": "cache-x", "source": "listener"}),
        ("cache_miss", {"channel": "cache-x", "source": "listener"}),
        ("connection_error", {"code": 4301, "message": "slow down", "source": "listener"}),
    ]
    assert sent(session) == [{"event": "pusher:pong", "data": {}}]
    assert session.members("presence-room") == {"2": None, "3": {"n": 3}}


def test_channel_events_decode_data_and_skip_channels_not_joined(config: Any) -> None:
    session = make(config, "news")
    connect(session)
    emitted(session)
    session.receive(frame("update", {"a": 1}, "news"), 1)
    session.receive(frame("text", "plain words", "news"), 2)
    session.receive(frame("update", {"a": 2}, "elsewhere"), 3)
    session.receive(frame("notice", {"b": 1}, "#server-to-user-7"), 4)
    assert [(name, kw["channel"], kw["data"]) for name, kw in emitted(session)] == [
        ("event_received", "news", {"a": 1}),
        ("event_received", "news", "plain words"),
        ("event_received", "#server-to-user-7", {"b": 1}),
    ]


def test_encrypted_events_are_decrypted_and_a_bad_one_is_reported(config: Any) -> None:
    channel = "private-encrypted-room"
    session = make(config, channel)
    connect(session)
    emitted(session)
    secret = crypto.encrypt(channel, json.dumps({"text": "hi"}), parse_master_key(MASTER_KEY))
    session.receive(frame("message", secret, channel), 1)
    session.receive(frame("message", {"text": "plain"}, channel), 2)
    session.receive(frame("message", secret, channel), 3)
    names = [(name, kw.get("data")) for name, kw in emitted(session)]
    assert names == [
        ("event_received", {"text": "hi"}),
        ("decryption_failed", None),
        ("event_received", {"text": "hi"}),
    ]


def test_malformed_frames_become_frame_rejected_and_nothing_else(config: Any) -> None:
    session = make(config, "news")
    connect(session)
    emitted(session)
    for bad in ("not json", "[1,2]", '{"event": 5}', b"\x00binary"):
        session.receive(bad, 1)
    assert [name for name, _ in emitted(session)] == ["frame_rejected"] * 4
    assert session.state is State.CONNECTED


def test_silence_pings_and_a_missing_pong_asks_to_close_then_reconnect(config: Any) -> None:
    session = make(config)
    connect(session, now=100.0)
    sent(session)
    assert session.tick(110.0) == 130.0  # activity timeout 30 s after the handshake
    assert session.tick(130.0) == 135.0
    assert sent(session) == [{"event": "pusher:ping", "data": {}}]
    session.receive(frame("pusher:pong"), 132.0)  # answered: back to watching silence
    assert session.tick(135.0) == 162.0
    session.tick(162.0)
    assert sent(session) == [{"event": "pusher:ping", "data": {}}]
    session.tick(167.0)
    assert session.close_request == (4201, "pong not received")
    assert session.closed(4201, "pong not received", 167.5) is CloseAction.RECONNECT


def test_the_server_activity_timeout_wins_when_shorter(config: Any) -> None:
    session = make(config)
    connect(session, now=0.0, timeout=12)
    assert session.tick(1.0) == 12.0


def test_client_events_wait_for_the_subscription_then_leave_ten_per_second(config: Any) -> None:
    session = make(config, "private-chat")
    connect(session)
    sent(session)
    futures = []
    for n in range(15):
        channel, text = session.publication("private-chat", "typing", {"n": n})
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        session.queue_publication(channel, text, future)
        futures.append(future)
    assert session.tick(1.0) == 30.0  # pending subscription: nothing leaves, next is the ping
    assert sent(session) == []
    session.receive(frame("pusher_internal:subscription_succeeded", {}, "private-chat"), 2.0)
    first = sent(session)
    assert [f["data"]["n"] for f in first] == list(range(10))
    assert (first[0]["event"], first[0]["channel"]) == ("client-typing", "private-chat")
    assert sum(f.done() for f in futures) == 10
    deadline = session.tick(2.5)
    assert 2.5 < deadline <= 3.05
    session.tick(deadline + 0.001)
    assert [f["data"]["n"] for f in sent(session)] == list(range(10, 15))
    assert all(f.done() and f.exception() is None for f in futures)


def test_a_subscription_refused_on_join_paces_with_the_time_of_the_join(config: Any) -> None:
    # The listener's own presence id is too long, so joining the channel fails at once and
    # the queue is pumped then: at the join's time, not at the last frame's (t=0).
    session = make(config, "private-chat", user_id="u" * 200, client_events_per_second=2)
    connect(session, now=0.0)
    session.receive(frame("pusher_internal:subscription_succeeded", {}, "private-chat"), 0.0)
    sent(session)
    emitted(session)
    for n in range(4):
        channel, text = session.publication("private-chat", "typing", {"n": n})
        session.queue_publication(channel, text, concurrent.futures.Future())
    session.add_channel("presence-room")
    session.join("presence-room", 100.0)

    def typed() -> list[int]:
        return [f["data"]["n"] for f in sent(session) if f["event"] == "client-typing"]

    assert typed() == [0, 1]
    assert [name for name, _ in emitted(session)] == ["subscription_error"]
    session.tick(100.2)
    assert typed() == []  # two left within this second; the next two wait for the window
    session.tick(101.1)
    assert typed() == [2, 3]


def test_output_is_handed_out_once_and_no_http_client_is_held(config: Any) -> None:
    import requests

    from pusher_django.client import PusherClient

    session = make(config, "private-chat")
    connect(session)
    assert session.wants_tick()  # frames wait
    assert len(session.data_to_send()) == 1
    assert session.data_to_send() == []
    assert session.events_received() != []
    assert session.events_received() == []
    assert not session.wants_tick()
    held = vars(session).values()
    assert not any(isinstance(value, PusherClient | requests.Session) for value in held)


def test_an_encrypted_channel_without_a_master_key_is_refused_not_raised(settings: Any) -> None:
    settings.PUSHER = {
        key: value
        for key, value in settings.PUSHER.items()
        if key != "ENCRYPTION_MASTER_KEY_BASE64"
    }
    session = make(get_config(), "private-encrypted-room", "news")
    connect(session)
    assert [f["data"]["channel"] for f in sent(session)] == ["news"]
    (refusal,) = [kw for name, kw in emitted(session) if name == "subscription_error"]
    assert refusal["channel"] == "private-encrypted-room"
    assert "ENCRYPTION_MASTER_KEY_BASE64" in refusal["error"]


def test_publications_on_a_refused_channel_fail(config: Any) -> None:
    session = make(config, "private-chat")
    connect(session)
    channel, text = session.publication("private-chat", "client-x", {})
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    session.queue_publication(channel, text, future)
    emitted(session)
    session.receive(
        frame("pusher:subscription_error", {"status": 403, "error": "no"}, "private-chat"), 1
    )
    assert emitted(session) == [
        (
            "subscription_error",
            {"channel": "private-chat", "status": 403, "error": "no", "source": "listener"},
        )
    ]
    assert isinstance(future.exception(), PusherValidationError)


def test_publication_refuses_public_and_unjoined_channels(config: Any) -> None:
    session = make(config, "news")
    with pytest.raises(PusherValidationError, match="only allowed on private"):
        session.publication("news", "x", {})
    with pytest.raises(PusherValidationError, match="has not joined"):
        session.publication("private-other", "x", {})


def test_a_reconnect_reports_the_members_who_came_and_went_meanwhile(config: Any) -> None:
    session = make(config, "presence-room")
    connect(session)
    session.receive(
        frame(
            "pusher_internal:subscription_succeeded",
            {"presence": {"hash": {"1": None, "2": {"a": 1}}}},
            "presence-room",
        ),
        1,
    )
    session.closed(1006, "", 2)
    connect(session, now=5)
    emitted(session)
    session.receive(
        frame(
            "pusher_internal:subscription_succeeded",
            {"presence": {"hash": {"1": None, "3": None}}},
            "presence-room",
        ),
        6,
    )
    assert [(name, kw.get("user_id"), kw.get("user_info")) for name, kw in emitted(session)] == [
        ("subscription_succeeded", None, None),
        ("member_removed", "2", {"a": 1}),
        ("member_added", "3", None),
    ]


def test_finishing_fails_what_was_never_sent(config: Any) -> None:
    session = make(config, "private-chat")
    channel, text = session.publication("private-chat", "x", {})
    future: concurrent.futures.Future[None] = concurrent.futures.Future()
    session.queue_publication(channel, text, future)
    session.finished(0)
    assert session.state is State.DISCONNECTED
    assert "stopped before the event was sent" in str(future.exception())


def test_listener_and_webhook_build_the_same_keyword_arguments(settings: Any) -> None:
    from pusher_django.webhooks import EVENTS

    pairs: list[tuple[str, dict[str, Any], notices.Notice]] = [
        (
            "member_added",
            {"channel": "presence-a", "user_id": "1"},
            notices.member_added("presence-a", "1", None),
        ),
        (
            "member_removed",
            {"channel": "presence-a", "user_id": "1"},
            notices.member_removed("presence-a", "1", None),
        ),
        ("cache_miss", {"channel": "cache-a"}, notices.cache_miss("cache-a")),
        (
            "subscription_count",
            {"channel": "a", "subscription_count": 2},
            notices.subscription_count("a", 2),
        ),
    ]
    for name, event, from_listener in pairs:
        from_webhook = EVENTS[name]({"name": name, **event})
        assert from_webhook.signal is from_listener.signal
        assert from_webhook.kwargs == {**from_listener.kwargs, "source": "webhook"}


_frame_events = st.sampled_from(
    [
        "pusher:ping",
        "pusher:pong",
        "pusher:error",
        "pusher:signin_success",
        "pusher:subscription_error",
        "pusher:cache_miss",
        "pusher_internal:subscription_succeeded",
        "pusher_internal:member_added",
        "pusher_internal:member_removed",
        "pusher_internal:subscription_count",
        "pusher_internal:cache_miss",
        "pusher:connection_established",
        "client-x",
        "tick",
    ]
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("frame"),
            _frame_events,
            st.sampled_from([None, "presence-a", "private-encrypted-b", "news", "elsewhere"]),
            _json | _json.map(json.dumps),
        ),
        st.tuples(st.just("tick"), st.floats(0, 500)),
        st.tuples(st.just("close"), st.sampled_from([None, 1006, 4100, 4200, 4201])),
    ),
    max_size=30,
)


@hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_steps)
def test_no_sequence_of_frames_ticks_and_closes_breaks_the_session(
    config: Any, steps: list[Any]
) -> None:
    """Hostile servers in any order: nothing raises, and the session's state stays coherent."""
    session = make(config, "presence-a", "private-encrypted-b", "news")
    connect(session)
    now = 0.0
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign,assignment]
    logging.getLogger("pusher_django.listener.session").addHandler(handler)
    try:
        _play(session, steps, now)
    finally:
        logging.getLogger("pusher_django.listener.session").removeHandler(handler)
    assert errors == []  # every shape was handled, none merely caught by the guard
    assert session.state in (State.CONNECTED, State.FAILED)
    assert all(isinstance(m, dict) for m in session.known_members().values())


def _play(session: Session, steps: list[Any], now: float) -> None:
    for step in steps:
        if step[0] == "frame":
            _, event, channel, data = step
            message: dict[str, Any] = {"event": event, "data": data}
            if channel is not None:
                message["channel"] = channel
            now += 0.01
            try:
                session.receive(json.dumps(message), now)
            except (ConnectionRefused, ProtocolError):
                assert session.state is not State.CONNECTED  # only a handshake may refuse
                session.closed(None, "", now)
                connect(session, now)
        elif step[0] == "tick":
            now += step[1]
            assert session.tick(now) >= now
        else:
            assert session.closed(step[1], "", now) in set(CloseAction)
            connect(session, now)
        session.data_to_send()
        session.events_received()
