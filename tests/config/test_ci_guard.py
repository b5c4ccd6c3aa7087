"""With CI=true the suite must never fall back to SQLite, eager Celery or the database owner's
role: it stops instead."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


@pytest.mark.slow
def test_ci_run_stops_loudly_when_postgres_and_redis_are_missing():
    env = {
        **os.environ,
        "CI": "true",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/postgres",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CACHE_URL": "",
    }
    result, output = pytest_with(env)
    assert result.returncode == 3, output
    assert "CI=true but required services are missing" in output
    assert "PostgreSQL at 127.0.0.1:1" in output
    assert "Redis at redis://127.0.0.1:1/0" in output
    assert "CACHE_URL must point at Redis" in output


@pytest.mark.slow
@pytest.mark.postgres
def test_ci_run_stops_loudly_when_the_restricted_database_role_is_missing():
    # The tests must run as the service's restricted role, never fall back to the owner.
    env = {**os.environ, "CI": "true", "DATABASE_APP_ROLE": "kobling_no_such_role"}
    result, output = pytest_with(env)
    assert result.returncode == 3, output
    assert "the database role kobling_no_such_role does not exist" in output


def pytest_with(env: dict) -> tuple[subprocess.CompletedProcess, str]:
    """Run a small test file as a CI run with this environment would."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/config/test_settings.py", "-p", "no:cacheprovider"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, result.stdout + result.stderr
