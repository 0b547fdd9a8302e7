"""The REST client: request bodies, encryption, and input refused before sending."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pusher_django import crypto
from pusher_django.client import PusherClient, get_client
from pusher_django.conf import get_config
from pusher_django.exceptions import PusherConfigurationError, PusherValidationError

SOCKET = "123.456"


class RecordingTransport:
    """Stands in for the network: records what would be sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, str], Any]] = []

    def send(self, method, path, query, body=None):
        self.sent.append((method, path, query, json.loads(body) if body else None))
        return {}

    def close(self) -> None:
        pass


@pytest.fixture
def client() -> PusherClient:
    return PusherClient(get_config(), RecordingTransport())  # type: ignore[arg-type]


def sent(client):
    return client.transport.sent


def test_trigger_body(client):
    client.trigger(["a", "b"], "evt", {"x": 1}, socket_id=SOCKET)
    method, path, query, body = sent(client)[0]
    assert (method, path) == ("POST", "/apps/123/events")
    assert body == {"name": "evt", "data": '{"x":1}', "channels": ["a", "b"], "socket_id": SOCKET}
    assert set(query) >= {"auth_key", "auth_timestamp", "auth_signature", "body_md5"}


def test_string_data_is_sent_as_is_and_info_is_joined(client):
    client.trigger("presence-a", "evt", "plain text", info=["user_count"])
    assert sent(client)[0][3]["data"] == "plain text"
    assert sent(client)[0][3]["info"] == "user_count"


def test_encrypted_trigger_never_sends_plaintext(client):
    client.trigger("private-encrypted-a", "evt", {"secret": "s3cr3t"})
    data = sent(client)[0][3]["data"]
    assert "s3cr3t" not in data
    master = get_config().encryption_master_key
    assert master is not None
    assert json.loads(crypto.decrypt("private-encrypted-a", data, master)) == {"secret": "s3cr3t"}


def test_batch_encrypts_per_event_and_keeps_caller_input(client):
    events = [
        {"channel": "private-encrypted-a", "name": "e", "data": {"n": 1}},
        {"channel": "public", "name": "e", "data": {"n": 2}, "socket_id": SOCKET},
    ]
    snapshot = json.dumps(events)
    client.trigger_batch(events)
    assert json.dumps(events) == snapshot
    batch = sent(client)[0][3]["batch"]
    assert sent(client)[0][1] == "/apps/123/batch_events"
    assert '"n":1' not in batch[0]["data"]
    master = get_config().encryption_master_key
    assert master is not None
    assert crypto.decrypt("private-encrypted-a", batch[0]["data"], master) == '{"n":1}'
    assert batch[1] == {"channel": "public", "name": "e", "data": '{"n":2}', "socket_id": SOCKET}


def test_send_to_user_targets_server_to_user_channel(client):
    client.send_to_user("42", "hello", {})
    assert sent(client)[0][3]["channels"] == ["#server-to-user-42"]


def test_read_endpoints_paths_and_params(client):
    client.get_channels(filter_by_prefix="presence-", info="user_count")
    client.get_channel("cache-x", info=("subscription_count", "cache"))
    client.get_users("presence-room")
    client.terminate_user_connections("u-1")
    assert [(m, p) for m, p, _, _ in sent(client)] == [
        ("GET", "/apps/123/channels"),
        ("GET", "/apps/123/channels/cache-x"),
        ("GET", "/apps/123/channels/presence-room/users"),
        ("POST", "/apps/123/users/u-1/terminate_connections"),
    ]
    assert sent(client)[0][2]["filter_by_prefix"] == "presence-"
    assert sent(client)[1][2]["info"] == "subscription_count,cache"
    assert sent(client)[3][3] == {}


BAD_CALLS = [
    (lambda c: c.trigger("bad name", "e", {}), "Invalid channel name"),
    (lambda c: c.trigger([], "e", {}), "At least one channel"),
    (lambda c: c.trigger([f"c{i}" for i in range(101)], "e", {}), "at most 100"),
    (lambda c: c.trigger("a", "", {}), "Event name"),
    (lambda c: c.trigger("a", "e" * 201, {}), "limit is 200"),
    (lambda c: c.trigger("a", "e", "x" * 10241), "10241 bytes"),
    (lambda c: c.trigger("a", "e", "é" * 5121), "10242 bytes"),
    (lambda c: c.trigger("a", "e", {}, socket_id="abc"), "Invalid socket id"),
    (lambda c: c.trigger("a", "e", object()), "not JSON-serializable"),
    (lambda c: c.trigger(["private-encrypted-a", "b"], "e", {}), "on its own"),
    (lambda c: c.trigger("a", "e", {}, info="user_count"), "applies to none"),
    (lambda c: c.trigger("presence-a", "e", {}, info="subscription_count"), "applies to none"),
    (lambda c: c.trigger("a", "e", {}, info="bogus"), "Unknown info"),
    (lambda c: c.trigger_batch([]), "at least one"),
    (lambda c: c.trigger_batch([{"channel": "a", "name": "e", "data": 1}] * 11), "at most 10"),
    (lambda c: c.trigger_batch([{"channels": ["a", "b"], "name": "e", "data": 1}]), "several"),
    (lambda c: c.trigger_batch([{"channel": "a", "name": "e"}]), "has no 'data'"),
    (lambda c: c.trigger_batch([{"channel": "a", "name": "e", "data": 1, "x": 1}]), "unknown"),
    (lambda c: c.trigger_batch(["nope"]), "must be a dict"),
    (lambda c: c.get_channels(info="user_count"), "filter_by_prefix='presence-'"),
    (lambda c: c.get_channel("a", info="user_count"), "does not apply"),
    (lambda c: c.get_channel("presence-a", info="cache"), "does not apply"),
    (lambda c: c.get_users("private-a"), "presence channel"),
    (lambda c: c.terminate_user_connections(""), "User id"),
    (lambda c: c.terminate_user_connections("a/b"), "Invalid user id"),
    (lambda c: c.send_to_user("a b", "e", {}), "Invalid user id"),
    (lambda c: c.trigger("#server-to-user-a b", "e", {}), "Invalid user id"),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS)
def test_bad_input_never_reaches_the_network(client, call, message):
    with pytest.raises(PusherValidationError, match=message):
        call(client)
    assert sent(client) == []


def test_encrypted_without_master_key_refuses(settings):
    settings.PUSHER = {**settings.PUSHER, "ENCRYPTION_MASTER_KEY_BASE64": None}
    client = PusherClient(get_config(), RecordingTransport())  # type: ignore[arg-type]
    with pytest.raises(PusherValidationError, match="refusing to send plaintext"):
        client.trigger("private-encrypted-a", "e", {"x": 1})
    with pytest.raises(PusherConfigurationError, match="not set"):
        client.authorize_channel(SOCKET, "private-encrypted-a")
    assert sent(client) == []


def test_payload_limit_is_configurable(settings):
    settings.PUSHER = {**settings.PUSHER, "MAX_PAYLOAD_BYTES": 100_000}
    client = PusherClient(get_config(), RecordingTransport())  # type: ignore[arg-type]
    client.trigger("a", "e", "x" * 50_000)
    assert len(sent(client)) == 1


def test_authorize_private_presence_and_encrypted(client):
    private = client.authorize_channel(SOCKET, "private-a")
    assert set(private) == {"auth"}
    assert private["auth"].startswith("unit-key:")
    presence = client.authorize_channel(
        SOCKET, "presence-a", {"user_id": 7, "user_info": {"name": "Ann"}}
    )
    assert presence["channel_data"] == '{"user_id":"7","user_info":{"name":"Ann"}}'
    encrypted = client.authorize_channel(SOCKET, "private-encrypted-cache-a")
    assert set(encrypted) == {"auth", "shared_secret"}
    assert isinstance(encrypted["shared_secret"], str)


@pytest.mark.parametrize(
    ("channel", "user_data", "message"),
    [
        ("public", None, "needs no authorization"),
        ("cache-x", None, "needs no authorization"),
        ("presence-a", None, "user_id"),
        ("presence-a", {"user_id": "x" * 129}, "128"),
        ("presence-a", {"user_id": "1", "user_info": {"a": "x" * 1100}}, "limit is 1024"),
        ("private-a", {"user_id": "1"}, "only to presence"),
    ],
)
def test_authorize_refuses_bad_requests(client, channel, user_data, message):
    with pytest.raises(PusherValidationError, match=message):
        client.authorize_channel(SOCKET, channel, user_data)


def test_authenticate_user(client):
    result = client.authenticate_user(SOCKET, {"id": 5, "user_info": {"n": 1}, "watchlist": [1]})
    assert json.loads(result["user_data"]) == {"id": "5", "user_info": {"n": 1}, "watchlist": ["1"]}
    with pytest.raises(PusherValidationError, match="'id'"):
        client.authenticate_user(SOCKET, {"name": "x"})
    with pytest.raises(PusherValidationError, match="watchlist"):
        client.authenticate_user(SOCKET, {"id": "1", "watchlist": ["a"] * 101})


def test_get_client_is_cached_and_reset_by_settings(settings):
    first = get_client()
    assert get_client() is first
    settings.PUSHER = {**settings.PUSHER, "KEY": "other"}
    assert get_client() is not first
    assert get_client().config.key == "other"
    assert "unit-secret" not in repr(get_client())
