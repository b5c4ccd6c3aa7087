"""A real Celery worker process for the tests that need one: on the test database, as the role
the tests connect as (the restricted one under CI), in this run's KOBLING_ENV."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests.app_role import database_url_for


@contextlib.contextmanager
def celery_worker(*, queues: str = "matching,email,default", **env_overrides: str):
    """By default on every queue the tasks are routed to (CELERY_TASK_ROUTES)."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "--queues",
        queues,
        "--without-gossip",
        "--without-mingle",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "KOBLING_ENV": settings.KOBLING_ENV, **_database(), **env_overrides}
    process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _database() -> dict[str, str]:
    if not settings.DATABASE_IS_POSTGRES:
        return {}
    db = connection.settings_dict
    return {"DATABASE_URL": database_url_for(db["USER"], db["PASSWORD"])}


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


# What Django's file e-mail backend writes after each message.
MESSAGE_END = "-" * 79 + "\n"


def mails(folder: Path) -> list[str]:
    """Every message the worker wrote to ``folder`` (EMAIL_URL=filemail://…). Counted by
    message, not by file: two messages sent in the same second can share a file, since the
    backend names it by the time and the id() of an object that may be reused."""
    files = (path.read_text() for path in sorted(folder.glob("*.log")))
    return [message for text in files for message in text.split(MESSAGE_END) if message.strip()]
