"""The official SDK (pusher-http-python, a dev dependency) as a test oracle.

For the same inputs, our tokens and REST signatures must equal the SDK's.
"""

from __future__ import annotations

import json

import pusher
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pusher_django import signing
from pusher_django.client import PusherClient
from pusher_django.conf import get_config

MASTER = "OHRXNUZRTG5pUTFzQlFGd3J3N3Q2VFZFc0paZDEweVk="
names = st.text(alphabet="abcXYZ019-_=@,.;", min_size=1, max_size=60)
socket_ids = st.from_regex(r"\A[0-9]{1,10}\.[0-9]{1,10}\Z")


@pytest.fixture
def both(settings):
    settings.PUSHER = {
        "APP_ID": "123",
        "KEY": "conf-key",
        "SECRET": "conf-secret",
        "HOST": "127.0.0.1",
        "PORT": 9,
        "USE_TLS": False,
        "ENCRYPTION_MASTER_KEY_BASE64": MASTER,
    }
    official = pusher.Pusher(
        app_id="123",
        key="conf-key",
        secret="conf-secret",
        host="127.0.0.1",
        port=9,
        ssl=False,
        encryption_master_key_base64=MASTER,
    )
    return PusherClient(get_config()), official


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(socket_id=socket_ids, name=names)
def test_private_and_encrypted_auth_match(both, socket_id, name):
    ours, official = both
    for channel in (f"private-{name}", f"private-encrypted-{name}"):
        expected = official.authenticate(channel=channel, socket_id=socket_id)
        result = ours.authorize_channel(socket_id, channel)
        assert result["auth"] == expected["auth"]
        if "shared_secret" in expected:
            assert result["shared_secret"] == expected["shared_secret"].decode()


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(socket_id=socket_ids, name=names, user_id=names, info=st.text(max_size=20))
def test_presence_auth_matches_for_the_same_channel_data(both, socket_id, name, user_id, info):
    ours, official = both
    channel = f"presence-{name}"
    expected = official.authenticate(
        channel=channel, socket_id=socket_id, custom_data={"user_id": user_id, "user_info": info}
    )
    token = signing.channel_auth_token(
        "conf-key", "conf-secret", socket_id, channel, expected["channel_data"]
    )
    assert token == expected["auth"]
    result = ours.authorize_channel(socket_id, channel, {"user_id": user_id, "user_info": info})
    assert json.loads(result["channel_data"]) == json.loads(expected["channel_data"])


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(socket_id=socket_ids, user_id=names)
def test_user_auth_matches(both, socket_id, user_id):
    ours, official = both
    expected = official.authenticate_user(socket_id, {"id": user_id})
    assert (
        signing.user_auth_token("conf-key", "conf-secret", socket_id, expected["user_data"])
        == expected["auth"]
    )
    result = ours.authenticate_user(socket_id, {"id": user_id})
    assert json.loads(result["user_data"]) == json.loads(expected["user_data"])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(channel=names, event=names, text=st.text(max_size=200))
def test_rest_signature_matches(both, channel, event, text):
    _, official = both
    request = official._pusher_client.trigger.make_request(channel, event, {"t": text})
    query = signing.sign_rest_request(
        key="conf-key",
        secret="conf-secret",
        method=request.method,
        path=request.path,
        body=request.body,
        timestamp=int(request.query_params["auth_timestamp"]),
    )
    assert query["auth_signature"] == request.query_params["auth_signature"]
    assert query["body_md5"] == request.query_params["body_md5"]


def test_get_request_signature_matches_official_with_prefix(both):
    _, official = both
    request = official._pusher_client.channels_info.make_request("presence-", ["user_count"])
    params = {k: v for k, v in request.query_params.items() if k != "auth_signature"}
    expected = signing.hmac_sha256_hex(
        "conf-secret", signing.string_to_sign("GET", request.path, params)
    )
    assert expected == request.query_params["auth_signature"]
