"""Counting requests per hour in the cache, for limits that must hold across processes (the
password-reset e-mails, applications to volunteer)."""

import hashlib
import logging

from django.core.cache import cache

log = logging.getLogger("kobling.cache")

HOUR_SECONDS = 60 * 60


def count_this_hour(kind: str, value: str) -> int | None:
    """This request's number among those of ``kind`` for ``value`` in the hour that began with
    the first one (the value is kept only as a hash); None when the cache, which keeps the
    count, is down: callers then send nothing."""
    key = f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"
    try:
        cache.add(key, 0, timeout=HOUR_SECONDS)
        return cache.incr(key)
    except ValueError:  # the count expired between add and incr
        cache.set(key, 1, timeout=HOUR_SECONDS)
        return 1
    except Exception:  # the cache is down; which errors depends on its backend
        log.warning("Counts of %s unavailable", kind, exc_info=True)
        return None
