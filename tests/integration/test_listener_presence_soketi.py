"""The listener left out of presence where people are shown or counted, against soketi."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from pusher_django.client import get_client
from pusher_django.listener import Listener
from pusher_django.presence import listener_user_id, people, user_count
from tests.support.auth import local_authorizer

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CHANNEL = "presence-listener-hidden"
DETAIL = f"/admin/pusher_django/channel/live/{CHANNEL}/"


@pytest.fixture
def joined(soketi_settings: Any, settings: Any, pusher_js: Any) -> Iterator[str]:
    """The listener and one person in CHANNEL, as the server sees them."""
    settings.PUSHER = {**settings.PUSHER, "ADMIN": {"CACHE_SECONDS": 0}}
    listener = Listener([CHANNEL])
    listener.start()
    try:
        listener.wait_connected(10)
        pusher_js(authorizer=local_authorizer("7")).subscribed(CHANNEL)
        deadline = time.monotonic() + 10
        while len(get_client().get_users(CHANNEL)["users"]) < 2:
            assert time.monotonic() < deadline, "the listener never joined"
            time.sleep(0.1)
        yield CHANNEL
    finally:
        listener.stop()


def test_people_and_user_count_leave_the_listener_out(joined):
    server_ids = {user["id"] for user in get_client().get_users(joined)["users"]}
    assert server_ids == {"7", listener_user_id()}  # what the server counts
    assert people(joined) == ["7"]
    assert user_count(joined) == 1


def test_admin_labels_the_listener_and_offers_no_terminate(joined, admin_client: Client):
    html = admin_client.get(DETAIL).content.decode()
    listener_row = html.split(f'<td class="user-id">{listener_user_id()}</td>')[1].split("</tr>")[0]
    assert "this site&#x27;s listener" in listener_row or "this site's listener" in listener_row
    assert "terminate" not in listener_row
    assert "/terminate/7/" in html

    url = f"{DETAIL}terminate/{listener_user_id()}/"
    refused = admin_client.post(url, follow=True)
    assert "listener" in refused.content.decode()
    assert refused.redirect_chain[-1][0] == DETAIL


def test_terminate_confirmation_names_the_user(joined, admin_client: Client, django_user_model):
    account = django_user_model.objects.create_user("carol", first_name="Carol", last_name="Ng")
    page = admin_client.get(f"{DETAIL}terminate/{account.pk}/").content.decode()
    assert f"Carol Ng (user {account.pk})" in page
