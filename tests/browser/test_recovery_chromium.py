"""A tab that drops for a few seconds shows every message it missed, once and in order.

Real pusher-js in headless Chromium with the shipped recovery helper, the
session's soketi (restarted in the second test), Redis, a Celery worker
delivering the outbox, and Chromium's own offline mode.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from selenium.webdriver.remote.webdriver import WebDriver

from pusher_django.conf import get_config
from pusher_django.listener import Listener
from tests.support.browser import chromium, offline, screenshot, signed_in, value, wait
from tests.support.signals import SignalRecorder, record_signals
from tests.support.tcp_proxy import TcpProxy
from tests.testapp.models import Message, Room

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    with record_signals() as rec:
        yield rec


def open_page(live_server: Any, room: Room) -> WebDriver:
    client = Client()
    client.force_login(User.objects.create_user(f"reader{room.pk}", password="pw"))
    driver = chromium()
    signed_in(driver, live_server.url, client.cookies["sessionid"].value)
    driver.get(f"{live_server.url}/test-pages/recovery/{room.pk}/")
    wait(driver, lambda d: value(d, "window.subscriptions") == 1, 20)
    return driver


def save(room: Room, prefix: str, count: int) -> None:
    for n in range(count):
        with transaction.atomic():
            Message.objects.create(room=room, text=f"{prefix}{n}")


def test_a_tab_offline_for_five_seconds_gets_every_missed_message(
    live_server: Any, broadcasting: Any, soketi: Any, settings: Any, recorder: SignalRecorder
) -> None:
    network = TcpProxy(soketi.port)  # the page's websocket goes through it
    room = Room.objects.create(name="r")
    channel = f"private-encrypted-room-{room.pk}"
    listener = Listener([channel], config=get_config())  # on soketi directly, never cut
    listener.start()
    assert listener.wait_connected(10)
    settings.PUSHER = {**settings.PUSHER, "WS_PORT": network.port}
    driver = open_page(live_server, room)
    try:
        save(room, "live", 2)
        wait(driver, lambda d: value(d, "window.received.length") == 2, 20)
        offline(driver, True)
        network.down = True  # no new connection gets through...
        network.cut()  # ...and the open websocket dies, as when the network goes away
        wait(driver, lambda d: value(d, "document.getElementById('state').textContent")
             != "connected", 20)  # fmt: skip
        save(room, "missed", 10)
        time.sleep(5)
        assert value(driver, "window.received") == ["live0", "live1"]
        offline(driver, False)
        network.down = False
        wait(driver, lambda d: value(d, "window.subscriptions") == 2, 40)
        wait(driver, lambda d: value(d, "window.received.length") >= 12, 20)
        save(room, "after", 1)
        wait(driver, lambda d: value(d, "window.received.length") >= 13, 20)
        time.sleep(1)
        expected = ["live0", "live1"] + [f"missed{n}" for n in range(10)] + ["after0"]
        assert value(driver, "window.received") == expected
        screenshot(driver, "recovery-after-offline")
        heard = [e["data"]["text"] for e in recorder.of("event_received", channel=channel)]
        assert heard == expected  # the listener, connected throughout, saw them live
    finally:
        driver.quit()
        network.close()
        listener.stop()


def test_the_same_across_a_soketi_restart(live_server: Any, broadcasting: Any, soketi: Any) -> None:
    room = Room.objects.create(name="r")
    driver = open_page(live_server, room)
    try:
        save(room, "live", 1)
        wait(driver, lambda d: value(d, "window.received.length") == 1, 20)
        soketi.stop()
        save(room, "missed", 10)  # sent by the worker once soketi is back, or recovered
        time.sleep(2)
        soketi.start()
        wait(driver, lambda d: value(d, "window.subscriptions") == 2, 60)
        wait(driver, lambda d: value(d, "window.received.length") >= 11, 30)
        time.sleep(1)
        assert value(driver, "window.received") == ["live0"] + [f"missed{n}" for n in range(10)]
    finally:
        driver.quit()
