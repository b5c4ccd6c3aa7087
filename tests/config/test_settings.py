"""Configuration errors stop the service at start-up with a message naming the variable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(
        ("DATABASE_", "CACHE_", "CELERY_", "DEBUG", "SECRET_KEY", "KOBLING_", "ALLOWED_HOSTS", "CI")
    )
}


def start_django(**env) -> subprocess.CompletedProcess:
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**CLEAN_ENV, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"KOBLING_ENV": "staging"}, "KOBLING_ENV='staging' must be one of"),
        ({"DATABASE_URL": "mysql://db/kobling"}, "DATABASE_URL must start with one of"),
        ({"CELERY_BROKER_URL": "kafka://x"}, "CELERY_BROKER_URL must start with one of"),
        ({"KOBLING_ENV": "production"}, "SECRET_KEY must be set"),
        (
            {"KOBLING_ENV": "production", "SECRET_KEY": "x" * 50},
            "ALLOWED_HOSTS must be set",
        ),
    ],
)
def test_bad_configuration_stops_start_up_naming_the_variable(env, message):
    result = start_django(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_defaults_debug_off():
    result = start_django(
        KOBLING_ENV="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="kobling.example.no",
        DATABASE_URL="postgres://kobling@127.0.0.1/kobling",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_demo_runs_on_sqlite_under_var_with_eager_celery_when_nothing_is_configured():
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['NAME'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**CLEAN_ENV, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    name, eager, debug = result.stdout.split()
    assert name.endswith("var/kobling.sqlite3")
    assert (eager, debug) == ("True", "True")
