"""Headless Chromium for the end-to-end tests (Debian's /usr/bin/chromium; Playwright's own
browser downloads are not used). Every test here is marked ``browser``: tests/conftest.py
skips them when Chromium is missing, except under CI, where that stops the run."""

import os

import pytest
from playwright.sync_api import expect

from accounts.selectors import two_factor_required
from tests.auth import totp_code, totp_device_for
from tests.services_check import CHROMIUM

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "kobling-test"
# Assertions wait as long as actions do: under CI's load (three pytest workers, Celery workers and
# Chromium on two cores) a page that posts, redirects and renders the dashboard took over the
# default 5 s once.
ACTION_TIMEOUT_MS = 15_000
expect.set_options(timeout=ACTION_TIMEOUT_MS)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per module. Playwright's sync API keeps an event loop running in this
    thread, which makes Django refuse database calls; they are synchronous all the same, so
    Django is told to allow them while the browser is up, and only then."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def open_as(browser, live_server):
    """``open_as(user)`` gives a logged-in page in its own browser context (bokmål, 24 h).
    Staff type the code of their authenticator (made here if they have none) after the
    password."""
    contexts = []

    def open_page(user, width=1024):
        context = browser.new_context(
            base_url=live_server.url, locale="nb-NO", viewport={"width": width, "height": 800}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        device = totp_device_for(user) if two_factor_required(user) else None
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("form:has(#id_password) button[type=submit]")
        if device is not None:
            page.wait_for_url("**/accounts/two-factor/**")
            page.fill("#id_code", totp_code(device))
            page.click("form:has(#id_code) button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_page
    for context in contexts:
        context.close()
