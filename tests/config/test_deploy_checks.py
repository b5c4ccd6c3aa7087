"""Production settings pass Django's deployment checklist with no warning, and turn on every
transport protection: HTTPS only (with HSTS), secure cookies, the proxy's HTTPS header."""

import json
import secrets
import subprocess
import sys

from django.conf import settings

from tests.environment import without_configuration

PRODUCTION_ENV = {
    "KOBLING_ENV": "production",
    "ALLOWED_HOSTS": "kobling.example.no",
    "SITE_URL": "https://kobling.example.no",
    "DATABASE_URL": "postgres://kobling@127.0.0.1:5432/kobling",
}
INHERITED = without_configuration()


def run_production(*args: str, secret_key: str | None = None) -> subprocess.CompletedProcess:
    env = {**INHERITED, **PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE": "config.settings"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(*names: str) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = run_production("-c", script, secret_key=secrets.token_urlsafe(48))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_check_deploy_passes_with_no_warning_under_production_settings():
    result = run_production(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        secret_key=secrets.token_urlsafe(48),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "?: (" not in output
    assert "System check identified no issues" in output


def test_production_refuses_to_start_without_a_secret_key():
    result = run_production("manage.py", "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_sends_everything_over_https_only():
    found = production_settings(
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
    )
    assert found == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_production_cookies_are_secure_and_same_site():
    found = production_settings(
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
        "LANGUAGE_COOKIE_SECURE",
    )
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "LANGUAGE_COOKIE_SECURE": True,
    }
