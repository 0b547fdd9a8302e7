"""The demo's rough edges, each fixed and seen in Chromium, on the demo ``scripts/demo.sh`` starts.

One demo (its own soketi, worker, relay, supervised listener and runserver on free
ports) serves the module; the browsers log in as the seeded users.
"""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from pusher_django.client import get_client
from pusher_django.presence import listener_user_id
from tests.integration.test_demo_command import (
    Demo,
    demo,
    demo_broker,
    login,
    online,
    status,
    texts,
)
from tests.support.browser import admin_login, chromium, screenshot, wait
from tests.support.processes import ROOT, log_path, wait_until

__all__ = [
    "demo",
    "demo_broker",
]  # the module-scoped fixtures, shared with the demo command's tests

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def demo_rest(demo: Demo, settings: Any) -> Demo:
    """This process's client pointed at the demo's soketi app."""
    settings.PUSHER = {
        "APP_ID": "100001",
        "KEY": "demo-key",
        "SECRET": "demo-secret",
        "HOST": "127.0.0.1",
        "PORT": demo.soketi_port,
        "USE_TLS": False,
    }
    return demo


@pytest.fixture
def browsers() -> Iterator[list[WebDriver]]:
    opened: list[WebDriver] = []
    yield opened
    for driver in opened:
        driver.quit()


def browser(opened: list[WebDriver]) -> WebDriver:
    driver = chromium()
    opened.append(driver)
    return driver


def members(channel: str) -> set[str]:
    return {str(user["id"]) for user in get_client().get_users(channel)["users"]}


def wait_for_listener(channel: str = "presence-room-1") -> None:
    wait_until(lambda: listener_user_id() in members(channel), 30, "the demo's listener")


def post(driver: WebDriver, room: int, texts_: list[str]) -> None:
    """Post messages from the page itself (its session, its CSRF token)."""
    driver.execute_async_script(
        """
        const [room, items, done] = arguments;
        const token = PusherDjango.config().csrfToken;
        (async () => {
          for (const text of items) {
            const body = new FormData(); body.append('text', text);
            const headers = {'X-CSRFToken': token};
            await fetch(`/rooms/${room}/messages/`, {method: 'POST', body, headers});
          }
        })().then(() => done());
        """,
        room,
        texts_,
    )


def send(driver: WebDriver, text: str) -> None:
    driver.find_element(By.CSS_SELECTOR, "#message-form input[name=text]").send_keys(text)
    driver.find_element(By.CSS_SELECTOR, "#message-form button").click()


def test_counts_leave_the_listener_out(demo_rest: Demo, browsers: list[WebDriver]) -> None:
    wait_for_listener()
    alice = browser(browsers)
    login(alice, demo_rest.base, "alice")
    wait(alice, lambda d: online(d) == {"alice"})
    time.sleep(1)  # a listener member would have been rendered by now
    assert online(alice) == {"alice"}
    alice.get(f"{demo_rest.base}/")  # the list page joins each room's presence as alice
    wait(alice, lambda d: texts(d, "#rooms .online-count")[0] == "1 online")
    bob = browser(browsers)
    login(bob, demo_rest.base, "bob")
    wait(alice, lambda d: texts(d, "#rooms .online-count")[0] == "2 online")
    assert listener_user_id() in members("presence-room-1")  # the server still counts it
    screenshot(alice, "demo-room-list-true-counts")


def test_room_page_empty_state_newest_messages_scrolling_and_own_highlight(
    demo: Demo, browsers: list[WebDriver]
) -> None:
    alice = browser(browsers)
    login(alice, demo.base, "alice")
    alice.get(f"{demo.base}/rooms/2/")
    wait(alice, lambda d: d.find_element(By.ID, "state").text == "connected")
    assert texts(alice, "#messages li") == ["No messages yet. Say hello!"]
    screenshot(alice, "demo-empty-room")

    post(alice, 2, [f"note {n}" for n in range(1, 106)])
    alice.refresh()
    wait(alice, lambda d: d.find_element(By.ID, "state").text == "connected")
    shown = texts(alice, "#messages li")
    assert len(shown) == 100
    assert shown[0].endswith("note 6")
    assert shown[-1].endswith("note 105")  # the newest, not the oldest
    assert len(alice.find_elements(By.CSS_SELECTOR, "#messages li.mine")) == 100
    scroll = alice.execute_script(
        "const l = document.getElementById('messages');"
        "return [l.scrollHeight, l.clientHeight, l.scrollTop, document.body.scrollHeight,"
        " window.innerHeight]"
    )
    assert scroll[0] > scroll[1]  # the list scrolls...
    assert scroll[2] + scroll[1] >= scroll[0] - 2  # ...and starts at the newest
    assert scroll[3] <= scroll[4] + 200  # the page does not grow with the list
    screenshot(alice, "demo-newest-100-scrolling-own-highlight")


def open_room_admin(driver: WebDriver, base: str) -> None:
    """Sign in to the admin as bob (a demo superuser) and open room 1's live channel page."""
    admin_login(driver, base, "/admin/pusher_django/delivery/?status=all", "bob", "bob-demo")
    driver.get(f"{base}/admin/pusher_django/channel/live/presence-room-1/")


def test_last_seen_updates_live(demo: Demo, browsers: list[WebDriver]) -> None:
    alice, bob = browser(browsers), browser(browsers)
    login(alice, demo.base, "alice")
    login(bob, demo.base, "bob")
    wait(alice, lambda d: "bob: online" in texts(d, "#last-seen li"))
    bob.get("about:blank")
    wait(
        alice,
        lambda d: any(t.startswith("bob: ") and "ago" in t for t in texts(d, "#last-seen li")),
    )
    screenshot(alice, "demo-last-seen-live")


def test_admin_test_event_shows_in_the_room(demo: Demo, browsers: list[WebDriver]) -> None:
    alice, bob = browser(browsers), browser(browsers)
    login(alice, demo.base, "alice")
    open_room_admin(bob, demo.base)
    bob.find_element(By.CSS_SELECTOR, "input[type=submit][value=Trigger]").click()
    wait(alice, lambda d: any("admin test event" in t for t in texts(d, "#messages li")))
    screenshot(alice, "demo-admin-test-event-shown")


def test_deliveries_admin_is_read_only_with_one_remove_action(
    demo: Demo, browsers: list[WebDriver]
) -> None:
    bob = browser(browsers)
    login(bob, demo.base, "bob")
    post(bob, 1, ["a delivery to look at"])  # the list has a row whichever test runs first
    bob.get(f"{demo.base}/admin/pusher_django/delivery/?status=all")  # bob is staff
    wait(bob, lambda d: d.find_elements(By.ID, "result_list"))
    actions = [o.text for o in bob.find_elements(By.CSS_SELECTOR, "select[name=action] option")]
    assert not any("Delete selected" in a for a in actions)
    assert any("Discard" in a for a in actions)
    widths = bob.execute_script(
        "const r = document.querySelector('#changelist .results');"
        "return [r.scrollWidth, r.clientWidth, document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths  # every column visible, no sideways scrolling
    assert widths[2] <= widths[3], widths
    screenshot(bob, "demo-deliveries-1280px")
    bob.find_element(By.CSS_SELECTOR, "#result_list tbody th a").click()
    wait(bob, lambda d: "View delivery" in d.title)
    assert "Change delivery" not in bob.page_source
    assert not bob.find_elements(By.CSS_SELECTOR, "input[name=_save]")
    screenshot(bob, "demo-view-delivery")


def test_terminated_tab_says_so_and_reconnects(demo_rest: Demo, browsers: list[WebDriver]) -> None:
    alice, bob = browser(browsers), browser(browsers)
    login(alice, demo_rest.base, "alice")
    open_room_admin(bob, demo_rest.base)
    wait(bob, lambda d: d.find_elements(By.ID, "presence-users"))
    listener_row = bob.find_element(By.CSS_SELECTOR, "#presence-users tr.listener")
    assert "listener" in listener_row.text
    assert not listener_row.find_elements(By.CSS_SELECTOR, "a.terminate")
    screenshot(bob, "demo-admin-listener-labelled")
    alice_id = bob.execute_script(
        "return [...document.querySelectorAll('#presence-users tr')]"
        ".find(r => r.innerText.includes('alice')).querySelector('.user-id').innerText"
    )
    bob.get(
        f"{demo_rest.base}/admin/pusher_django/channel/live/presence-room-1/terminate/{alice_id}/"
    )
    assert f"alice (user {alice_id})" in bob.find_element(By.ID, "content").text
    screenshot(bob, "demo-terminate-confirmation-names-user")
    bob.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    wait(alice, lambda d: d.find_element(By.ID, "kicked").is_displayed(), 20)
    assert "Disconnected by the server" in alice.find_element(By.ID, "kicked").text
    assert not alice.find_element(By.CSS_SELECTOR, "#message-form button").is_enabled()
    assert online(alice) == set()
    screenshot(alice, "demo-terminated-tab")
    alice.find_element(By.ID, "reconnect").click()
    wait(alice, lambda d: d.find_element(By.ID, "state").text == "connected", 20)
    assert alice.find_element(By.CSS_SELECTOR, "#message-form button").is_enabled()
    wait(alice, lambda d: "alice" in online(d))


def _listener_pids(demo: Demo) -> list[int]:
    """The pusher_listen processes of the demo this module started (known by its port)."""
    found = []
    marker = f"SOKETI_PORT={demo.soketi_port}".encode()
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            environment = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # gone, or not a process
            continue
        if b"pusher_listen" in args and b"manage.py" in args and marker in environment:
            found.append(int(proc.name))
    return found


def test_supervisor_restarts_a_listener_that_exits(demo_rest: Demo) -> None:
    wait_for_listener()
    (pid,) = _listener_pids(demo_rest)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: _listener_pids(demo_rest) not in ([], [pid]), 30, "a new listener")
    wait_for_listener()
    assert status(f"{demo_rest.base}/accounts/login/") == 200
    assert "restarting in 2 s" in log_path("demo-command.log").read_text()


def test_going_offline_really_cuts_the_connection_and_recovers(
    demo: Demo, browsers: list[WebDriver]
) -> None:
    alice, bob = browser(browsers), browser(browsers)
    login(alice, demo.base, "alice")
    login(bob, demo.base, "bob")
    wait(bob, lambda d: "alice" in online(d))
    alice.find_element(By.ID, "offline").click()
    wait(bob, lambda d: "alice" not in online(d))  # the server saw the socket close
    assert alice.execute_script("return document.getElementById('state').innerText").startswith(
        "offline"
    )
    screenshot(alice, "demo-offline")
    send(bob, "sent while alice was away")
    time.sleep(2)
    assert not any("sent while alice was away" in t for t in texts(alice, "#messages li"))
    wait(
        alice, lambda d: any("sent while alice was away" in t for t in texts(d, "#messages li")), 30
    )
    assert alice.find_element(By.ID, "state").text == "connected"
    screenshot(alice, "demo-recovered-after-offline")


def test_favicon_time_zone_url_and_logs(demo: Demo) -> None:
    with urllib.request.urlopen(f"{demo.base}/favicon.ico", timeout=5) as icon:
        assert icon.headers["Content-Type"].startswith("image/svg")
    assert status(f"{demo.base}/no-such-page/") == 0  # 404
    time.sleep(0.5)
    log = log_path("demo-command.log").read_text()
    assert log.count("Not Found: /no-such-page/") == 1
    opened = log.index("[demo] open http://")
    assert "GET /accounts/login/" in log[:opened]  # printed once Django answered
    demo_requirements = (ROOT / "requirements-demo.txt").read_text()
    assert "pytest" not in demo_requirements
    assert "selenium" not in demo_requirements
    assert "requirements-demo.txt" in (ROOT / "scripts" / "demo.sh").read_text()
    from demo_project import settings as demo_settings

    assert demo_settings.TIME_ZONE == "UTC"
