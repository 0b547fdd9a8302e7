"""The channel auth and user sign-in endpoints with Django's test client."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pusher_django import crypto, signing
from pusher_django.authorization import ChannelPolicy, RuleRegistry
from pusher_django.conf import get_config

pytestmark = pytest.mark.django_db
SOCKET = "123.456"
AUTH = "/pusher/auth/"
USER_AUTH = "/pusher/user-auth/"


@pytest.fixture
def member(db):
    return User.objects.create_user("member", password="pw")


@pytest.fixture
def outsider(db):
    return User.objects.create_user("outsider", password="pw")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def auth(client, channel, socket_id=SOCKET, **extra):
    return client.post(AUTH, {"socket_id": socket_id, "channel_name": channel}, **extra)


def expected_token(channel, channel_data=None):
    config = get_config()
    return signing.channel_auth_token(config.key, config.secret, SOCKET, channel, channel_data)


def test_private_channel_allowed_for_member(member):
    response = auth(logged_in(member), "private-room-1")
    assert response.status_code == 200
    assert response.json() == {"auth": expected_token("private-room-1")}


def test_private_channel_denied_by_rule(outsider, caplog):
    with caplog.at_level(logging.INFO, logger="pusher_django"):
        response = auth(logged_in(outsider), "private-room-1")
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden."}
    assert f"Denied private-room-1 to user {outsider.pk}" in caplog.text
    assert "auth" not in response.json()


def test_private_cache_channel(member):
    assert auth(logged_in(member), "private-cache-room-2").status_code == 200


def test_presence_channel_data_from_rule(member):
    response = auth(logged_in(member), "presence-room-1")
    body = response.json()
    assert json.loads(body["channel_data"]) == {
        "user_id": str(member.pk),
        "user_info": {"name": "member"},
    }
    assert body["auth"] == expected_token("presence-room-1", body["channel_data"])


def test_presence_rule_returning_true_has_no_user_info(member):
    body = auth(logged_in(member), "presence-cache-room-1").json()
    assert json.loads(body["channel_data"]) == {"user_id": str(member.pk)}


def test_presence_user_id_setting(member, settings):
    settings.PUSHER = {
        **settings.PUSHER,
        "AUTH": {"PRESENCE_USER_ID": "tests.unit.helpers.email_id"},
    }
    member.email = "m@example.com"
    member.save()
    body = auth(logged_in(member), "presence-room-1").json()
    assert json.loads(body["channel_data"])["user_id"] == "m@example.com"


@pytest.mark.parametrize("channel", ["private-encrypted-room-1", "private-encrypted-cache-room-1"])
def test_encrypted_channels_get_shared_secret(member, channel):
    body = auth(logged_in(member), channel).json()
    master = get_config().encryption_master_key
    assert master is not None
    assert body == {
        "auth": expected_token(channel),
        "shared_secret": crypto.shared_secret_b64(channel, master),
    }


def test_presence_rule_returning_none_denies(member):
    assert auth(logged_in(member), "presence-room-closed").status_code == 403


def test_no_matching_rule_denies(member):
    assert auth(logged_in(member), "private-unknown").status_code == 403
    assert auth(logged_in(member), "presence-unknown").status_code == 403


def test_anonymous_denied_unless_rule_allows():
    client = Client()
    assert auth(client, "private-room-open").status_code == 403
    assert auth(client, "presence-room-1").status_code == 403
    assert auth(client, "private-lobby").status_code == 200


def test_rule_can_read_the_request_session(member):
    client = logged_in(member)
    assert auth(client, "private-vip-x").status_code == 403
    session = client.session
    session["vip"] = True
    session.save()
    assert auth(client, "private-vip-x").status_code == 200


def test_rule_exception_is_403_not_500(member, caplog):
    response = auth(logged_in(member), "private-boom-1")
    assert response.status_code == 403
    assert "rule bug" not in response.content.decode()
    assert "Channel rule for private-boom-1 raised" in caplog.text


def test_json_body_is_accepted(member):
    response = logged_in(member).post(
        AUTH,
        json.dumps({"socket_id": SOCKET, "channel_name": "private-room-1"}),
        content_type="application/json",
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel_name": "private-room-1"}, "Invalid socket id"),
        ({"socket_id": "abc", "channel_name": "private-room-1"}, "Invalid socket id"),
        ({"socket_id": SOCKET}, "Channel name"),
        ({"socket_id": SOCKET, "channel_name": "bad name"}, "Invalid channel name"),
        ({"socket_id": SOCKET, "channel_name": "public-room"}, "need no authorization"),
        ({"socket_id": SOCKET, "channel_name": "#server-to-user-1"}, "reserved"),
    ],
)
def test_bad_input_is_400_with_a_reason(member, data, message):
    response = logged_in(member).post(AUTH, data)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.parametrize("body", [b"{not json", b"[1,2]", b"\xff"])
def test_malformed_json_is_400(member, body):
    response = logged_in(member).post(AUTH, body, content_type="application/json")
    assert response.status_code == 400


def test_get_is_refused(member):
    assert logged_in(member).get(AUTH).status_code == 405
    assert logged_in(member).get(USER_AUTH).status_code == 405


def test_csrf_is_enforced_and_header_token_works(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert auth(client, "private-room-1").status_code == 403
    client.get("/admin/login/")
    token = client.cookies["csrftoken"].value
    assert auth(client, "private-room-1", headers={"X-CSRFToken": token}).status_code == 200


def test_user_sign_in(member):
    response = logged_in(member).post(USER_AUTH, {"socket_id": SOCKET})
    body = response.json()
    assert json.loads(body["user_data"]) == {"id": str(member.pk), "user_info": {"name": "member"}}
    config = get_config()
    assert body["auth"] == signing.user_auth_token(
        config.key, config.secret, SOCKET, body["user_data"]
    )


def test_user_sign_in_data_setting_with_watchlist(member, settings):
    settings.PUSHER = {**settings.PUSHER, "AUTH": {"USER_DATA": "tests.unit.helpers.user_data"}}
    body = logged_in(member).post(USER_AUTH, {"socket_id": SOCKET}).json()
    assert json.loads(body["user_data"])["watchlist"] == ["1", "2"]


def test_user_sign_in_refuses_anonymous_and_bad_socket(member):
    assert Client().post(USER_AUTH, {"socket_id": SOCKET}).status_code == 403
    assert logged_in(member).post(USER_AUTH, {"socket_id": "x"}).status_code == 400


def test_duplicate_pattern_is_an_error():
    registry = RuleRegistry()
    registry.register("private-{x}", lambda user, x: True)
    with pytest.raises(ImproperlyConfigured, match="Two channel rules"):
        registry.register("private-{x}", lambda user, x: False)


def test_class_based_policy(member, settings):
    settings.PUSHER = {**settings.PUSHER, "AUTH": {"POLICY": "tests.unit.helpers.OnlyStaffPolicy"}}
    assert auth(logged_in(member), "private-room-1").status_code == 403
    member.is_staff = True
    member.save()
    assert auth(logged_in(member), "private-anything").status_code == 200
    assert issubclass(__import__("tests.unit.helpers").unit.helpers.OnlyStaffPolicy, ChannelPolicy)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    socket_id=st.one_of(st.text(max_size=30), st.from_regex(r"\A\d+\.\d+\Z")),
    channel=st.one_of(
        st.text(max_size=250),
        st.sampled_from(["private-room-1", "presence-room-1", "private-encrypted-room-2"]),
    ),
)
def test_fuzzed_form_fields_never_cause_5xx(member, socket_id, channel):
    response = auth(logged_in(member), channel, socket_id=socket_id)
    assert response.status_code in (200, 400, 403)
    assert "unit-secret" not in response.content.decode()
