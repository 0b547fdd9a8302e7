"""pusher-js (unchanged, Node) against soketi, authorized by the live Django endpoints."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User

from pusher_django.client import get_client
from tests.support.browser_session import endpoint_auth

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("soketi_settings"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def browser(pusher_js, live_server):
    def connect(username: str):
        user, _ = User.objects.get_or_create(username=username)
        return pusher_js(**endpoint_auth(live_server.url, user)), user

    return connect


def test_private_and_encrypted_subscriptions(browser):
    client, _ = browser("member")
    client.subscribed("private-room-e2e")
    for channel in ("private-encrypted-room-e2e", "private-encrypted-cache-room-e2e"):
        client.subscribed(channel)
        get_client().trigger(channel, "msg", {"text": f"secret on {channel}"})
        assert client.wait_for("event", channel=channel)["data"] == {"text": f"secret on {channel}"}


def test_presence_members_are_visible_to_each_other(browser):
    ann, ann_user = browser("ann")
    ben, ben_user = browser("ben")
    first = ann.subscribed("presence-room-e2e")
    assert first["members"] == {str(ann_user.pk): {"name": "ann"}}
    second = ben.subscribed("presence-room-e2e")
    assert second["members"] == {
        str(ann_user.pk): {"name": "ann"},
        str(ben_user.pk): {"name": "ben"},
    }
    added = ann.wait_for("member_added", channel="presence-room-e2e")
    assert (added["id"], added["info"]) == (str(ben_user.pk), {"name": "ben"})


def test_denied_channel_reports_403(browser):
    client, _ = browser("outsider")
    client.subscribe("private-room-e2e-denied")
    error = client.wait_for("subscription_error", channel="private-room-e2e-denied")
    assert error["status"] == 403
    client.subscribed("private-room-open")


def test_signin_and_send_to_user(browser):
    client, user = browser("signer")
    bystander, _ = browser("bystander")
    for each in (client, bystander):
        each.send("signin")
        each.wait_for("signin_success")
    get_client().send_to_user(str(user.pk), "notice", {"only": "you"})
    assert client.wait_for("user_event", event="notice")["data"] == {"only": "you"}
    assert bystander.find("user_event", event="notice") == []


@pytest.mark.parametrize("enabled", [True, False])
def test_logout_terminates_the_users_connections_only_when_enabled(
    browser, broadcasting, settings, client, enabled
):
    settings.PUSHER = {**settings.PUSHER, "USERS": {"TERMINATE_ON_LOGOUT": enabled}}
    js, user = browser(f"leaver-{enabled}")
    js.send("signin")
    js.wait_for("signin_success")
    client.force_login(user)
    client.logout()
    if enabled:
        assert js.wait_for("pusher_error", timeout=15)["data"]["code"] == 4009
    else:
        time.sleep(2)
        assert js.find("pusher_error") == []
