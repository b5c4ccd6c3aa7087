"""Test set-up shared by every app.

With CI=true the suite must run on the real PostgreSQL, Redis and Chromium, and as the
restricted database role the service uses (tests/app_role.py): if one is missing the run stops
at once with the reason, it never falls back. Without CI it runs on SQLite and skips, with the
reason shown, only the tests marked ``postgres``, ``broker`` or ``browser``.
"""

import io
import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from tests import app_role, services_check, shared_rows
from tests.clock import clock_at_noon  # noqa: F401  (a fixture for any test module)


def pytest_sessionstart(session):
    role = app_role.role_for_tests()
    problems = services_check.problems_for_ci(role) if settings.CI else []
    if problems:
        pytest.exit("CI=true but required services are missing:\n  " + "\n  ".join(problems), 3)
    # migrate's post_migrate grants the role its privileges when the test database is built.
    settings.DATABASE_APP_ROLE = role


def pytest_collection_modifyitems(config, items):
    skips = {
        "postgres": None
        if settings.DATABASE_IS_POSTGRES
        else "needs PostgreSQL: set DATABASE_URL=postgres://… (CI=true does)",
        "broker": None
        if settings.CELERY_BROKER_URL
        else "needs a Celery broker: set CELERY_BROKER_URL=redis://… (CI=true does)",
        # Under CI a missing Chromium has already stopped the run in pytest_sessionstart.
        "browser": None
        if os.access(services_check.CHROMIUM, os.X_OK)
        else f"needs Chromium at {services_check.CHROMIUM}: apt-get install chromium",
    }
    for item in items:
        for marker, reason in skips.items():
            if reason and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the bundled geodata once; tests read it and roll back around it. On PostgreSQL the
    tests then connect as the restricted role, if there is one (tests/app_role.py)."""
    with django_db_blocker.unblock():
        call_command("load_geodata", stdout=io.StringIO())
    if not settings.DATABASE_IS_POSTGRES:
        yield
        return
    with app_role.tests_run_as(settings.DATABASE_APP_ROLE):
        yield


@pytest.fixture
def geodata(transactional_db):
    """For transactional tests, whose flush empties every table between tests: the geodata,
    and the list of activities a migration wrote."""
    from programmes.catalogue import activities_ensure

    call_command("load_geodata", stdout=io.StringIO())
    activities_ensure()


@pytest.fixture(scope="module")
def world_rows(django_db_setup, django_db_blocker):
    # Imported here: this file loads before pytest-django has set Django up, and the world's
    # factories import models.
    from tests.world import build_world

    with shared_rows.module_rows("world", build_world, django_db_blocker) as rows:
        yield rows


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: what is kept there is keyed by ids (a person's
    dashboard figures, throttle counts) that the next test's rows reuse."""
    cache.clear()


@pytest.fixture
def world(world_rows, db):
    """The small world of tests/world.py, for the API, back-office, login and access-log tests:
    two centres with staff, coordinators, referrals at each step, a matched volunteer and an
    admin, built once per module (tests/shared_rows.py). Throttle counts start from zero."""
    cache.clear()
    return world_rows.for_test()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    shared_rows.before_setup(item)


@pytest.fixture
def eager_celery():
    """Run tasks in-process even where a broker is configured. For tests of what a task does;
    tests/matching/test_worker.py proves the path through the real broker and worker."""
    from core.celery_app import app

    was = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was


@pytest.fixture(autouse=True)
def english_messages():
    """Assertions read English; the portal's bokmål is tested through requests, whose
    LocaleMiddleware chooses the language itself."""
    with translation.override("en"):
        yield
