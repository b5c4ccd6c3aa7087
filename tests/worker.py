"""A real Celery worker process for the tests that need one."""

import contextlib
import os
import subprocess
import sys

from django.conf import settings


@contextlib.contextmanager
def celery_worker(*, queues: str = "celery", **env_overrides: str):
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
    env = {**os.environ, **env_overrides}
    process = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
