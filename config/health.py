"""``/health/live/``: the process answers (no database, cache or broker asked), for a process
supervisor or load balancer deciding whether to restart it.

``/health/`` and ``/health/ready/`` (the same): may it take traffic? Is the database
answering, the cache working, and the task queue reachable?

Only the database is essential: without it the answer is 503. A cache or broker that cannot be
reached degrades the service but does not stop it (throttle counts move to each process's
memory, tasks wait in the outbox), so the answer stays 200, ``healthy`` turns false and
``degraded`` names what is missing. ``outbox`` says how many tasks wait for the broker and
for how many seconds the oldest has.
"""

from django.conf import settings
from django.core.cache import cache, caches
from django.db import connection
from django.http import JsonResponse
from kombu import Connection

from core.cache import FallbackRedisCache
from outbox.services import outbox_backlog

EAGER = "eager (no broker configured)"


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _cache() -> str:
    if isinstance(caches["default"], FallbackRedisCache):
        # The fallback would answer in Redis's place; ask Redis itself.
        caches["default"].check()
        return "ok"
    cache.set("kobling:health", "ok", 10)
    return "ok" if cache.get("kobling:health") == "ok" else "cache returned nothing"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return EAGER
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    with Connection(
        settings.CELERY_BROKER_URL, connect_timeout=1, transport_options=options
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2)
    return "ok"


def _outcome(check) -> str:
    try:
        return check()
    except Exception as error:
        return f"failed: {type(error).__name__}"


def health(request):
    checks = {
        name: _outcome(check)
        for name, check in (("database", _database), ("cache", _cache), ("broker", _broker))
    }
    degraded = [name for name, value in checks.items() if value not in ("ok", EAGER)]
    body = {"healthy": not degraded, "degraded": degraded, **checks}
    if "database" in degraded:
        return JsonResponse(body, status=503)
    body["outbox"] = outbox_backlog()
    if body["outbox"]["waiting"]:
        degraded.append("outbox")
        body["healthy"] = False
    return JsonResponse(body, status=200)


def live(request):
    return JsonResponse({"alive": True})
