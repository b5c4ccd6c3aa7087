"""Configuration errors stop the service at start-up with a message naming the variable, and
it fails closed: never in demo mode by accident, never in production with DEBUG on or a weak
SECRET_KEY."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(
        (
            "DATABASE_",
            "CACHE_",
            "CELERY_",
            "DEBUG",
            "SECRET_KEY",
            "KOBLING_",
            "ALLOWED_HOSTS",
            "SITE_URL",
            "CI",
        )
    )
}


STRONG_KEY = secrets.token_urlsafe(48)
PRODUCTION = {
    "KOBLING_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "kobling.example.no",
    "SITE_URL": "https://kobling.example.no",
    "DATABASE_URL": "postgres://kobling@127.0.0.1/kobling",
}


def start_django(**env) -> subprocess.CompletedProcess:
    """Django set up in a new process, outside pytest, with only ``env`` configured (in demo
    mode unless ``env`` says otherwise)."""
    return run_in_django("from django.conf import settings; print(settings.DEBUG)", **env)


def run_in_django(script: str, **env) -> subprocess.CompletedProcess:
    """``script`` run after Django is set up, as in ``start_django``."""
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env={
            **CLEAN_ENV,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "KOBLING_ENV": "demo",
            **env,
        },
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
            {"KOBLING_ENV": "production", "SECRET_KEY": STRONG_KEY},
            "ALLOWED_HOSTS must be set",
        ),
        (
            {"KOBLING_ENV": "production", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "k.no"},
            "SITE_URL must be set to https://",
        ),
        (
            {**PRODUCTION, "SITE_URL": "http://kobling.example.no"},
            "SITE_URL must be set to https://",
        ),
    ],
)
def test_bad_configuration_stops_start_up_naming_the_variable(env, message):
    result = start_django(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_defaults_debug_off():
    result = start_django(**PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_hashes_passwords_with_argon2_and_still_accepts_older_hashes():
    """A password hashed before (PBKDF2, or Argon2 in Django's eight lanes) still logs in,
    and Django is told to hash it again with Argon2 in one lane, as every new password is."""
    script = (
        "from django.contrib.auth.hashers import Argon2PasswordHasher, check_password,"
        " get_hasher, make_password; "
        "again = []; "
        "pbkdf2 = get_hasher('pbkdf2_sha256').encode('et langt passord', 'saltsaltsalt1234'); "
        "eight = Argon2PasswordHasher().encode('et langt passord', 'saltsaltsalt1234'); "
        "new = make_password('et langt passord'); "
        "print(new.split('$')[3], check_password('et langt passord', new),"
        " check_password('et langt passord', pbkdf2, setter=again.append),"
        " check_password('et langt passord', eight, setter=again.append), len(again))"
    )
    result = run_in_django(script, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["m=102400,t=2,p=1", "True", "True", "True", "2"]


def test_without_kobling_env_nothing_starts_not_even_in_demo_mode():
    result = start_django(KOBLING_ENV="")

    assert result.returncode != 0
    assert "KOBLING_ENV is not set: set it to production on a server" in result.stderr


def test_production_refuses_debug_on():
    result = start_django(**PRODUCTION, DEBUG="true")

    assert result.returncode != 0
    assert "DEBUG must be off when KOBLING_ENV=production" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "kobling-insecure-demo-key-never-use-in-production",
        STRONG_KEY[:49],
        "abcd" * 20,
        "django-insecure-" + STRONG_KEY,
    ],
    ids=["the demo key", "49 characters", "4 different characters", "startproject's"],
)
def test_production_refuses_a_weak_secret_key(key):
    result = start_django(**PRODUCTION | {"SECRET_KEY": key})

    assert result.returncode != 0
    assert "SECRET_KEY is too weak for KOBLING_ENV=production" in result.stderr


def test_demo_runs_on_sqlite_under_var_with_eager_celery_when_nothing_else_is_configured():
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['NAME'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**CLEAN_ENV, "DJANGO_SETTINGS_MODULE": "config.settings", "KOBLING_ENV": "demo"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    name, eager, debug = result.stdout.split()
    assert name.endswith("var/kobling.sqlite3")
    assert (eager, debug) == ("True", "True")
