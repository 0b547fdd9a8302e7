"""Every coroutine twin against a real soketi, observed by real pusher-js clients.

The coroutines run on loops made by ``async_to_sync``, a new one per call,
as a project's management command or test would; the twins under a real
ASGI server are in ``test_asgi_soketi.py``.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync

from pusher_django.client import get_client
from pusher_django.exceptions import PusherAuthenticationError
from tests.support.auth import local_authorizer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("soketi_settings")]


def run(coroutine_function, *args, **kwargs):
    return async_to_sync(coroutine_function)(*args, **kwargs)


def test_atrigger_reaches_subscribers_and_excludes_the_socket(pusher_js):
    alice = pusher_js(authorizer=local_authorizer("alice"))
    bob = pusher_js(authorizer=local_authorizer("bob"))
    alice.subscribed("private-async-trigger")
    bob.subscribed("private-async-trigger")
    client = get_client()
    result = run(
        client.atrigger,
        "private-async-trigger",
        "greeting",
        {"text": "hi"},
        socket_id=alice.socket_id,
        info="subscription_count",
    )
    assert result == {"ok": True}  # soketi's answer; hosted Pusher answers {"channels": ...}
    assert bob.wait_for("event", event="greeting")["data"] == {"text": "hi"}
    run(client.atrigger, "private-async-trigger", "after", {})
    alice.wait_for("event", event="after")
    assert alice.find("event", event="greeting") == []


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

    run(burst)
    client.wait_for_count("event", 50, event="n", timeout=20)
    received = sorted(e["data"]["n"] for e in client.find("event", event="n"))
    assert received == list(range(50))  # decrypted by pusher-js, each once


def test_atrigger_batch_delivers_each_event(pusher_js):
    client = pusher_js(authorizer=local_authorizer())
    client.subscribed("async-batch-a")
    client.subscribed("private-async-batch-b")
    run(
        get_client().atrigger_batch,
        [
            {"channel": "async-batch-a", "name": "one", "data": {"n": 1}},
            {"channel": "private-async-batch-b", "name": "two", "data": "plain"},
        ],
    )
    assert client.wait_for("event", event="one", channel="async-batch-a")["data"] == {"n": 1}
    assert client.wait_for("event", event="two", channel="private-async-batch-b")["data"] == "plain"


def test_aget_channels_aget_channel_and_aget_users(pusher_js):
    ann = pusher_js(authorizer=local_authorizer("ann", {"name": "Ann"}))
    ben = pusher_js(authorizer=local_authorizer("ben", {"name": "Ben"}))
    ann.subscribed("presence-async-lobby")
    ben.subscribed("presence-async-lobby")
    ann.subscribed("cache-async-news")

    async def read() -> tuple[object, ...]:
        client = get_client()
        return await asyncio.gather(
            client.aget_channels(),
            client.aget_channels(filter_by_prefix="presence-", info="user_count"),
            client.aget_channel("presence-async-lobby", info="user_count"),
            client.aget_channel("cache-async-news", info="subscription_count"),
            client.aget_users("presence-async-lobby"),
        )

    listed, presence, lobby, news, users = run(read)
    assert {"presence-async-lobby", "cache-async-news"} <= set(listed["channels"])
    assert "presence-async-lobby" in presence["channels"]
    assert "cache-async-news" not in presence["channels"]
    assert (lobby["occupied"], lobby["user_count"]) == (True, 2)
    assert news["subscription_count"] == 1
    assert sorted(u["id"] for u in users["users"]) == ["ann", "ben"]


def test_asend_to_user_and_aterminate_user_connections(pusher_js):
    target = pusher_js(authorizer=local_authorizer("async-target"))
    other = pusher_js(authorizer=local_authorizer("async-other"))
    for client in (target, other):
        client.send("signin")
        client.wait_for("signin_success")
    run(get_client().asend_to_user, "async-target", "direct", {"for": "you"})
    assert target.wait_for("user_event", event="direct")["data"] == {"for": "you"}
    run(get_client().aterminate_user_connections, "async-target")
    assert target.wait_for("pusher_error")["data"]["code"] == 4009
    time.sleep(0.3)
    assert other.find("user_event") == []
    assert other.find("pusher_error") == []


def test_wrong_secret_is_the_same_authentication_error(soketi, settings):
    settings.PUSHER = soketi.pusher_settings(SECRET="wrong-secret")
    with pytest.raises(PusherAuthenticationError) as info:
        run(get_client().atrigger, "public", "e", {})
    assert info.value.status == 401
    assert "wrong-secret" not in str(info.value)
