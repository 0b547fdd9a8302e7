"""The channels admin against soketi, with real pusher-js clients connected."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.support.auth import local_authorizer
from tests.support.processes import free_port
from tests.support.soketi import APP_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

LIST = "/admin/pusher_django/channel/"


def detail(name: str) -> str:
    return f"{LIST}live/{name}/"


@pytest.fixture
def live_settings(soketi_settings: Any, settings: Any) -> Any:
    settings.PUSHER = {**settings.PUSHER, "ADMIN": {"CACHE_SECONDS": 0}}
    return settings


def staff(django_user_model: Any, *perms: str) -> Client:
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


def rows(html: str) -> dict[str, list[str]]:
    """``{channel: [kind, subscriptions, users]}`` from the list page."""
    result = {}
    for match in re.finditer(r"<tr>\s*<th class=\"field-name\">(.*?)</tr>", html, re.S):
        cells = re.findall(r"<(?:th|td)[^>]*>(.*?)</(?:th|td)>", match.group(0), re.S)
        name = re.sub(r"<[^>]+>", "", cells[0]).strip()
        result[name] = [re.sub(r"<[^>]+>", "", c).strip() for c in cells[1:]]
    return result


def test_list_shows_live_channels_with_kinds_and_counts_and_filters(
    live_settings, admin_client, pusher_js
):
    ann = pusher_js(authorizer=local_authorizer("ann"))
    ben = pusher_js(authorizer=local_authorizer("ben"))
    for client in (ann, ben):
        client.subscribed("presence-adm-list")
    ann.subscribed("private-encrypted-adm-list")
    ann.subscribed("cache-adm-list")

    page = admin_client.get(LIST)
    assert page.status_code == 200
    listed = rows(page.content.decode())
    assert listed["presence-adm-list"] == ["presence", "2", "2"]
    assert listed["private-encrypted-adm-list"] == ["private encrypted", "1", "\N{EN DASH}"]
    assert listed["cache-adm-list"][0] == "cache"
    assert "Live Pusher channels" in page.content.decode()

    by_prefix = rows(admin_client.get(LIST, {"starts_with": "presence-adm"}).content.decode())
    assert list(by_prefix) == ["presence-adm-list"]
    assert by_prefix["presence-adm-list"][2] == "2"
    by_kind = rows(admin_client.get(LIST, {"kind": "private_encrypted"}).content.decode())
    assert "private-encrypted-adm-list" in by_kind
    assert "presence-adm-list" not in by_kind


def test_detail_shows_presence_users_with_terminate_buttons(live_settings, admin_client, pusher_js):
    for user in ("amy", "bo"):
        pusher_js(authorizer=local_authorizer(user)).subscribed("presence-adm-detail")
    html = admin_client.get(detail("presence-adm-detail")).content.decode()
    assert sorted(re.findall(r'class="user-id">(.*?)<', html)) == ["amy", "bo"]
    assert f"{detail('presence-adm-detail')}terminate/amy/" in html
    assert '<span id="channel-users">2</span>' in html


def test_terminate_confirms_then_disconnects_the_signed_in_client(
    broadcasting, settings, admin_client, pusher_js
):
    """Goes through the Celery task, since the test settings configure a broker."""
    settings.PUSHER = {**settings.PUSHER, "ADMIN": {"CACHE_SECONDS": 0}}
    victim = pusher_js(authorizer=local_authorizer("victim"))
    bystander = pusher_js(authorizer=local_authorizer("bystander"))
    for client in (victim, bystander):
        client.send("signin")
        client.wait_for("signin_success")
        client.subscribed("presence-adm-term")
    url = f"{detail('presence-adm-term')}terminate/victim/"
    confirm = admin_client.get(url)
    assert confirm.status_code == 200
    assert "csrfmiddlewaretoken" in confirm.content.decode()
    assert victim.find("pusher_error") == []
    done = admin_client.post(url, follow=True)
    assert "victim" in done.content.decode()
    assert victim.wait_for("pusher_error", timeout=15)["data"]["code"] == 4009
    time.sleep(0.3)
    assert bystander.find("pusher_error") == []


def test_trigger_form_delivers_plain_and_encrypted_events_and_refuses_bad_json(
    live_settings, admin_client, pusher_js
):
    reader = pusher_js(authorizer=local_authorizer("reader"))
    for channel in ("private-adm-trig", "private-encrypted-adm-trig"):
        reader.subscribed(channel)
        response = admin_client.post(
            detail(channel), {"event": "admin-test", "payload": '{"hello": "admin ✓"}'}, follow=True
        )
        assert "triggered" in response.content.decode()
        event = reader.wait_for("event", channel=channel, event="admin-test")
        assert event["data"] == {"hello": "admin ✓"}
    bad = admin_client.post(detail("private-adm-trig"), {"event": "oops", "payload": "{not json"})
    assert "This is not valid JSON" in bad.content.decode()
    reserved = admin_client.post(detail("private-adm-trig"), {"event": "pusher:x", "payload": "{}"})
    assert "reserved" in reserved.content.decode()
    time.sleep(0.3)
    assert reader.find("event", event="oops") == []


def test_permissions(live_settings, client, django_user_model):
    anonymous = client.get(LIST)
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]
    no_perm = staff(django_user_model)
    assert no_perm.get(LIST).status_code == 403
    assert no_perm.get(detail("presence-x")).status_code == 403


def test_view_only_staff_sees_but_cannot_act(live_settings, django_user_model, pusher_js):
    pusher_js(authorizer=local_authorizer("seen")).subscribed("presence-adm-perm")
    viewer = staff(django_user_model, "view_channel")
    assert viewer.get(LIST).status_code == 200
    page = viewer.get(detail("presence-adm-perm")).content.decode()
    assert "seen" in page
    assert "trigger-form" not in page
    assert "Terminate connections" not in page
    assert (
        viewer.post(detail("presence-adm-perm"), {"event": "x", "payload": "{}"}).status_code == 403
    )
    assert viewer.post(f"{detail('presence-adm-perm')}terminate/seen/").status_code == 403


def test_unreachable_pusher_and_bad_credentials_are_messages_not_errors(
    soketi, settings, admin_client
):
    settings.PUSHER = {**soketi.pusher_settings(), "PORT": free_port(), "TIMEOUT": 1}
    down = admin_client.get(LIST)
    assert down.status_code == 200
    assert "Listing channels failed" in down.content.decode()
    settings.PUSHER = soketi.pusher_settings(SECRET="not-the-secret")
    refused = admin_client.get(detail("presence-x"))
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "failed" in html
    assert "not-the-secret" not in html
    assert APP_SECRET not in html
