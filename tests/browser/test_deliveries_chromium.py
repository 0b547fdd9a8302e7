"""Pusher → Deliveries in headless Chromium: a refused event is visible, Retry sends it."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from pusher_django.models import Delivery
from pusher_django.outbox import relay, trigger_on_commit
from tests.support.auth import local_authorizer
from tests.support.browser import admin_login, chromium, screenshot, wait

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def body_text(driver: Any) -> str:
    """Read in one script call: the page may be replaced between two WebDriver calls."""
    return str(driver.execute_script("return document.body ? document.body.innerText : ''"))


def test_a_failed_delivery_is_shown_and_retried_from_the_admin(
    live_server: Any,
    broadcasting: Any,
    settings: Any,
    pusher_js: Any,
    django_user_model: Any,
) -> None:
    good = settings.PUSHER
    subscriber = pusher_js(authorizer=local_authorizer())
    subscriber.subscribed("private-encrypted-ops")
    # The cause: this process signs with a wrong secret, so soketi refuses (401, not retried).
    settings.PUSHER = {
        **good,
        "SECRET": "wrong-secret",
        "CELERY": {"QUEUE": "nobody-listens"},
        "OUTBOX": {"SEND_AT_COMMIT": False},  # the relay below makes the one attempt
    }
    trigger_on_commit("private-encrypted-ops", "deploy", {"version": "1.2.3"})
    assert relay.deliver().failed == 1
    row = Delivery.objects.get()
    assert row.status == Delivery.Status.FAILED
    settings.PUSHER = good  # the cause is fixed; Retry hands the row to the session's worker

    django_user_model.objects.create_superuser("operator", "op@example.com", "operator-pw")
    driver = chromium()
    try:
        admin_login(
            driver, live_server.url, "/admin/pusher_django/delivery/", "operator", "operator-pw"
        )
        assert "0 pending, 1 failed" in driver.find_element(By.ID, "pusher-backlog").text
        assert "failed" in driver.find_element(By.CSS_SELECTOR, "td.field-status").text
        assert "401" in driver.find_element(By.CSS_SELECTOR, "td.field-short_error").text
        screenshot(driver, "admin-deliveries-failed")
        driver.find_element(By.CSS_SELECTOR, f"input.action-select[value='{row.pk}']").click()
        Select(driver.find_element(By.NAME, "action")).select_by_value("retry_deliveries")
        driver.find_element(By.NAME, "index").click()
        wait(driver, lambda d: "queued again" in body_text(d))
        event = subscriber.wait_for("event", event="deploy", timeout=20)
        assert event["data"]["version"] == "1.2.3"
        assert event["data"]["_pusher_id"] == row.pk
        driver.refresh()
        wait(
            driver,
            lambda d: "1 pending" not in body_text(d) and "0 pending, 0 failed" in body_text(d),
        )
        screenshot(driver, "admin-deliveries-retried")
    finally:
        driver.quit()
    assert Delivery.objects.get().status == Delivery.Status.SENT
