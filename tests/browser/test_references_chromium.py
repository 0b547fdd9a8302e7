"""Large events sent by reference reach a page whole, in order, or as a clear failure.

Real pusher-js in headless Chromium with the shipped helper (``connect()`` and
``recover()``), the session's soketi, a Celery worker delivering the outbox,
the page's own requests to ``pusher/history/``, and Chromium's offline mode.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.test import Client
from selenium.webdriver.remote.webdriver import WebDriver

from pusher_django.client import get_client
from pusher_django.models import Delivery
from pusher_django.outbox import trigger_on_commit
from pusher_django.outbox.writer import capturing
from tests.support.browser import chromium, offline, signed_in, value, wait
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BIG, SMALL = 100_000, 10


def open_page(live_server: Any, client: Client, channels: list[str]) -> WebDriver:
    driver = chromium()
    signed_in(driver, live_server.url, client.cookies["sessionid"].value)
    query = "&".join(f"channel={name}" for name in channels)
    driver.get(f"{live_server.url}/test-pages/references/?{query}")
    wait(driver, lambda d: value(d, "window.subscribed") == len(channels), 20)
    return driver


def login(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.create_user(username, password="pw"))
    return client


def notes(channel: str, sizes: list[int], start: int = 0) -> None:
    with transaction.atomic():
        for n, size in enumerate(sizes, start):
            trigger_on_commit(channel, "note", {"n": n, "text": "x" * size}, by_reference=True)


def received(driver: WebDriver, channel: str) -> list[dict[str, Any]]:
    return value(driver, f"window.received[{channel!r}]")  # type: ignore[no-any-return]


def test_a_100_kb_event_arrives_whole_and_in_order_on_a_plain_and_an_encrypted_channel(
    live_server: Any, broadcasting: Any
) -> None:
    plain, encrypted = "private-room-7", "private-encrypted-room-7"
    driver = open_page(live_server, login("member"), [plain, encrypted])
    try:
        sizes = [SMALL, BIG, SMALL, SMALL, BIG, SMALL]
        notes(plain, sizes)
        notes(encrypted, sizes)
        wait(driver, lambda d: [len(received(d, c)) for c in (plain, encrypted)] == [6, 6], 30)
        assert Delivery.objects.filter(is_reference=True).count() == 4
        for channel in (plain, encrypted):
            got = received(driver, channel)
            assert [(e["n"], e["size"], e["whole"]) for e in got] == [
                (n, size, True) for n, size in enumerate(sizes)
            ]
            ids = list(Delivery.objects.filter(channel=channel).order_by("id").values_list("id"))
            assert [e["id"] for e in got] == [row[0] for row in ids]
        assert value(driver, "window.failures") == []
    finally:
        driver.quit()


def test_a_user_who_may_no_longer_read_the_channel_gets_the_error_event_not_the_data(
    live_server: Any, broadcasting: Any
) -> None:
    channel = "private-vip-lounge"
    client = login("guest")
    session = SessionStore(session_key=client.cookies["sessionid"].value)
    session["vip"] = True
    session.save()
    driver = open_page(live_server, client, [channel])
    try:
        session["vip"] = False  # the rule now refuses this user
        session.save()
        notes(channel, [BIG, SMALL])
        wait(driver, lambda d: len(received(d, channel)) == 1, 30)
        big = Delivery.objects.get(channel=channel, is_reference=True)
        assert value(driver, "window.failures") == [
            {"channel": channel, "event": "note", "id": big.pk, "reason": "refused", "status": 403}
        ]
        assert [e["n"] for e in received(driver, channel)] == [1]  # the small one still follows
        direct = client.get("/pusher/history/", {"channel": channel, "id": str(big.pk)})
        assert (direct.status_code, direct.json()) == (403, {"error": "Forbidden."})
        # Not a run of three: the page's random CSRF token once held "xxx".
        assert "x" * 100 not in value(driver, "document.documentElement.outerHTML")
    finally:
        driver.quit()


def test_a_reference_whose_event_is_gone_gives_the_error_event(
    live_server: Any, broadcasting: Any
) -> None:
    channel = "private-encrypted-room-8"
    driver = open_page(live_server, login("member"), [channel])
    try:
        with capturing(), transaction.atomic():  # written, never sent...
            trigger_on_commit(channel, "note", {"n": 0, "text": "x" * BIG}, by_reference=True)
            trigger_on_commit("private-room-9", "later", {})  # a newer event elsewhere
        gone = Delivery.objects.get(channel=channel).pk
        Delivery.objects.filter(pk=gone).delete()  # ...and pruned, as after OUTBOX["RETENTION"]
        get_client().trigger(channel, "note", {"_pusher_id": gone, "_pusher_ref": gone})
        notes(channel, [SMALL], start=1)
        wait(driver, lambda d: len(received(d, channel)) == 1, 30)
        failures = value(driver, "window.failures")
        assert [(f["id"], f["reason"], f["status"]) for f in failures] == [(gone, "expired", 410)]
        assert [e["n"] for e in received(driver, channel)] == [1]
    finally:
        driver.quit()


def test_a_client_event_that_looks_like_a_reference_is_delivered_as_it_is(
    live_server: Any, broadcasting: Any
) -> None:
    """A member cannot make other pages fetch a row: client events are never resolved."""
    channel = "presence-room-refs"  # anyone may join; soketi relays client events here
    sender = open_page(live_server, login("sender"), [channel])
    reader = open_page(live_server, login("reader"), [channel])
    try:
        notes(channel, [BIG])
        wait(reader, lambda d: len(received(d, channel)) == 1, 30)  # the server's event, whole
        assert received(reader, channel)[0]["whole"] is True
        row = Delivery.objects.get(channel=channel).pk
        forged = {"_pusher_ref": row}  # no _pusher_id: recovery would drop a repeated id
        sender.execute_script(
            "window.pusher.channel(arguments[0]).trigger('client-note', arguments[1]);",
            channel,
            forged,
        )
        wait(reader, lambda d: len(received(d, channel)) == 2, 30)
        assert received(reader, channel)[1] == {"client": forged}
        assert value(reader, "window.failures") == []
    finally:
        sender.quit()
        reader.quit()


def test_large_events_missed_while_offline_are_recovered_whole_and_in_order(
    live_server: Any, broadcasting: Any, soketi: Any, settings: Any
) -> None:
    """A catch-up lists them as references; the page resolves each one, in order."""
    network = TcpProxy(soketi.port)  # the page's websocket goes through it
    settings.PUSHER = {**settings.PUSHER, "WS_PORT": network.port}
    channel = "private-encrypted-room-9"
    driver = open_page(live_server, login("member"), [channel])
    try:
        notes(channel, [SMALL])
        wait(driver, lambda d: len(received(d, channel)) == 1, 20)
        offline(driver, True)
        network.down = True
        network.cut()
        wait(driver, lambda d: value(d, "pusher.connection.state") != "connected", 20)
        sizes = [BIG, SMALL, BIG]
        notes(channel, sizes, start=1)
        sent = Delivery.objects.filter(channel=channel, status=Delivery.Status.SENT)
        wait(driver, lambda d: sent.count() == 4, 20)
        offline(driver, False)
        network.down = False
        wait(driver, lambda d: value(d, "window.subscribed") == 2, 40)
        wait(driver, lambda d: len(received(d, channel)) >= 4, 30)
        got = received(driver, channel)
        assert [(e["n"], e["size"], e["whole"]) for e in got] == [
            (n, size, True) for n, size in enumerate([SMALL, *sizes])
        ]
        assert value(driver, "window.failures") == []
    finally:
        driver.quit()
        network.close()
