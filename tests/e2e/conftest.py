"""Headless Chromium for the end-to-end tests (Debian's /usr/bin/chromium; Playwright's own
browser downloads are not used). Every test here is marked ``browser``: tests/conftest.py
skips them when Chromium is missing, except under CI, where that stops the run."""

import os
import time

import pytest
from django.db import connection
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


class BrowserTraffic:
    """What the test's pages asked the live server, what came back, which page each then showed
    and what the browser complained of (a form blocked by the content security policy, say):
    when a test fails waiting for a page, this says whether the request was sent at all and
    which one got no answer."""

    def __init__(self):
        self.started = time.monotonic()
        self.events: list[str] = []
        self.unanswered: dict[object, str] = {}

    def watch(self, page, name: str) -> None:
        page.on("request", lambda request: self._sent(name, request))
        page.on("response", lambda response: self._answered(name, response.request, response))
        page.on("requestfailed", lambda request: self._answered(name, request, None))
        page.on("framenavigated", lambda frame: self._shown(name, page, frame))
        page.on("console", lambda message: self._complaint(name, message))
        page.on("pageerror", lambda error: self._note(f"!! {name}: script error {error}"))

    def _shown(self, name, page, frame) -> None:
        if frame == page.main_frame:
            self._note(f"== {name} shows {frame.url}")

    def _complaint(self, name, message) -> None:
        if message.type in ("error", "warning"):
            self._note(f"!! {name}: console {message.type}: {message.text}")

    def _sent(self, name, request) -> None:
        if "/static/" in request.url:
            return
        line = f"{name}: {request.method} {request.url}"
        self.unanswered[request] = line
        self._note(f"-> {line}")

    def _answered(self, name, request, response) -> None:
        if self.unanswered.pop(request, None) is None:
            return
        outcome = response.status if response else f"failed ({request.failure})"
        self._note(f"<- {name}: {outcome} {request.method} {request.url}")

    def _note(self, line: str) -> None:
        self.events.append(f"{time.monotonic() - self.started:7.2f} s {line}")

    def summary(self) -> str:
        waiting = "\n".join(self.unanswered.values()) or "none"
        return "\n".join([*self.events[-40:], "", f"Unanswered at the failure: {waiting}"])


def database_waits() -> str:
    """Other sessions on the test database that are busy or in a transaction, and the locks
    waited for: a page that never arrives is often a request waiting for a lock."""
    if connection.vendor != "postgresql":
        return "not PostgreSQL"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start, left(query, 160)"
            " FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state <> 'idle'"
        )
        sessions = cursor.fetchall()
        cursor.execute(
            "SELECT pid, locktype, relation::regclass::text, mode FROM pg_locks WHERE NOT granted"
        )
        waits = cursor.fetchall()
    lines = [f"session {row}" for row in sessions] + [f"waits for {row}" for row in waits]
    return "\n".join(lines) or "no other session busy, no lock waited for"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    traffic = getattr(item, "browser_traffic", None)
    if report.when == "call" and report.failed and traffic is not None:
        report.sections.append(("Browser traffic", traffic.summary()))
        try:
            report.sections.append(("Database sessions", database_waits()))
        except Exception as error:  # a diagnostic must not hide the failure
            report.sections.append(("Database sessions", f"not read: {error!r}"))


@pytest.fixture
def open_as(browser, live_server, request):
    """``open_as(user)`` gives a logged-in page in its own browser context (bokmål, 24 h).
    Staff type the code of their authenticator (made here if they have none) after the
    password."""
    contexts = []
    traffic = request.node.browser_traffic = BrowserTraffic()

    def open_page(user, width=1024):
        context = browser.new_context(
            base_url=live_server.url, locale="nb-NO", viewport={"width": width, "height": 800}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(ACTION_TIMEOUT_MS)
        traffic.watch(page, user.username)
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
