"""Reachability checks for the services CI must use for real."""

import os
import re
import shutil
import subprocess

import psycopg
import redis
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"


def problems_for_ci(app_role: str | None) -> list[str]:
    database = _database_problems()
    if not database and settings.DATABASE_IS_POSTGRES:
        database = _app_role_problems(app_role)
    if not database and settings.DATABASE_IS_POSTGRES:
        database = _backup_tool_problems()
    return [*database, *_redis_problems(), *_chromium_problems()]


BACKUP_TOOLS = ("pg_dump", "pg_restore", "psql", "gpg")


def _backup_tool_problems() -> list[str]:
    """scripts/backup and scripts/restore (tests/backup/): PostgreSQL's client tools, at least
    the server's version (pg_dump refuses a newer server), and gpg."""
    missing = [tool for tool in BACKUP_TOOLS if shutil.which(tool) is None]
    if missing:
        return [
            f"{', '.join(missing)} missing for the backup tests "
            "(scripts/test installs postgresql-client and gnupg when run as root)"
        ]
    said = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True).stdout
    version = re.search(r"\d+", said)  # "pg_dump (PostgreSQL) 15.20 (Debian …)"
    client = int(version.group()) if version else 0
    db = settings.DATABASES["default"]
    with _maintenance_connection(db["USER"], db["PASSWORD"]) as conn:
        server = conn.info.server_version // 10000
    if client < server:
        return [
            f"pg_dump {client} cannot back up the PostgreSQL {server} server: install its client"
        ]
    return []


def _chromium_problems() -> list[str]:
    if os.access(CHROMIUM, os.X_OK):
        return []
    return [f"chromium is missing at {CHROMIUM} (scripts/test installs it when run as root)"]


def _database_problems() -> list[str]:
    if not settings.DATABASE_IS_POSTGRES:
        return [f"DATABASE_URL is not PostgreSQL (got {settings.DATABASES['default']['ENGINE']})"]
    db = settings.DATABASES["default"]
    try:
        _maintenance_connection(db["USER"], db["PASSWORD"]).close()
    except psycopg.Error as error:
        return [f"PostgreSQL at {db['HOST']}:{db['PORT']}: {error}".strip()]
    return []


def _maintenance_connection(user: str, password: str) -> psycopg.Connection:
    # The maintenance database: the test database does not exist yet at this point.
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=user,
        password=password or None,
        dbname="postgres",
        connect_timeout=3,
    )


def _app_role_problems(role: str | None) -> list[str]:
    """The owner (DATABASE_URL's user) creates the test database; the tests run as ``role``,
    which must be a different role that can log in and is no superuser."""
    owner = settings.DATABASES["default"]["USER"]
    setup = "scripts/test creates both roles (python -m tests.app_role)"
    if not role:
        return [f"no restricted database role for the tests (DATABASE_APP_ROLE); {setup}"]
    if role == owner:
        return [f"DATABASE_APP_ROLE={role} is DATABASE_URL's user; the tests must run as another"]
    with _maintenance_connection(owner, settings.DATABASES["default"]["PASSWORD"]) as conn:
        found = conn.execute(
            "SELECT (SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user),"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = %s)",
            [role],
        ).fetchone()
    owner_may_create, app_superuser = found
    problems = []
    if not owner_may_create:
        problems.append(f"the owner role {owner} may not create the test database (CREATEDB)")
    if app_superuser is None:
        return [*problems, f"the database role {role} does not exist; {setup}"]
    if app_superuser:
        problems.append(f"the database role {role} is a superuser; it must be restricted")
    try:
        _maintenance_connection(role, "").close()
    except psycopg.Error as error:
        problems.append(f"cannot connect as the database role {role}: {error}".strip())
    return problems


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
