"""Every client method against a real soketi, observed by real pusher-js clients."""

from __future__ import annotations

import time

import pytest

from pusher_django.client import get_client
from pusher_django.exceptions import PusherAuthenticationError
from tests.support.auth import local_authorizer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("soketi_settings")]


def test_trigger_reaches_subscriber_and_excludes_socket(pusher_js):
    alice = pusher_js(authorizer=local_authorizer("alice"))
    bob = pusher_js(authorizer=local_authorizer("bob"))
    alice.subscribed("private-trigger")
    bob.subscribed("private-trigger")
    result = get_client().trigger(
        "private-trigger", "greeting", {"text": "hi"}, socket_id=alice.socket_id
    )
    assert result == {"ok": True}  # soketi's answer; hosted Pusher answers {}
    assert bob.wait_for("event", event="greeting")["data"] == {"text": "hi"}
    get_client().trigger("private-trigger", "after", {})
    alice.wait_for("event", event="after")
    assert alice.find("event", event="greeting") == []


def test_trigger_batch_delivers_each_event(pusher_js):
    client = pusher_js(authorizer=local_authorizer())
    client.subscribed("batch-a")
    client.subscribed("private-batch-b")
    get_client().trigger_batch(
        [
            {"channel": "batch-a", "name": "one", "data": {"n": 1}},
            {"channel": "private-batch-b", "name": "two", "data": "plain"},
        ]
    )
    assert client.wait_for("event", event="one", channel="batch-a")["data"] == {"n": 1}
    assert client.wait_for("event", event="two", channel="private-batch-b")["data"] == "plain"


def test_encrypted_event_is_decrypted_by_pusher_js(pusher_js):
    client = pusher_js(authorizer=local_authorizer())
    for channel in ("private-encrypted-e2e", "private-encrypted-cache-e2e"):
        client.subscribed(channel)
        get_client().trigger(channel, "secret", {"text": "top secret ✓"})
        event = client.wait_for("event", channel=channel, event="secret")
        assert event["data"] == {"text": "top secret ✓"}


def test_channel_listing_info_and_presence_users(pusher_js):
    ann = pusher_js(authorizer=local_authorizer("ann", {"name": "Ann"}))
    ben = pusher_js(authorizer=local_authorizer("ben", {"name": "Ben"}))
    ann.subscribed("presence-lobby")
    ben.subscribed("presence-lobby")
    ann.subscribed("cache-news")
    client = get_client()
    listed = client.get_channels()["channels"]
    assert {"presence-lobby", "cache-news"} <= set(listed)
    presence_only = client.get_channels(filter_by_prefix="presence-", info="user_count")
    assert set(presence_only["channels"]) == {"presence-lobby"}
    info = client.get_channel("presence-lobby", info="user_count")
    assert info["occupied"] is True
    assert info["user_count"] == 2
    assert client.get_channel("cache-news", info="subscription_count")["subscription_count"] == 1
    assert client.get_channel("nobody-here")["occupied"] is False
    users = client.get_users("presence-lobby")["users"]
    assert sorted(u["id"] for u in users) == ["ann", "ben"]


def test_send_to_user_and_terminate_connections(pusher_js):
    target = pusher_js(authorizer=local_authorizer("target-1"))
    other = pusher_js(authorizer=local_authorizer("other-1"))
    for client in (target, other):
        client.send("signin")
        client.wait_for("signin_success")
    get_client().send_to_user("target-1", "direct", {"for": "you"})
    assert target.wait_for("user_event", event="direct")["data"] == {"for": "you"}
    get_client().terminate_user_connections("target-1")
    error = target.wait_for("pusher_error")
    assert error["data"]["code"] == 4009
    time.sleep(0.3)
    assert other.find("user_event") == []
    assert other.find("pusher_error") == []


def test_wrong_secret_is_an_authentication_error(soketi, settings):
    settings.PUSHER = soketi.pusher_settings(SECRET="wrong-secret")
    with pytest.raises(PusherAuthenticationError) as info:
        get_client().trigger("public", "e", {})
    assert info.value.status == 401
    assert "wrong-secret" not in str(info.value)
