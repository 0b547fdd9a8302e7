"""``pusher/auth/batch/``: a page's subscriptions authorized in one request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from pusher_django import crypto, signing
from pusher_django.conf import get_config
from tests.testapp.pusher_channels import TEAM_RULE_CALLS

pytestmark = pytest.mark.django_db
SOCKET = "123.456"
URL = "/pusher/auth/batch/"


@pytest.fixture
def member(db: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("member", password="pw"))
    return client


def token(channel: str, channel_data: str | None = None) -> str:
    config = get_config()
    return signing.channel_auth_token(config.key, config.secret, SOCKET, channel, channel_data)


def results(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body) == [SOCKET]
    return dict(body[SOCKET])


def test_mixed_channels_each_get_their_own_answer(member: Client) -> None:
    channels = [
        "private-room-1",
        "presence-room-1",
        "presence-room-closed",
        "private-encrypted-room-2",
        "private-nobody-has-a-rule",
        "public-news",
        "bad name",
        "private-boom-x",
    ]
    answer = results(member.post(URL, {"socket_id": SOCKET, "channel_name[]": channels}))
    assert answer["private-room-1"] == {"status": 200, "data": {"auth": token("private-room-1")}}
    presence = answer["presence-room-1"]
    assert presence["status"] == 200
    channel_data = presence["data"]["channel_data"]
    assert json.loads(channel_data)["user_info"] == {"name": "member"}
    assert presence["data"]["auth"] == token("presence-room-1", channel_data)
    assert answer["presence-room-closed"]["status"] == 403
    encrypted = answer["private-encrypted-room-2"]["data"]
    assert encrypted["auth"] == token("private-encrypted-room-2")
    master = get_config().encryption_master_key
    assert master is not None
    secret = crypto.shared_secret_b64("private-encrypted-room-2", master)
    assert encrypted["shared_secret"] == secret
    assert answer["private-nobody-has-a-rule"]["status"] == 403
    assert answer["public-news"]["status"] == 400
    assert answer["bad name"]["status"] == 400
    assert answer["private-boom-x"] == {"status": 403, "error": "Forbidden."}  # the rule raised


def test_the_pusher_js_auth_plugin_format_works_unchanged(member: Client) -> None:
    body = "socket_id=123.456&channel_name[0]=private-room-open&channel_name[1]=presence-room-9"
    response = member.post(URL, body, content_type="application/x-www-form-urlencoded")
    answer = results(response)
    assert set(answer) == {"private-room-open", "presence-room-9"}
    assert answer["private-room-open"] == {
        "status": 200,
        "data": {"auth": token("private-room-open")},
    }


def test_json_and_repeated_fields(member: Client) -> None:
    response = member.post(
        URL,
        {"socket_id": SOCKET, "channel_names": ["private-room-open", "private-room-open"]},
        content_type="application/json",
    )
    assert results(response) == {
        "private-room-open": {"status": 200, "data": {"auth": token("private-room-open")}}
    }
    repeated = member.post(URL, {"socket_id": SOCKET, "channel_name": ["private-room-open"]})
    assert results(repeated)["private-room-open"]["status"] == 200


def test_a_many_rule_answers_its_whole_family_in_one_call(member: Client) -> None:
    TEAM_RULE_CALLS.clear()
    channels = [f"private-team-{n}" for n in range(6)]
    answer = results(member.post(URL, {"socket_id": SOCKET, "channel_name[]": channels}))
    assert [answer[c]["status"] for c in channels] == [200, 403, 200, 403, 200, 403]
    assert [[{"team": n} for n in range(6)]] == TEAM_RULE_CALLS
    single = member.post("/pusher/auth/", {"socket_id": SOCKET, "channel_name": "private-team-4"})
    assert single.status_code == 200
    assert TEAM_RULE_CALLS[-1] == [{"team": 4}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel_name[]": ["private-a"]}, "socket"),
        ({"socket_id": "x", "channel_name[]": ["private-a"]}, "socket"),
        ({"socket_id": SOCKET}, "No channel_name"),
        ({"socket_id": SOCKET, "channel_name[]": [f"private-{n}" for n in range(101)]}, "100"),
    ],
)
def test_bad_requests_are_400(member: Client, data: dict[str, Any], message: str) -> None:
    response = member.post(URL, data)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_one_hundred_channels_is_the_maximum(member: Client) -> None:
    channels = [f"private-room-{n}" for n in range(100)]
    assert len(results(member.post(URL, {"socket_id": SOCKET, "channel_name[]": channels}))) == 100


def test_csrf_is_enforced_like_the_single_endpoint(db: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("u", password="pw"))
    data = {"socket_id": SOCKET, "channel_name[]": ["private-room-open"]}
    assert client.post(URL, data).status_code == 403
    client.get("/admin/login/")  # sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    assert client.post(URL, data, headers={"X-CSRFToken": csrf}).status_code == 200


def test_anonymous_users_get_only_what_rules_allow_them() -> None:
    answer = results(
        Client().post(
            URL, {"socket_id": SOCKET, "channel_name[]": ["private-lobby", "private-room-open"]}
        )
    )
    assert answer["private-lobby"]["status"] == 200
    assert answer["private-room-open"]["status"] == 403


def test_the_template_tag_writes_what_pusher_js_needs(settings: Any) -> None:
    from django.template import Context, Template
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    html = Template("{% load pusher_django %}{% pusher_js_config %}").render(
        Context({"request": request})
    )
    start = html.index(">", html.index('id="pusher-django-config"')) + 1
    page = json.loads(html[start : html.index("</script>", start)])
    assert page["key"] == "unit-key"
    assert page["options"]["wsHost"] == "127.0.0.1"  # a self-hosted server (the test settings)
    assert page["options"]["forceTLS"] is False
    assert (page["authEndpoint"], page["batchEndpoint"], page["userAuthEndpoint"]) == (
        "/pusher/auth/",
        "/pusher/auth/batch/",
        "/pusher/user-auth/",
    )
    assert page["csrfToken"]
    assert "unit-secret" not in html
    assert '<script src="/static/pusher_django/pusher-django.js"></script>' in html
    settings.PUSHER = {"APP_ID": "1", "KEY": "k", "SECRET": "s", "CLUSTER": "eu"}
    html = Template("{% load pusher_django %}{% pusher_js_config %}").render(Context({}))
    assert '"options": {"cluster": "eu", "forceTLS": true}' in html
