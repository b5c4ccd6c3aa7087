"""The journeys' pages (tests/journeys.py) in a browser, for a whole module of tests: one world
of data, one server and one signed-in browser context per reader and language, made once.

pytest-django's ``live_server`` empties the database after every test, which would rebuild the
world and sign everyone in again for each page. Here the world is committed when the module
starts and the tables are emptied when it ends, as after a transactional test, with a server of
the module's own in between. The module's page tests ask for no database fixture (they only
read pages), so pytest-django runs them after the transactional tests. pytest-django creates the
test database only if a test to be run asks for it: each module imports
``test_every_journey_page_is_a_page_of_the_portal``, which does, so that it also runs alone.
"""

import io
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, TransactionTestCase
from django.urls import resolve
from pytest_django.live_server_helper import LiveServer

from programmes.catalogue import activities_ensure
from tests.auth import login_verified
from tests.journeys import PAGES, READERS, JourneyPage, Journeys, build_journeys

LOCALES = {"nb": "nb-NO", "en": "en-GB"}
# Empties a text field or select; a group of radios or boxes is left unchosen as it is.
EMPTIED = "e => { if (!['radio', 'checkbox'].includes(e.type)) e.value = ''; }"


class ServedJourneys:
    def __init__(self, browser, server: LiveServer, world: Journeys) -> None:
        self.browser, self.server, self.world = browser, server, world
        self._pages: dict[tuple[str, str], object] = {}
        self.contexts: list = []

    def page_of(self, reader: str, language: str):
        """The reader's signed-in tab in ``language`` (the browser's Accept-Language), opened
        the first time it is asked for and reused after."""
        key = (reader, language)
        if key not in self._pages:
            context = self.browser.new_context(
                base_url=self.server.url,
                locale=LOCALES[language],
                viewport={"width": 1280, "height": 800},
            )
            self.contexts.append(context)
            user = self.world.users.get(reader)
            if user is not None:
                context.add_cookies([self._session_cookie(user)])
            page = context.new_page()
            page.set_default_timeout(15_000)
            self._pages[key] = page
        return self._pages[key]

    def open(self, journey_page: JourneyPage, language: str, width: int):
        """The page at ``width`` px, its form sent empty first if it has one to send."""
        page = self.page_of(journey_page.reader, language)
        page.set_viewport_size({"width": width, "height": 800})
        response = page.goto(journey_page.path_in(self.world))
        assert response is not None and response.ok, (journey_page.id, response)
        if journey_page.send_empty:
            field = f"[name={journey_page.send_empty}]"
            form = page.locator(f"form[method=post]:has({field})").first
            form.locator(field).first.evaluate(EMPTIED)
            form.locator("button[type=submit]").first.click()
            page.wait_for_load_state()
        return page

    def close(self) -> None:
        """Leave every page first, so that no request (a favicon fetched after the page loaded)
        is still being served when the server stops."""
        for page in self._pages.values():
            page.goto("about:blank")
        time.sleep(0.5)
        for context in self.contexts:
            context.close()

    def _session_cookie(self, user) -> dict:
        """A session signed in and past the second factor, as the login pages leave it (the
        login pages have tests of their own)."""
        client = Client()
        login_verified(client, user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        return {"name": cookie.key, "value": cookie.value, "url": self.server.url}


@contextmanager
def journeys_served(browser, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_geodata", stdout=io.StringIO())
        activities_ensure()
        world = build_journeys()
        server = LiveServer("localhost")
        served = ServedJourneys(browser, server, world)
        try:
            yield served
        finally:
            served.close()
            server.stop()
            _flush()


@pytest.mark.django_db
def test_every_journey_page_is_a_page_of_the_portal():
    """The page list itself: each reader has pages, each page a view."""
    world = build_journeys()
    assert {page.reader for page in PAGES} == set(READERS)
    assert len({page.id for page in PAGES}) == len(PAGES)
    for page in PAGES:
        resolve(page.path_in(world))


class _Flush(TransactionTestCase):
    """Its teardown empties every table as after a transactional test (on PostgreSQL as the
    owner, tests/app_role.py)."""


def _flush() -> None:
    _Flush()._fixture_teardown()
