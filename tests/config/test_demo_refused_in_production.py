"""The demo's logins have a published password and two-factor secret, so nothing that makes
or uses demo data runs in production: seed_demo, demo_totp and the builders all refuse."""

import io
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from demo import builder as demo
from demo.guard import DemoRefusedInProduction

pytestmark = pytest.mark.django_db

REFUSAL = "refused when KOBLING_ENV=production"


@pytest.fixture
def production(settings):
    settings.KOBLING_ENV = "production"


@pytest.mark.parametrize("command", [("seed_demo",), ("seed_demo", "--reset"), ("demo_totp", "x")])
def test_demo_commands_refuse_in_production(production, command):
    with pytest.raises(CommandError, match=REFUSAL):
        call_command(*command, stdout=io.StringIO())

    assert not get_user_model().objects.filter(username="admin").exists()


@pytest.mark.parametrize(
    "helper",
    [lambda: demo.demo_build(1), demo.demo_delete, lambda: demo.DemoBuilder(1).ensure_admin()],
    ids=["demo_build", "demo_delete", "DemoBuilder"],
)
def test_demo_builders_refuse_in_production(production, helper):
    with pytest.raises(DemoRefusedInProduction, match=REFUSAL):
        helper()

    assert not get_user_model().objects.exists()


def test_seed_demo_on_a_production_server_stops_before_touching_the_database(tmp_path):
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "CACHE_", "CELERY_", "DEBUG", "SECRET_KEY", "KOBLING_"))
    }
    database = tmp_path / "production.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        env={
            **inherited,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "KOBLING_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "kobling.example.no",
            "SITE_URL": "https://kobling.example.no",
            "DATABASE_URL": f"sqlite:///{database}",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert REFUSAL in result.stderr
    assert not database.exists() or database.stat().st_size == 0
