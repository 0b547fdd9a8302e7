"""The documentation's client and listener examples, run against a real soketi."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from pusher_django.signals import member_added
from tests.support.auth import local_authorizer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("soketi_settings")]

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def run(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name))


def test_the_client_tour_runs_and_reaches_a_subscriber(pusher_js):
    browser = pusher_js(authorizer=local_authorizer())
    browser.subscribed("orders")
    names = run("client.py")
    assert browser.wait_for("event", event="order.created")["data"] == {"id": 42}
    assert len(names["secret"]) == 44  # base64 of the 32-byte channel secret


def test_including_the_sender(pusher_js):
    browser = pusher_js(authorizer=local_authorizer("ann"))
    browser.subscribed("private-room-1")
    run("sender.py")
    browser.wait_for("event", event="refresh")


def test_the_listener_from_python(capsys):
    run("listener_api.py")
    assert "connected" in capsys.readouterr().out


def test_the_greeting_bot(pusher_js):
    names = run("bot.py")
    bot, greet = names["bot"], names["greet"]
    try:
        bot.wait_connected(10)
        visitor = pusher_js(authorizer=local_authorizer("ann", user_info={"name": "Ann"}))
        visitor.subscribed("presence-lobby")
        assert visitor.wait_for("event", event="client-greeting")["data"] == {
            "text": "Welcome, Ann!"
        }
    finally:
        member_added.disconnect(greet)
        bot.stop()
