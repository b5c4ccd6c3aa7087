"""``/health/``: is the database answering, the cache working, and the task queue reachable?"""

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from kombu import Connection


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _cache() -> str:
    cache.set("kobling:health", "ok", 10)
    return "ok" if cache.get("kobling:health") == "ok" else "cache returned nothing"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager (no broker configured)"
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)
    return "ok"


def health(request):
    checks = {}
    for name, check in (("database", _database), ("cache", _cache), ("broker", _broker)):
        try:
            checks[name] = check()
        except Exception as error:
            checks[name] = f"failed: {type(error).__name__}"
    healthy = all(value == "ok" or value.startswith("eager") for value in checks.values())
    return JsonResponse({"healthy": healthy, **checks}, status=200 if healthy else 503)
