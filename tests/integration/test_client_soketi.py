"""Every client method and its coroutine twin against a real soketi, seen by real pusher-js.

Each test runs twice: with the sync methods, and with their ``a``-prefixed
twins, each call on a new event loop (``async_to_sync``), as a management
command or a test would make them; the twins under a real ASGI server are
in ``test_asgi_soketi.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from pusher_django.client import get_client
from pusher_django.exceptions import PusherAuthenticationError
from tests.support.auth import local_authorizer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("soketi_settings")]


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, soketi_settings: Any) -> Callable[..., Any]:
    """``api("trigger", ...)`` calls ``trigger``, or awaits ``atrigger`` on a new loop."""

    def call(name: str, *args: Any, **kwargs: Any) -> Any:
        client = get_client()
        if request.param == "sync":
            return getattr(client, name)(*args, **kwargs)
        return async_to_sync(getattr(client, f"a{name}"))(*args, **kwargs)

    return call


def test_trigger_reaches_subscriber_and_excludes_socket(pusher_js, api):
    alice = pusher_js(authorizer=local_authorizer("alice"))
    bob = pusher_js(authorizer=local_authorizer("bob"))
    alice.subscribed("private-trigger")
    bob.subscribed("private-trigger")
    result = api(
        "trigger", "private-trigger", "greeting", {"text": "hi"}, socket_id=alice.socket_id
    )
    assert result == {"ok": True}  # soketi's answer; hosted Pusher answers {}
    assert bob.wait_for("event", event="greeting")["data"] == {"text": "hi"}
    api("trigger", "private-trigger", "after", {})
    alice.wait_for("event", event="after")
    assert alice.find("event", event="greeting") == []


def test_trigger_batch_delivers_each_event(pusher_js, api):
    client = pusher_js(authorizer=local_authorizer())
    client.subscribed("batch-a")
    client.subscribed("private-batch-b")
    api(
        "trigger_batch",
        [
            {"channel": "batch-a", "name": "one", "data": {"n": 1}},
            {"channel": "private-batch-b", "name": "two", "data": "plain"},
        ],
    )
    assert client.wait_for("event", event="one", channel="batch-a")["data"] == {"n": 1}
    assert client.wait_for("event", event="two", channel="private-batch-b")["data"] == "plain"


def test_encrypted_event_is_decrypted_by_pusher_js(pusher_js, api):
    client = pusher_js(authorizer=local_authorizer())
    for channel in ("private-encrypted-e2e", "private-encrypted-cache-e2e"):
        client.subscribed(channel)
        api("trigger", channel, "secret", {"text": "top secret ✓"})
        event = client.wait_for("event", channel=channel, event="secret")
        assert event["data"] == {"text": "top secret ✓"}


def test_channel_listing_info_and_presence_users(pusher_js, api):
    ann = pusher_js(authorizer=local_authorizer("ann", {"name": "Ann"}))
    ben = pusher_js(authorizer=local_authorizer("ben", {"name": "Ben"}))
    ann.subscribed("presence-lobby")
    ben.subscribed("presence-lobby")
    ann.subscribed("cache-news")
    listed = api("get_channels")["channels"]
    assert {"presence-lobby", "cache-news"} <= set(listed)
    presence_only = api("get_channels", filter_by_prefix="presence-", info="user_count")
    assert set(presence_only["channels"]) == {"presence-lobby"}
    info = api("get_channel", "presence-lobby", info="user_count")
    assert info["occupied"] is True
    assert info["user_count"] == 2
    assert api("get_channel", "cache-news", info="subscription_count")["subscription_count"] == 1
    assert api("get_channel", "nobody-here")["occupied"] is False
    users = api("get_users", "presence-lobby")["users"]
    assert sorted(u["id"] for u in users) == ["ann", "ben"]


def test_send_to_user_and_terminate_connections(pusher_js, api):
    target = pusher_js(authorizer=local_authorizer("target-1"))
    other = pusher_js(authorizer=local_authorizer("other-1"))
    for client in (target, other):
        client.send("signin")
        client.wait_for("signin_success")
    api("send_to_user", "target-1", "direct", {"for": "you"})
    assert target.wait_for("user_event", event="direct")["data"] == {"for": "you"}
    api("terminate_user_connections", "target-1")
    error = target.wait_for("pusher_error")
    assert error["data"]["code"] == 4009
    time.sleep(0.3)
    assert other.find("user_event") == []
    assert other.find("pusher_error") == []


def test_wrong_secret_is_an_authentication_error(soketi, settings, api):
    settings.PUSHER = soketi.pusher_settings(SECRET="wrong-secret")
    with pytest.raises(PusherAuthenticationError) as info:
        api("trigger", "public", "e", {})
    assert info.value.status == 401
    assert "wrong-secret" not in str(info.value)


def test_fifty_concurrent_atriggers_on_one_loop_all_arrive(pusher_js):
    client = pusher_js(authorizer=local_authorizer())
    client.subscribed("private-encrypted-async-many")

    async def burst() -> None:
        pusher = get_client()
        await asyncio.gather(
            *(
                pusher.atrigger("private-encrypted-async-many", "n", {"n": n, "text": "secret ✓"})
                for n in range(50)
            )
        )

    async_to_sync(burst)()
    client.wait_for_count("event", 50, event="n", timeout=20)
    received = sorted(e["data"]["n"] for e in client.find("event", event="n"))
    assert received == list(range(50))  # decrypted by pusher-js, each once
