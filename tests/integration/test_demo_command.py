"""The README's demo command: all processes start, the chat works in two browsers, Ctrl-C stops.

The demo is started once for this module with ``scripts/demo.sh`` on free
ports (its own soketi, Celery worker, ``pusher_listen`` and runserver, or
uvicorn with ``PUSHER_DJANGO_TEST_SERVER=uvicorn``), then driven with
headless Chromium, then stopped with SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.support.asgi import SERVER
from tests.support.browser import chromium, screenshot, wait
from tests.support.processes import ROOT, free_port, log_path, port_open, wait_until
from tests.support.redis_server import redis_server

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


@dataclass
class Demo:
    base: str
    port: int
    soketi_port: int
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def demo_broker() -> Iterator[str]:
    """The demo's worker reads Celery's default queue: a Redis of its own, shared with no run."""
    with redis_server() as url:
        yield f"{url}/0"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_broker: str) -> Iterator[Demo]:
    demo_port, soketi_port = free_port(), free_port()
    env = dict(
        os.environ,
        DEMO_PORT=str(demo_port),
        SOKETI_PORT=str(soketi_port),
        SOKETI_METRICS_PORT=str(free_port()),
        DEMO_DB=str(Path(tmp_path_factory.mktemp("demo")) / "demo.sqlite3"),
        CELERY_BROKER_URL=demo_broker,
        DEMO_SERVER="uvicorn" if SERVER == "uvicorn" else "runserver",  # scripts/demo.sh --asgi
    )
    for name in ("PUSHER_URL", "PUSHER_APP_ID", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"):
        env.pop(name, None)
    log = log_path("demo-command.log").open("wb")
    process = subprocess.Popen(
        ["scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{demo_port}"
    try:
        wait_until(lambda: status(f"{base}/admin/login/") == 200, 180, "the demo's admin login")
        yield Demo(base, demo_port, soketi_port, process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            finally:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
        log.close()


def test_demo_serves_login_admin_and_pusher_js(demo: Demo) -> None:
    assert status(f"{demo.base}/accounts/login/") == 200
    assert status(f"{demo.base}/admin/login/") == 200
    assert status(f"{demo.base}/static/pusher-js/pusher-with-encryption.min.js") == 200
    assert port_open(demo.soketi_port)


def login(driver: WebDriver, base: str, user: str) -> None:
    driver.get(f"{base}/accounts/login/?next=/rooms/1/")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(f"{user}-demo")
    driver.find_element(By.ID, "login").click()
    wait(driver, lambda d: d.find_element(By.ID, "state").text == "connected", 20)


def texts(driver: WebDriver, selector: str) -> list[str]:
    """The items' texts read in one script call: the page redraws its lists at any time,
    so element handles kept between two WebDriver calls can go stale."""
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())"
    return list(driver.execute_script(script, selector))


def online(driver: WebDriver) -> set[str]:
    return set(texts(driver, "#online li"))


def messages_with(driver: WebDriver, text: str) -> int:
    return sum(text in item for item in texts(driver, "#messages li"))


def test_chat_presence_encryption_and_cache_in_two_browsers(demo: Demo) -> None:
    alice, bob = chromium(), chromium()
    carol = None
    try:
        login(alice, demo.base, "alice")
        login(bob, demo.base, "bob")
        wait(alice, lambda d: {"alice", "bob"} <= online(d))
        wait(bob, lambda d: {"alice", "bob"} <= online(d))
        screenshot(alice, "demo-alice-sees-bob")

        box = alice.find_element(By.CSS_SELECTOR, "#message-form input[name=text]")
        box.send_keys("hello from alice ✓")
        alice.find_element(By.CSS_SELECTOR, "#message-form button").click()
        wait(bob, lambda d: messages_with(d, "hello from alice ✓") == 1)
        wait(alice, lambda d: messages_with(d, "hello from alice ✓") == 1)
        time.sleep(1.5)  # a broadcast to the author would arrive by now
        assert messages_with(alice, "hello from alice ✓") == 1
        screenshot(bob, "demo-bob-receives-encrypted-message")

        alice.find_element(By.CSS_SELECTOR, "#announcement-form input").send_keys("Lunch at noon")
        alice.find_element(By.CSS_SELECTOR, "#announcement-form button").click()
        wait(bob, lambda d: d.find_element(By.ID, "announcement").text == "Lunch at noon")

        bob.get(f"{demo.base}/")  # the room list joins every room's presence in one request
        wait(bob, lambda d: all("online" in t for t in texts(d, "#rooms .online-count")))
        first_room = texts(bob, "#rooms .online-count")[0]
        assert first_room == "2 online"  # alice and bob; the listener is not a person
        screenshot(bob, "demo-room-list-online-counts")
        bob.get("about:blank")  # bob leaves
        wait(alice, lambda d: "bob" not in online(d))
        screenshot(alice, "demo-bob-left")

        carol = chromium()
        login(carol, demo.base, "carol")
        wait(carol, lambda d: d.find_element(By.ID, "announcement").text == "Lunch at noon")
        assert messages_with(carol, "hello from alice ✓") == 1  # history, server-rendered
        screenshot(carol, "demo-late-joiner-sees-cached-announcement")

        # The listener's receivers recorded bob's visit; the room page shows it.
        alice.refresh()
        wait(alice, lambda d: "bob:" in d.find_element(By.ID, "last-seen").text)
        assert "ago" in alice.find_element(By.ID, "last-seen").text
    finally:
        for driver in (alice, bob, carol):
            if driver is not None:
                driver.quit()


def test_demo_stops_every_process_on_ctrl_c(demo: Demo) -> None:
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(30) == 0
    wait_until(
        lambda: not port_open(demo.port) and not port_open(demo.soketi_port), 10, "ports freed"
    )
