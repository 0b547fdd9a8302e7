"""Headless Chromium from Debian's packages, driven by Selenium through chromedriver.

Selenium is pointed at ``/usr/bin/chromium`` and ``/usr/bin/chromedriver``
explicitly, so Selenium Manager never downloads a browser or a driver.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
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


def screenshot(driver: WebDriver, name: str) -> Path:
    path = log_path(f"screenshots/{name}.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
