"""Rows that many tests of one module read, built once per module instead of once per test:
Django's ``TestCase.setUpTestData``, for pytest.

A module-scoped fixture opens a transaction and builds the rows in it (``module_rows``); every
test of the module that asks for them runs inside it (pytest-django's own transaction becomes a
savepoint, rolled back after each test) and gets a deep copy of the Python objects, so no test
sees another's changes. The transaction is rolled back when the module ends.

Any other test closes it first (``pytest_runtest_setup`` in tests/conftest.py calls
``before_setup``), so a test that does not ask for the rows, or that commits for real
(transactional tests, live servers), sees the database exactly as it would without them. A
test that asks for the rows after that builds them again inside its own transaction.
"""

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

_open: "ModuleRows | None" = None
# The test being set up (tests/conftest.py records it before its fixtures are made).
_current_item: Any = None


class ModuleRows:
    def __init__(self, fixture_name: str, build: Callable[[], Any], blocker) -> None:
        self.fixture_name, self.build, self.blocker = fixture_name, build, blocker
        self.atomic: transaction.Atomic | None = None
        self.value: Any = None

    def open(self) -> None:
        global _open
        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic.__enter__()
            self.value = self.build()
        _open = self

    def close(self) -> None:
        global _open
        if self.atomic is None:
            return
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        self.atomic, self.value, _open = None, None, None

    def for_test(self) -> Any:
        """A copy of the rows' objects if they are still open, else the rows built afresh in
        the test's own transaction."""
        if self.atomic is None:
            return self.build()
        return copy.deepcopy(self.value)


@contextmanager
def module_rows(fixture_name: str, build: Callable[[], Any], blocker) -> Iterator[ModuleRows]:
    """The rows, open unless the test that asked first commits: then every test builds its own."""
    rows = ModuleRows(fixture_name, build, blocker)
    if not _commits(_current_item):
        rows.open()
    try:
        yield rows
    finally:
        rows.close()


def before_setup(item) -> None:
    """Called before each test's fixtures are made."""
    global _current_item
    _current_item = item
    if _open is not None and not (_uses(item, _open.fixture_name) and not _commits(item)):
        _open.close()


def _uses(item, fixture_name: str) -> bool:
    return fixture_name in getattr(item, "fixturenames", ())


def _commits(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    fixtures = getattr(item, "fixturenames", ())
    return bool(transactional) or "transactional_db" in fixtures or "live_server" in fixtures
