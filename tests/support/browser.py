"""Headless Chromium from Debian's packages, driven by Selenium through chromedriver.

Selenium is pointed at ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``
explicitly, so Selenium Manager never downloads a browser or a driver.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from .processes import log_path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def chromium() -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(log_path("chromedriver.log")))
    return webdriver.Chrome(options=options, service=service)


def wait(
    driver: WebDriver, condition: Callable[[WebDriver], object], timeout: float = 15
) -> object:
    return WebDriverWait(driver, timeout).until(condition)


def screenshot(driver: WebDriver, name: str, *, full_page: bool = False) -> Path:
    path = log_path(f"screenshots/{name}.png")
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, int(height) + 120)
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


def admin_login(driver: WebDriver, base_url: str, next_path: str, user: str, password: str) -> None:
    """Sign in through the admin's login form and wait for the list it opens (empty or not)."""
    driver.get(f"{base_url}/admin/login/?next={next_path}")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # Live channel lists have a result list but no #changelist; an empty change list the reverse.
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#changelist, #result_list"))


def signed_in(driver: WebDriver, base_url: str, session_id: str) -> None:
    """Give the browser a Django session cookie (from ``Client.force_login``)."""
    driver.get(f"{base_url}/static/pusher-js/json2.js")  # any page of the origin
    driver.add_cookie({"name": "sessionid", "value": session_id})


def value(driver: WebDriver, expression: str) -> Any:
    """The page's ``expression``, evaluated in one script call."""
    return driver.execute_script(f"return {expression};")


def offline(driver: WebDriver, on: bool) -> None:
    """Chromium's offline mode: every request and the websocket fail while it is on."""
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
