"""Real webhooks: soketi posts to the live Django test server, signals fire here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.auth import local_authorizer
from tests.support.pusherjs import PusherJs
from tests.support.signals import SignalRecorder, record_signals
from tests.support.soketi import APP_KEY, Soketi

pytestmark = pytest.mark.integration

EVENT_TYPES = [
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
    "cache_miss",
]


@pytest.fixture(scope="module")
def hooked_soketi(live_server: Any) -> Iterator[Soketi]:
    """A soketi of its own whose webhooks point at this test run's live server."""
    url = f"{live_server.url}/pusher/webhook/"
    server = Soketi(webhooks=[{"url": url, "event_types": EVENT_TYPES}], name="soketi-webhooks")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def recorder(hooked_soketi: Soketi, settings: Any) -> Iterator[SignalRecorder]:
    settings.PUSHER = hooked_soketi.pusher_settings()
    with record_signals() as rec:
        yield rec


@pytest.fixture
def client(hooked_soketi: Soketi) -> Iterator[Any]:
    made: list[PusherJs] = []

    def make(user: str = "1", info: dict[str, Any] | None = None) -> PusherJs:
        js = PusherJs(
            key=APP_KEY, ws_port=hooked_soketi.port, authorizer=local_authorizer(user, info)
        )
        made.append(js)
        return js

    yield make
    for js in made:
        js.close()


def test_subscribe_and_leave_produce_occupied_and_vacated(recorder, client):
    js = client()
    js.subscribed("private-hooked")
    occupied = recorder.wait_for("channel_occupied", channel="private-hooked")
    assert occupied == [{"channel": "private-hooked", "source": "webhook"}]
    js.send("unsubscribe", channel="private-hooked")
    recorder.wait_for("channel_vacated", channel="private-hooked")


def test_presence_join_and_leave_produce_member_signals(recorder, client):
    js = client("hook-user", {"name": "H"})
    js.subscribed("presence-hooked")
    added = recorder.wait_for("member_added", channel="presence-hooked")
    assert added[0]["user_id"] == "hook-user"
    js.send("unsubscribe", channel="presence-hooked")
    removed = recorder.wait_for("member_removed", channel="presence-hooked")
    assert removed[0]["user_id"] == "hook-user"


def test_empty_cache_channel_produces_cache_miss(recorder, client):
    client().subscribed("cache-hooked")
    assert recorder.wait_for("cache_miss", channel="cache-hooked")[0]["source"] == "webhook"


def test_client_event_produces_client_event(recorder, client):
    writer, reader = client("w"), client("r")
    writer.subscribed("presence-hooked-chat")
    reader.subscribed("presence-hooked-chat")
    writer.send("client_event", channel="presence-hooked-chat", event="client-hi", data={"x": 1})
    event = recorder.wait_for("client_event", channel="presence-hooked-chat")[0]
    assert event["event"] == "client-hi"
    assert event["data"] == {"x": 1}
    assert event["user_id"] == "w"
    assert event["socket_id"] == writer.socket_id
