"""Debian's Chromium driven through Selenium, kept off the network: no browser download, no updates,
no sync, and a fresh empty profile each time, so Chromium tries nothing beyond the page under test."""
from __future__ import annotations

import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)


def executables() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not browser or not driver:
        # imported only here: it imports pytest, which the benchmarks' environment (pictures.py) does not have
        from tests.support.system_packages import package_missing

        if not browser:
            package_missing("Chromium", "chromium")
        package_missing("Chromium's WebDriver (chromedriver)", "chromium-driver")
    return browser, driver


def start(profile: Path, width: int, height: int, mobile: bool = False) -> webdriver.Chrome:
    """Chromium with a window of width × height CSS pixels; mobile: a touch phone's viewport (a
    headless window cannot be narrower than 500 pixels, an emulated phone screen can)."""
    browser, driver = executables()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    if mobile:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0, "touch": True}})
    else:
        options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


def console_errors(browser: webdriver.Chrome) -> list[dict]:
    """Console entries at level SEVERE since the last call: JavaScript errors and failed requests."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
