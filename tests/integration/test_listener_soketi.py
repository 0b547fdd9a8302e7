"""The listener against a real soketi, with real pusher-js clients on the other side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pusher_django.client import get_client
from pusher_django.conf import ListenerSettings, get_config
from pusher_django.listener import Listener
from pusher_django.listener.leader import LeaderLock
from tests.support.auth import local_authorizer
from tests.support.processes import ROOT, log_path
from tests.support.signals import SignalRecorder, record_signals
from tests.support.soketi import APP_ID, APP_KEY, APP_SECRET, Soketi

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("soketi_settings")]

LOCK_REDIS = os.environ.get("TEST_LOCK_REDIS", "redis://127.0.0.1:6379/12")


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    with record_signals() as rec:
        yield rec


@pytest.fixture
def listen() -> Iterator[Callable[..., Listener]]:
    started: list[Listener] = []

    def make(*channels: str, connect: bool = True, **opts: Any) -> Listener:
        options = ListenerSettings(**{"reconnect_backoff": 0.2, "reconnect_backoff_max": 1, **opts})
        listener = Listener(channels, options=options, config=get_config())
        started.append(listener)
        if connect:
            listener.start()
            assert listener.wait_connected(10)
        return listener

    yield make
    for listener in started:
        listener.stop()


def test_presence_joins_and_leaves_become_member_signals_with_user_info(
    listen, pusher_js, recorder
):
    listener = listen("presence-lobby-l")
    recorder.wait_for("subscription_succeeded", channel="presence-lobby-l")
    ann = pusher_js(authorizer=local_authorizer("ann", {"name": "Ann"}))
    ann.subscribed("presence-lobby-l")
    added = recorder.wait_for("member_added", user_id="ann")
    assert added == [
        {
            "channel": "presence-lobby-l",
            "user_id": "ann",
            "user_info": {"name": "Ann"},
            "source": "listener",
        }
    ]
    assert listener.members("presence-lobby-l")["ann"] == {"name": "Ann"}
    ann.send("unsubscribe", channel="presence-lobby-l")
    removed = recorder.wait_for("member_removed", user_id="ann")
    assert removed[0]["user_info"] == {"name": "Ann"}, "member_removed carries the last known info"
    assert "ann" not in listener.members("presence-lobby-l")


def test_empty_cache_channel_reports_a_cache_miss(listen, recorder):
    listen("cache-empty-l", "private-cache-empty-l")
    misses = recorder.wait_for("cache_miss", count=2)
    assert {m["channel"] for m in misses} == {"cache-empty-l", "private-cache-empty-l"}


def test_encrypted_trigger_arrives_decrypted_and_plain_events_as_json(listen, recorder):
    listen("private-encrypted-vault-l", "news-l")
    recorder.wait_for("subscription_succeeded", count=2)
    get_client().trigger("private-encrypted-vault-l", "secret", {"text": "top secret ✓"})
    get_client().trigger("news-l", "headline", {"n": 1})
    secret = recorder.wait_for("event_received", event="secret")[0]
    assert secret["data"] == {"text": "top secret ✓"}
    assert recorder.wait_for("event_received", event="headline")[0]["data"] == {"n": 1}


def test_reconnects_after_a_server_restart_and_reports_who_joined_meanwhile(
    settings, recorder, pusher_js
):
    """Uses its own soketi so that restarting it disturbs no other test."""
    own = Soketi(name="soketi-restart")
    own.start()
    listener = None
    try:
        settings.PUSHER = own.pusher_settings()
        options = ListenerSettings(reconnect_backoff=0.2, reconnect_backoff_max=0.5)
        listener = Listener(["presence-restart"], options=options, config=get_config())
        listener.start()
        recorder.wait_for("subscription_succeeded", channel="presence-restart")
        own.restart()
        from tests.support.pusherjs import PusherJs

        late = PusherJs(
            key=APP_KEY, ws_port=own.port, authorizer=local_authorizer("late", {"n": 1})
        )
        try:
            late.subscribed("presence-restart", timeout=15)
            recorder.wait_for(
                "subscription_succeeded", channel="presence-restart", count=2, timeout=20
            )
            joined = recorder.wait_for("member_added", user_id="late", timeout=10)
        finally:
            late.close()
        assert joined[0]["user_info"] == {"n": 1}
        states = [r["current"] for r in recorder.of("connection_state_changed")]
        assert states.count("connected") >= 2
        assert "unavailable" in states
    finally:
        if listener is not None:
            listener.stop()
        own.stop()


def test_client_events_from_the_listener_reach_pusher_js_on_every_private_kind(
    listen, pusher_js, recorder
):
    listener = listen("private-talk", "presence-talk", "private-encrypted-talk", user_id="bot")
    recorder.wait_for("subscription_succeeded", count=3)
    reader = pusher_js(authorizer=local_authorizer("reader"))
    for channel in ("private-talk", "presence-talk", "private-encrypted-talk"):
        reader.subscribed(channel)
    for channel in ("private-talk", "presence-talk", "private-encrypted-talk"):
        listener.publish(channel, "hello", {"on": channel}).result(10)
    for channel in ("private-talk", "presence-talk", "private-encrypted-talk"):
        event = reader.wait_for("event", channel=channel, event="client-hello")
        assert event["data"] == {"on": channel}
    sender = reader.wait_for("event_sender", channel="presence-talk", event="client-hello")
    assert sender["user_id"] == "bot"


def test_client_events_from_pusher_js_reach_the_listener_with_the_sender(
    listen, pusher_js, recorder
):
    listen("presence-chat-l")
    recorder.wait_for("subscription_succeeded")
    writer = pusher_js(authorizer=local_authorizer("writer", {"name": "W"}))
    writer.subscribed("presence-chat-l")
    writer.send("client_event", channel="presence-chat-l", event="client-typing", data={"x": 1})
    event = recorder.wait_for("event_received", event="client-typing")[0]
    assert (event["data"], event["user_id"]) == ({"x": 1}, "writer")


def test_runtime_subscribe_and_unsubscribe_change_what_arrives(listen, recorder):
    listener = listen()
    listener.subscribe("runtime-l")
    recorder.wait_for("subscription_succeeded", channel="runtime-l")
    get_client().trigger("runtime-l", "first", {})
    recorder.wait_for("event_received", event="first")
    listener.unsubscribe("runtime-l")
    time.sleep(0.3)
    get_client().trigger("runtime-l", "second", {})
    listener.subscribe("runtime-l2")
    recorder.wait_for("subscription_succeeded", channel="runtime-l2")
    get_client().trigger("runtime-l2", "third", {})
    recorder.wait_for("event_received", event="third")
    assert recorder.of("event_received", event="second") == []
    assert listener.channels == ["runtime-l2"]


def test_a_burst_of_fifty_client_events_all_arrive(listen, pusher_js, recorder):
    listener = listen("private-burst")
    recorder.wait_for("subscription_succeeded")
    reader = pusher_js(authorizer=local_authorizer("reader"))
    reader.subscribed("private-burst")
    futures = [listener.publish("private-burst", "n", {"n": n}) for n in range(50)]
    for future in futures:
        future.result(15)
    events = reader.wait_for_count("event", 50, timeout=15, channel="private-burst")
    assert [e["data"]["n"] for e in events] == list(range(50))
    assert reader.find("pusher_error") == []
    assert recorder.of("connection_error") == []


def test_only_the_lock_holder_dispatches_and_a_standby_takes_over(listen, recorder):
    name = f"pusher_django:test-lock:{time.monotonic_ns()}"
    first = listen("lock-l", lock_ttl=1.0)
    second = listen("lock-l", lock_ttl=1.0)
    lock_a = LeaderLock(first, LOCK_REDIS, ttl=1.0, name=name)
    lock_b = LeaderLock(second, LOCK_REDIS, ttl=1.0, name=name)
    lock_a.start()
    time.sleep(0.3)
    lock_b.start()
    try:
        time.sleep(0.5)
        assert (lock_a.holding, lock_b.holding) == (True, False)
        get_client().trigger("lock-l", "once", {})
        recorder.wait_for("event_received", event="once")
        time.sleep(0.5)
        assert len(recorder.of("event_received", event="once")) == 1
        lock_a.stop()  # the holder goes away
        deadline = time.monotonic() + 5
        while not lock_b.holding and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock_b.holding
        get_client().trigger("lock-l", "after", {})
        recorder.wait_for("event_received", event="after")
    finally:
        lock_a.stop()
        lock_b.stop()


def test_pusher_listen_command_stops_on_sigterm_with_exit_zero(soketi, test_database):
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        TEST_PUSHER_URL=f"http://{APP_KEY}:{APP_SECRET}@127.0.0.1:{soketi.port}/apps/{APP_ID}",
        PYTHONPATH=str(ROOT),
        # manage.py's model checks connect on MySQL: join the database that exists
        TEST_DATABASE_NAME=test_database,
    )
    log = log_path("pusher_listen-command.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django",
            "pusher_listen",
            "--channel",
            "presence-cmd",
            "-c",
            "news",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        reader = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            users = (
                get_client().get_users("presence-cmd")["users"] if _occupied("presence-cmd") else []
            )
            if users:
                reader = users
                break
            time.sleep(0.2)
        assert reader == [{"id": "pusher-django-listener"}], (
            "the command joined the presence channel"
        )
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    output = log_path("pusher_listen-command.log").read_text()
    assert "Listening on" in output


def _occupied(channel: str) -> bool:
    return bool(get_client().get_channel(channel).get("occupied"))


def test_hostile_client_events_through_soketi_do_not_stop_the_listener(listen, pusher_js, recorder):
    """Issue #14: a subscriber allowed to send client events nests ~6 KB deep."""
    listener = listen("private-hostile")
    recorder.wait_for("subscription_succeeded", channel="private-hostile")
    attacker = pusher_js(authorizer=local_authorizer("mallory"))
    attacker.subscribed("private-hostile")
    deep = "[" * 3000 + "]" * 3000
    attacker.send("client_event_json", channel="private-hostile", event="client-x", json=deep)
    attacker.send(
        "client_event_json", channel="private-hostile", event="client-y", json=f'"{deep}"'
    )
    recorder.wait_for("frame_rejected")
    recorder.wait_for("event_received", event="client-y")
    get_client().trigger("private-hostile", "real", {"n": 1})
    real = recorder.wait_for("event_received", event="real")[0]
    assert real["data"] == {"n": 1}
    assert listener.state.value == "connected"
    assert recorder.of("event_received", event="client-x") == []


def test_a_takeover_reports_the_joins_and_leaves_of_the_gap_once(listen, pusher_js, recorder):
    """The holder dies without releasing the lock; members change before it expires."""
    name = f"pusher_django:test-ledger:{time.monotonic_ns()}"
    channel = "presence-ledger"
    stays = pusher_js(authorizer=local_authorizer("stays", {"name": "S"}))
    stays.subscribed(channel)
    leaves = pusher_js(authorizer=local_authorizer("leaves", {"name": "L"}))
    leaves.subscribed(channel)
    first = listen(channel, user_id="listener-1")
    second = listen(channel, user_id="listener-2")
    # Both member lists dispatched before the locks listen: else the one dispatched after
    # them fills the ledger, and the takeover rightly reports nobody as new.
    recorder.wait_for("subscription_succeeded", count=2, channel=channel)
    lock_a = LeaderLock(first, LOCK_REDIS, ttl=2.0, name=name)
    lock_b = LeaderLock(second, LOCK_REDIS, ttl=2.0, name=name)
    lock_a.start()
    time.sleep(0.3)
    lock_b.start()
    try:
        # The first holder reports who is there (live, or from its takeover of an empty ledger).
        recorder.wait_for("member_added", user_id="stays")
        early = pusher_js(authorizer=local_authorizer("early", {"name": "E"}))
        early.subscribed(channel)
        recorder.wait_for("member_added", user_id="early")
        # The holder dies: no release, its lock stays until the TTL runs out.
        lock_a._stop.set()
        lock_a.listener.dispatcher.enabled = False
        first.stop()
        joins = pusher_js(authorizer=local_authorizer("joins", {"name": "J"}))
        joins.subscribed(channel)
        leaves.close()
        time.sleep(0.5)
        assert recorder.of("member_added", user_id="joins") == []  # nobody is dispatching
        deadline = time.monotonic() + 6
        while not lock_b.holding and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock_b.holding
        recorder.wait_for("member_added", user_id="joins")
        recorder.wait_for("member_removed", user_id="leaves")
        time.sleep(0.5)
        # The listeners' own joins were dispatched before the locks too: not counted here.
        added = [
            r["user_id"]
            for r in recorder.of("member_added")
            if not r["user_id"].startswith("listener-")
        ]
        removed = [r["user_id"] for r in recorder.of("member_removed")]
        assert len(added) == len(set(added))  # nobody reported twice
        assert {"stays", "early", "joins"} <= set(added)
        assert removed.count("leaves") == 1
        assert lock_b.ledger.load(channel).keys() == second.members(channel).keys()
        assert recorder.of("member_removed", user_id="leaves")[0]["user_info"] == {"name": "L"}
    finally:
        lock_a.stop()
        lock_b.stop()
