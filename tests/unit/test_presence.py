"""Which presence member is the listener, and the page config that tells the helper."""

from __future__ import annotations

import json

from django.template import Context, Template
from django.test import RequestFactory

from pusher_django.presence import is_listener, listener_user_id, without_listener


def test_the_listener_id_follows_the_setting(settings):
    assert listener_user_id() == "pusher-django-listener"
    settings.PUSHER = {**settings.PUSHER, "LISTENER": {"USER_ID": "bot-1"}}
    assert is_listener("bot-1")
    assert not is_listener("pusher-django-listener")


def test_without_listener_keeps_everyone_else_in_order():
    users: list[dict[str, object]] = [{"id": "2"}, {"id": "pusher-django-listener"}, {"id": 3}]
    assert without_listener(users) == [{"id": "2"}, {"id": 3}]


def test_pusher_js_config_passes_the_listener_id(settings):
    settings.PUSHER = {**settings.PUSHER, "LISTENER": {"USER_ID": "bot-1"}}
    request = RequestFactory().get("/")
    html = Template("{% load pusher_django %}{% pusher_js_config %}").render(
        Context({"request": request})
    )
    data = json.loads(html.split('type="application/json">')[1].split("</script>")[0])
    assert data["listenerId"] == "bot-1"
