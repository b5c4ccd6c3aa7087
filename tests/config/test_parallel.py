"""Each pytest-xdist worker's Redis databases (tests/parallel.py): its own, never another
worker's nor the one that tests share by turns."""

import pytest

from tests.parallel import worker_redis_url


def test_four_workers_on_the_default_urls_stay_below_the_shared_database():
    highest = [worker_redis_url(f"redis://127.0.0.1:6379/{n}", 3) for n in (0, 1, 2)]
    assert highest == [f"redis://127.0.0.1:6379/{n}" for n in (12, 13, 14)]


def test_a_worker_that_would_reach_the_shared_database_stops_the_run():
    with pytest.raises(pytest.UsageError, match="gw3 would need Redis database 15"):
        worker_redis_url("redis://127.0.0.1:6379/3", 3)
