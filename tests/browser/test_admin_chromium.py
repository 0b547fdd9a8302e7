"""The channels admin in headless Chromium: log in, list, open a presence channel."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By

from tests.support.auth import local_authorizer
from tests.support.browser import admin_login, chromium, screenshot, wait

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_operator_sees_channels_and_presence_users(
    live_server: Any, soketi_settings: Any, settings: Any, pusher_js: Any, django_user_model: Any
) -> None:
    settings.PUSHER = {**settings.PUSHER, "ADMIN": {"CACHE_SECONDS": 0}}
    django_user_model.objects.create_superuser("operator", "op@example.com", "operator-pw")
    for user in ("ada", "grace"):
        pusher_js(authorizer=local_authorizer(user)).subscribed("presence-browser-room")
    driver = chromium()
    try:
        admin_login(
            driver, live_server.url, "/admin/pusher_django/channel/", "operator", "operator-pw"
        )
        assert "Live Pusher channels" in driver.title
        screenshot(driver, "admin-channel-list")
        driver.find_element(By.LINK_TEXT, "presence-browser-room").click()
        wait(driver, lambda d: d.find_elements(By.ID, "presence-users"))
        users = sorted(
            e.text for e in driver.find_elements(By.CSS_SELECTOR, "#presence-users .user-id")
        )
        assert users == ["ada", "grace"]
        assert driver.find_element(By.ID, "channel-users").text == "2"
        path = screenshot(driver, "admin-presence-channel")
        assert path.stat().st_size > 10_000
    finally:
        driver.quit()
