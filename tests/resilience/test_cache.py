"""With the cache's Redis unreachable the API still answers, and its limits still hold: each
process counts in its own memory until Redis is back."""

import logging
import time

import pytest
from django.core.cache import caches

from core.cache import FallbackRedisCache
from tests.resilience.faults import CLOSED_CACHE, cache_unreachable


@pytest.fixture
def low_user_rate(settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_the_api_answers_and_still_throttles_with_the_cache_unreachable(
    world, client_for, low_user_rate
):
    client = client_for("coord_x")
    with cache_unreachable():
        codes = [client.get("/api/v1/referrals/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


def test_an_outage_is_logged_once_and_redis_is_left_alone_meanwhile(caplog):
    cache = FallbackRedisCache(
        CLOSED_CACHE["default"]["LOCATION"], {"OPTIONS": CLOSED_CACHE["default"]["OPTIONS"]}
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="kobling.cache"):
        for number in range(200):
            cache.set(f"key-{number}", number, 60)
            assert cache.get(f"key-{number}") == number
            cache.incr(f"key-{number}")
    took = time.monotonic() - started

    assert cache.get("key-7") == 8
    assert cache.degraded
    assert [record.getMessage() for record in caplog.records] == [
        "Redis cache unreachable (ConnectionError): counting in this process's memory until "
        "it is back"
    ]
    assert took < 2


@pytest.mark.broker
def test_the_configured_redis_cache_degrades_instead_of_failing():
    """Under CI the cache is Redis; its settings bring the fallback and short timeouts."""
    cache = caches["default"]
    if not isinstance(cache, FallbackRedisCache):
        pytest.skip("CACHE_URL does not name Redis")
    options = cache._options
    assert (options["socket_connect_timeout"], options["socket_timeout"]) == (0.5, 1.0)
    cache.check()
    assert not cache.degraded
