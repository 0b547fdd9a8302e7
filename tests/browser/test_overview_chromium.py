"""Pusher → Overview in headless Chromium, filled by a real run: worker, listener, soketi.

Every process shares one Redis cache (the counters and heartbeats) and one
Prometheus multiprocess directory. Events go through the outbox to a real
Celery worker and soketi; ``pusher_listen`` joins a channel, which makes
soketi send a ``channel_occupied`` webhook to the live server. Then the
worker is stopped and the listener killed: the page must say at once that
deliveries stopped and that the replica is gone. Screenshots go to
``test-output/screenshots/overview-*.png``.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import transaction
from prometheus_client.parser import text_string_to_metric_families
from selenium.webdriver.common.by import By

from pusher_django.models import Delivery
from pusher_django.outbox import trigger_on_commit
from tests.support.browser import chromium, screenshot, wait
from tests.support.django_env import django_env
from tests.support.processes import ROOT, log_path, stop_process, wait_until
from tests.support.soketi import Soketi
from tests.support.worker import CeleryWorker

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CACHE_URL = "redis://127.0.0.1:6379/13"
EVENTS = 30
HEARTBEAT = 1.0


def text(driver: Any, element_id: str) -> str:
    return str(
        driver.execute_script(
            "var e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
            element_id,
        )
    )


def metric_values(body: str) -> dict[str, float]:
    """``{sample name with labels: value}`` of a text exposition."""
    values = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "le")
            if sample.name.endswith("_bucket"):
                continue
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Path]:
    """One Redis cache and one multiprocess directory for every process of the test."""
    prefix = f"overview-{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "prometheus"
    folder.mkdir()
    monkeypatch.setenv("TEST_CACHE_URL", CACHE_URL)
    monkeypatch.setenv("TEST_CACHE_PREFIX", prefix)
    monkeypatch.setenv("TEST_HEARTBEAT", str(HEARTBEAT))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield folder
    client = redis.Redis.from_url(CACHE_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_the_overview_shows_a_real_run_and_then_that_deliveries_stopped(
    live_server: Any,
    shared: Path,
    settings: Any,
    test_database: str,
    django_user_model: Any,
) -> None:
    channel = "health-ops"
    soketi = Soketi(
        name="soketi-overview",
        webhooks=[
            {
                "url": f"{live_server.url}/pusher/webhook/",
                "event_types": ["channel_occupied", "channel_vacated"],
            }
        ],
    )
    soketi.start()
    queue = f"overview-{uuid.uuid4().hex[:8]}"
    worker: CeleryWorker | None = None
    listener: subprocess.Popen[bytes] | None = None
    driver = None
    try:
        worker = CeleryWorker(soketi.port, test_database, queue=queue)
        settings.PUSHER = soketi.pusher_settings(
            # The worker sends, so that its counters and its metrics are the ones read below.
            CELERY={"QUEUE": queue},
            OUTBOX={"BACKLOG_WARNING": 3, "SEND_AT_COMMIT": False},
        )
        listener = subprocess.Popen(
            [sys.executable, "manage.py", "pusher_listen", "-c", channel],
            cwd=ROOT,
            env=django_env(soketi.port, test_database, queue),
            stdout=log_path("overview-listener.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        for number in range(EVENTS):
            with transaction.atomic():
                trigger_on_commit(f"private-room-{number % 3}", "message", {"n": number})
        wait_until(
            lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == EVENTS,
            60,
            "the worker to send every event",
        )

        django_user_model.objects.create_superuser("operator", "op@example.com", "operator-pw")
        driver = chromium()
        driver.get(f"{live_server.url}/admin/login/?next=/admin/pusher_django/overview/")
        driver.find_element(By.NAME, "username").send_keys("operator")
        driver.find_element(By.NAME, "password").send_keys("operator-pw")
        driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

        def healthy(d: Any) -> bool:
            d.refresh()
            replicas = text(d, "pusher-replicas")
            return "connected" in replicas and "1" in text(d, "pusher-webhooks")

        wait(driver, healthy, timeout=30)
        status = driver.find_element(By.ID, "pusher-status")
        assert status.get_attribute("data-status") == "ok"
        assert f"Sent\n{EVENTS}" in text(driver, "pusher-tiles")
        assert "private-room-0\t10" in text(driver, "pusher-top-channels")
        assert channel in text(driver, "pusher-replicas")
        assert "Webhook events received\t1" in text(driver, "pusher-webhooks")
        assert driver.find_elements(By.CSS_SELECTOR, "#pusher-latency-chart path")
        assert driver.find_elements(By.CSS_SELECTOR, "#pusher-throughput-chart path")
        screenshot(driver, "overview-healthy", full_page=True)

        body = driver.execute_script(
            "var r = new XMLHttpRequest(); r.open('GET', '/metrics/', false); r.send(null);"
            "return r.responseText;"
        )
        values = metric_values(str(body))
        assert values["pusher_django_events_sent_total"] == EVENTS  # from the worker
        assert values["pusher_django_delivery_latency_seconds_count"] == EVENTS
        assert values["pusher_django_listener_connected"] == 1  # from the listener
        assert values["pusher_django_outbox_backlog"] == 0  # measured by the scrape

        # The outage: no worker, and the listener dies without a word.
        worker.stop()
        worker = None
        listener.kill()
        listener.wait(10)
        for number in range(5):
            with transaction.atomic():
                trigger_on_commit("private-room-0", "message", {"late": number})
        time.sleep(3 * HEARTBEAT + 1)

        def stopped(d: Any) -> bool:
            d.refresh()
            return "gone" in text(d, "pusher-replicas") and bool(
                d.find_elements(By.CSS_SELECTOR, "#pusher-status[data-status='stopped']")
            )

        wait(driver, stopped, timeout=20)
        assert "Deliveries have stopped" in text(driver, "pusher-status")
        assert "5 events waiting" in text(driver, "pusher-status")
        assert "Pending\n5" in text(driver, "pusher-tiles")
        assert f"Enqueued\n{EVENTS + 5}" in text(driver, "pusher-tiles")
        screenshot(driver, "overview-stopped", full_page=True)
    finally:
        if driver is not None:
            driver.quit()
        if listener is not None:
            stop_process(listener)
        if worker is not None:
            worker.stop()
        soketi.stop()
