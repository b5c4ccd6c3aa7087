"""Reachability checks for the services CI must use for real."""

import os

import psycopg
import redis
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"


def problems_for_ci() -> list[str]:
    return [*_database_problems(), *_redis_problems(), *_chromium_problems()]


def _chromium_problems() -> list[str]:
    if os.access(CHROMIUM, os.X_OK):
        return []
    return [f"chromium is missing at {CHROMIUM} (scripts/test installs it when run as root)"]


def _database_problems() -> list[str]:
    if not settings.DATABASE_IS_POSTGRES:
        return [f"DATABASE_URL is not PostgreSQL (got {settings.DATABASES['default']['ENGINE']})"]
    db = settings.DATABASES["default"]
    try:
        # The maintenance database: the test database does not exist yet at this point.
        psycopg.connect(
            host=db["HOST"],
            port=db["PORT"],
            user=db["USER"],
            password=db["PASSWORD"],
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        return [f"PostgreSQL at {db['HOST']}:{db['PORT']}: {error}".strip()]
    return []


def _redis_problems() -> list[str]:
    problems = []
    for name in ("CELERY_BROKER_URL", "CACHE_URL"):
        url = getattr(settings, name)
        if not url or not url.startswith("redis"):
            problems.append(f"{name} must point at Redis (got {url!r})")
            continue
        try:
            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            problems.append(f"Redis at {url}: {error}")
    return problems
