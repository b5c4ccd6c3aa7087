"""``/health/live/`` says the process answers, asking nothing else, so a supervisor never
restarts a web process because the database is away; ``/health/ready/`` is ``/health/``."""

import pytest
from django.db import connections

from tests.resilience.faults import redis_down


def test_liveness_answers_without_database_cache_or_broker(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise AssertionError("liveness must not touch the database")

    monkeypatch.setattr(connections["default"], "cursor", no_database)
    with redis_down():
        response = client.get("/health/live/")
    assert response.status_code == 200
    assert response.json() == {"alive": True}


@pytest.mark.django_db
def test_readiness_is_the_health_check(client):
    ready, health = client.get("/health/ready/"), client.get("/health/")
    assert ready.status_code == health.status_code == 200
    assert ready.json() == health.json()
    assert ready.json()["database"] == "ok"


@pytest.mark.django_db
def test_readiness_answers_503_when_the_database_is_down(client, monkeypatch):
    working = connections["default"]
    broken = type(working)(
        {**working.settings_dict, "NAME": "/nonexistent/dir/kobling.sqlite3", "PORT": "1"},
        "default",
    )
    monkeypatch.setattr("config.health.connection", broken)
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "database" in response.json()["degraded"]
