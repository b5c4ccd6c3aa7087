"""A fixed day for tests whose dates are counted from today.

A date taken when a module is imported goes stale if the run passes midnight (in Oslo, 23:00
UTC in winter) before the test runs; so these tests start the clock at noon on a fixed day.
"""

import datetime
import zoneinfo

import pytest
import time_machine

NOON = datetime.datetime(2026, 11, 18, 12, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Oslo"))
TODAY = NOON.date()


@pytest.fixture
def clock_at_noon():
    with time_machine.travel(NOON, tick=True) as traveller:
        yield traveller
