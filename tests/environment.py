"""The environment a test's subprocess (manage.py, scripts/serve, scripts/backup) starts from:
this test run's own configuration left out, so that each test gives exactly the settings it
means and a CI variable never leaks into a "production" start."""

import os

CONFIGURATION_PREFIXES = (
    "DATABASE_",
    "CACHE_",
    "CELERY_",
    "EMAIL_",
    "DEBUG",
    "SECRET_KEY",
    "SECURE_",
    "KOBLING_",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "STATIC_ROOT",
    "SENTRY_",
    "WEB_",
    "LOG_",
    "BACKUP_",
    "CI",
    "DJANGO_",
    "GNUPGHOME",
    "PG",
)


def without_configuration() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(CONFIGURATION_PREFIXES)}
