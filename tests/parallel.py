"""Each pytest-xdist worker (gw0, gw1, …) gets Redis databases of its own for the broker, the
results and the cache, so one worker's cache.clear() or Celery worker process never touches
another's tasks or counts. Loaded with -p (pyproject.toml), before pytest-django reads the
settings, which take these URLs from the environment; the Celery workers the tests start inherit
them. Nothing else needs it: pytest-django gives each worker its own test database
(test_<name>_gw0, …), live servers take a free port and tmp_path is per worker.

The one Redis database no worker owns, the last, is shared by the tests that need a broker
of their own to empty and count: ``shared_redis_database`` lends it to one test process at a
time.
"""

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REDIS_URLS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL")
REDIS_DATABASES = 16
SHARED_REDIS_DATABASE = REDIS_DATABASES - 1
# Set once this process's URLs are its worker's own: a pytest a test starts inherits both.
ISOLATED_FOR = "KOBLING_TEST_ISOLATED_FOR"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or os.environ.get(ISOLATED_FOR) == worker:
        return
    for name in REDIS_URLS:
        url = os.environ.get(name)
        if url and url.startswith(("redis://", "rediss://")):
            os.environ[name] = worker_redis_url(url, int(worker.removeprefix("gw")))
    os.environ[ISOLATED_FOR] = worker


def worker_redis_url(url: str, worker_number: int) -> str:
    """The URL's database moved past the serial run's and every lower-numbered worker's."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + len(REDIS_URLS) * (worker_number + 1)
    if database >= SHARED_REDIS_DATABASE:
        raise pytest.UsageError(
            f"pytest-xdist worker gw{worker_number} would need Redis database {database} for "
            f"{url}; workers have databases up to {SHARED_REDIS_DATABASE - 1} (the last is "
            "shared): run fewer workers (scripts/test uses at most 4)."
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.contextmanager
def shared_redis_database(url: str) -> Iterator[str]:
    """``url`` moved to the shared database, once no other test process on this machine
    (another xdist worker, another run) has it; this process has it until the block ends, or
    until it dies. Emptying it, or counting its messages, then disturbs nobody."""
    path = Path(tempfile.gettempdir()) / f"kobling-tests-redis-{SHARED_REDIS_DATABASE}.lock"
    # Opened for reading: another user's lock file (in a shared /tmp) locks as well.
    lock = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield urlunsplit(urlsplit(url)._replace(path=f"/{SHARED_REDIS_DATABASE}", query=""))
    finally:
        os.close(lock)
