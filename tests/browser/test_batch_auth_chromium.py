"""A page with 40 private, presence and encrypted channels authorizes them in one request.

Real pusher-js in headless Chromium, the shipped helper and template tag, a
dedicated soketi (it is restarted here), requests counted at the Django server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from selenium.webdriver.remote.webdriver import WebDriver

from pusher_django.client import get_client
from tests.support.browser import chromium, screenshot, signed_in, wait
from tests.support.soketi import Soketi
from tests.testapp import counting

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
BATCH = "/pusher/auth/batch/"
SINGLE = "/pusher/auth/"


@pytest.fixture
def own_soketi(settings: Any) -> Iterator[Soketi]:
    server = Soketi(name="soketi-batch")
    server.start()
    settings.PUSHER = server.pusher_settings()
    yield server
    server.stop()


def page_value(driver: WebDriver, expression: str) -> Any:
    return driver.execute_script(f"return {expression};")


def send_pings(channels: list[str], n: int) -> None:
    client = get_client()
    for name in channels:
        client.trigger(name, "ping", {"n": n})


def test_forty_channels_one_auth_request_and_one_again_after_a_restart(
    live_server: Any, own_soketi: Soketi
) -> None:
    client = Client()
    client.force_login(User.objects.create_user("member", password="member-pw"))
    driver = chromium()
    try:
        signed_in(driver, live_server.url, client.cookies["sessionid"].value)
        before = (counting.count(BATCH), counting.count(SINGLE))
        driver.get(f"{live_server.url}/test-pages/channels/?n=40")
        wait(driver, lambda d: page_value(d, "window.subscriptions") == 40, 30)
        assert page_value(driver, "window.failures") == []
        assert (counting.count(BATCH), counting.count(SINGLE)) == (before[0] + 1, before[1])
        channels = page_value(driver, "JSON.parse(document.getElementById('channels').textContent)")
        assert {name.split("-room-")[0] for name in channels} == {
            "private",
            "presence",
            "private-encrypted",
        }
        send_pings(channels, 1)
        wait(driver, lambda d: page_value(d, "window.received.length") == 40, 30)
        screenshot(driver, "batch-auth-40-channels")

        own_soketi.restart()
        wait(driver, lambda d: page_value(d, "window.subscriptions") == 80, 60)
        assert counting.count(BATCH) == before[0] + 2  # every re-subscription in one request
        assert counting.count(SINGLE) == before[1]
        send_pings(channels, 2)
        wait(driver, lambda d: page_value(d, "window.received.length") == 80, 30)
        received = page_value(driver, "window.received")
        assert sorted(received) == sorted([name, n] for name in channels for n in (1, 2))
    finally:
        driver.quit()
