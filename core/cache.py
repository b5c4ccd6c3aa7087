"""A Redis cache that degrades instead of failing (settings, "Cache").

The cache holds only what may be lost: the API's throttle counts, the limits' counts
(core/counts.py) and the dashboard's map and chart figures, which are counted again when they
are missing (matching/selectors.py). When Redis cannot be reached, each process keeps them in
its own memory instead, so pages and the API keep answering and the
limits still hold, per process, until Redis is back. After a failure Redis is left alone for
``RETRY_AFTER`` seconds, so an outage costs one short connection timeout now and then rather
than one on every call. The outage and the recovery are logged once each.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("kobling.cache")

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER = 10.0
FALLBACK_LOCATION = "kobling-redis-fallback"


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        fallback_params = {k: v for k, v in params.items() if k not in ("OPTIONS", "LOCATION")}
        self._fallback = LocMemCache(FALLBACK_LOCATION, fallback_params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def degraded(self) -> bool:
        """True while this process counts locally because Redis did not answer."""
        return self._down_until > 0.0

    def check(self) -> None:
        """Ask Redis itself, whatever this process thinks; raises if it does not answer."""
        self._cache.get_client(write=True).ping()

    def _call(self, name: str, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except REDIS_DOWN as error:
            self._went_down(error)
            return getattr(self._fallback, name)(*args, **kwargs)
        if self._down_until:
            self._came_back()
        return result

    def _went_down(self, error: Exception) -> None:
        with self._lock:
            if not self._down_until:
                log.warning(
                    "Redis cache unreachable (%s): counting in this process's memory until it "
                    "is back",
                    type(error).__name__,
                )
            self._down_until = time.monotonic() + RETRY_AFTER

    def _came_back(self) -> None:
        with self._lock:
            if self._down_until:
                log.warning("Redis cache reachable again")
            self._down_until = 0.0

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")
