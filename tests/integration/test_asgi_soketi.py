"""The whole app under a real ASGI server: uvicorn serving the test project, real soketi.

pusher-js (Node) subscribes through the auth endpoints served by uvicorn;
batch auth and history are requested over HTTP with a signed-in session;
soketi posts its webhooks to uvicorn; async views save and broadcast through
the outbox and the session's Celery worker; ``async def`` receivers hear the
listener and the webhooks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.dispatch import Signal

from pusher_django import signals
from pusher_django.client import get_client
from pusher_django.conf import get_config
from pusher_django.listener import Listener
from pusher_django.models import Delivery
from pusher_django.outbox import trigger_on_commit
from pusher_django.outbox.sender import get_sender
from tests.support.asgi import AsgiServer
from tests.support.auth import local_authorizer
from tests.support.browser_session import endpoint_auth, session_headers
from tests.support.processes import wait_until
from tests.support.pusherjs import PusherJs
from tests.support.signals import SignalRecorder, record_signals
from tests.support.soketi import APP_KEY, Soketi
from tests.testapp.models import Room

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class AsyncReceivers:
    """``async def`` receivers on the given signals, recording (signal, kwargs)."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._connected: list[tuple[Signal, Callable[..., Any]]] = []

    def connect(self, *names: str) -> None:
        for name in names:

            async def receiver(sender: Any, name: str = name, **kwargs: Any) -> None:
                await asyncio.sleep(0)
                kwargs.pop("signal", None)
                with self._lock:
                    self.heard.append((name, kwargs))

            signal = getattr(signals, name)
            signal.connect(receiver, weak=False)
            self._connected.append((signal, receiver))

    def of(self, name: str, **match: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [
                kwargs
                for heard, kwargs in self.heard
                if heard == name and all(kwargs.get(k) == v for k, v in match.items())
            ]

    def wait_for(self, name: str, timeout: float = 10, **match: Any) -> list[dict[str, Any]]:
        wait_until(lambda: bool(self.of(name, **match)), timeout, f"async receiver of {name}")
        return self.of(name, **match)

    def disconnect(self) -> None:
        for signal, receiver in self._connected:
            signal.disconnect(receiver)


@pytest.fixture
def async_receivers() -> Iterator[AsyncReceivers]:
    receivers = AsyncReceivers()
    yield receivers
    receivers.disconnect()


@pytest.fixture
def member(asgi_server: AsgiServer) -> User:
    return User.objects.create_user("member", password="pw")


def test_channel_and_user_auth_through_uvicorn(asgi_server, soketi_settings, pusher_js, member):
    js = pusher_js(**endpoint_auth(asgi_server.url, member))
    js.subscribed("private-room-asgi")
    presence = js.subscribed("presence-room-asgi")
    assert presence["members"] == {str(member.pk): {"name": "member"}}
    js.subscribed("private-encrypted-room-asgi")
    get_client().trigger("private-encrypted-room-asgi", "secret", {"text": "via uvicorn ✓"})
    event = js.wait_for("event", channel="private-encrypted-room-asgi")
    assert event["data"] == {"text": "via uvicorn ✓"}
    js.subscribe("private-room-closed-to-you")  # the rule allows room "open" or user "member"
    js.send("signin")
    js.wait_for("signin_success")
    get_client().send_to_user(str(member.pk), "notice", {"only": "you"})
    assert js.wait_for("user_event", event="notice")["data"] == {"only": "you"}

    outsider = User.objects.create_user("outsider", password="pw")
    other = pusher_js(**endpoint_auth(asgi_server.url, outsider))
    other.subscribe("private-room-asgi")
    assert other.wait_for("subscription_error", channel="private-room-asgi")["status"] == 403


def test_batch_auth_and_history_through_uvicorn(asgi_server, soketi_settings, member):
    headers = session_headers(member)
    channels = ["private-room-a", "presence-room-b", "private-encrypted-room-c", "private-vip-x"]
    answer = requests.post(
        f"{asgi_server.url}/pusher/auth/batch/",
        data={"socket_id": "1.2", "channel_name[]": channels},
        headers=headers,
        timeout=10,
    )
    assert answer.status_code == 200
    results = answer.json()["1.2"]
    expected = get_client().authorize_channel("1.2", "private-room-a")
    assert results["private-room-a"] == {"status": 200, "data": dict(expected)}
    assert set(results["private-encrypted-room-c"]["data"]) == {"auth", "shared_secret"}
    assert results["presence-room-b"]["status"] == 200
    assert results["private-vip-x"]["status"] == 403  # the rule reads the session: not a VIP

    trigger_on_commit("private-room-a", "first", {"n": 1})  # autocommit: a row at once
    trigger_on_commit("private-room-a", "second", {"n": 2})
    assert get_sender().wait_idle()  # sent to soketi at commit, kept for history
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SENT}
    first, second = Delivery.objects.order_by("id").values_list("id", flat=True)
    history = requests.get(
        f"{asgi_server.url}/pusher/history/",
        params={"channel": "private-room-a", "after": str(first)},
        headers=headers,
        timeout=10,
    ).json()
    assert [(e["id"], e["event"], e["data"]["n"]) for e in history["events"]] == [
        (second, "second", 2)
    ]
    assert history["position"] == second
    assert history["recovered"] is True
    refused = requests.get(
        f"{asgi_server.url}/pusher/history/", params={"channel": "private-room-a"}, timeout=10
    )
    assert refused.status_code == 403  # anonymous


@pytest.fixture(scope="module")
def hooked_soketi(asgi_server: AsgiServer) -> Iterator[Soketi]:
    """A soketi of its own whose webhooks go to uvicorn."""
    url = f"{asgi_server.url}/pusher/webhook/"
    events = ["channel_occupied", "channel_vacated", "member_added", "member_removed"]
    server = Soketi(
        webhooks=[{"url": url, "event_types": [*events, "client_event", "cache_miss"]}],
        name="soketi-asgi-webhooks",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    with record_signals() as rec:
        yield rec


def test_webhooks_through_uvicorn_reach_sync_and_async_receivers(
    hooked_soketi, settings, recorder, async_receivers
):
    settings.PUSHER = hooked_soketi.pusher_settings()
    names = ["channel_occupied", "channel_vacated", "member_added", "member_removed"]
    async_receivers.connect(*names, "client_event", "cache_miss")
    clients = [
        PusherJs(key=APP_KEY, ws_port=hooked_soketi.port, authorizer=local_authorizer(user))
        for user in ("w", "r")
    ]
    try:
        writer, reader = clients
        writer.subscribed("presence-asgi-hooks")
        reader.subscribed("presence-asgi-hooks")
        writer.send("client_event", channel="presence-asgi-hooks", event="client-hi", data={})
        reader.subscribed("cache-asgi-hooks")
        reader.send("unsubscribe", channel="cache-asgi-hooks")
        writer.send("unsubscribe", channel="presence-asgi-hooks")
        event = async_receivers.wait_for("client_event", channel="presence-asgi-hooks")[0]
        assert (event["event"], event["user_id"], event["source"]) == ("client-hi", "w", "webhook")
        assert async_receivers.wait_for("cache_miss", channel="cache-asgi-hooks")
        assert async_receivers.wait_for("channel_vacated", channel="cache-asgi-hooks")
        removed = async_receivers.wait_for("member_removed", channel="presence-asgi-hooks")
        assert removed[0]["user_id"] == "w"
        for name in names:
            channel = "cache-asgi-hooks" if "channel_" in name else "presence-asgi-hooks"
            assert async_receivers.of(name, channel=channel), name
            assert async_receivers.of(name, channel=channel) == recorder.of(name, channel=channel)
    finally:
        for js in clients:
            js.close()


def test_listener_notices_reach_async_receivers(soketi_settings, pusher_js, async_receivers):
    """(soketi 1.6 sends no ``subscription_count``: its async receiver is a unit test.)"""
    listened = ["presence-asgi-listen", "private-asgi-listen", "cache-asgi-listen"]
    async_receivers.connect(
        "connection_state_changed",
        "subscription_succeeded",
        "member_added",
        "member_removed",
        "cache_miss",
        "event_received",
        "subscription_error",
    )
    listener = Listener([*listened, "private-encrypted-asgi-listen"], config=get_config())
    listener.start()
    try:
        assert listener.wait_connected(10)
        for channel in listened:
            async_receivers.wait_for("subscription_succeeded", channel=channel)
        assert async_receivers.of("cache_miss", channel="cache-asgi-listen")
        assert async_receivers.of("connection_state_changed", current="connected")
        js = pusher_js(authorizer=local_authorizer("guest", {"name": "G"}))
        js.subscribed("presence-asgi-listen")
        added = async_receivers.wait_for("member_added", channel="presence-asgi-listen")
        assert (added[0]["user_id"], added[0]["user_info"]) == ("guest", {"name": "G"})
        get_client().trigger("private-asgi-listen", "hello", {"n": 1})
        heard = async_receivers.wait_for("event_received", channel="private-asgi-listen")
        assert heard[0]["data"] == {"n": 1}
        js.close()
        gone = async_receivers.wait_for("member_removed", channel="presence-asgi-listen")
        assert gone[0]["user_info"] == {"name": "G"}
    finally:
        listener.stop()


def test_async_views_save_and_broadcast_through_the_outbox(asgi_server, broadcasting, pusher_js):
    room = Room.objects.create(name="asgi")
    channel = f"private-encrypted-room-{room.pk}"
    author = pusher_js(authorizer=local_authorizer("author"))
    reader = pusher_js(authorizer=local_authorizer("reader"))
    for js in (author, reader):
        js.subscribed(channel)
        js.subscribed("private-lobby")
    posted = requests.post(
        f"{asgi_server.url}/test-pages/asave/",
        data={"room": room.pk, "text": "from an async view ✓", "announce": "1"},
        headers={"X-Socket-ID": author.socket_id},
        timeout=10,
    )
    assert posted.status_code == 200, posted.text
    pk = posted.json()["id"]
    created = reader.wait_for("event", channel=channel, event="message.created", timeout=20)
    assert created["data"]["text"] == "from an async view ✓"
    assert created["data"]["_pusher_id"] == Delivery.objects.get(name="message.created").pk
    announced = reader.wait_for("event", channel="private-lobby", event="announced", timeout=20)
    assert announced["data"]["id"] == pk

    synced = requests.post(
        f"{asgi_server.url}/test-pages/save/",
        data={"room": room.pk, "text": "from the sync view"},
        headers={"X-Socket-ID": author.socket_id},
        timeout=10,
    )
    assert synced.status_code == 200
    reader.wait_for("event", channel=channel, event="message.created", timeout=20)
    wait_until(
        lambda: len(reader.find("event", channel=channel, event="message.created")) == 2,
        20,
        "the sync view's broadcast",
    )

    pinged = requests.post(
        f"{asgi_server.url}/test-pages/atrigger/",
        data={"channel": "private-lobby"},
        headers={"X-Socket-ID": author.socket_id},
        timeout=10,
    )
    assert pinged.json() == {"ok": True}
    reader.wait_for("event", channel="private-lobby", event="ping")
    get_client().trigger("private-lobby", "marker", {})
    author.wait_for("event", channel="private-lobby", event="marker")  # a later event...
    for name in ("message.created", "announced", "ping"):  # ...but never its own echoes
        assert author.find("event", event=name) == []
