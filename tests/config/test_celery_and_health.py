import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from core.celery_app import ping
from outbox.models import OutboxTask
from tests.resilience.faults import redis_down
from tests.worker import celery_worker


@pytest.mark.django_db
def test_health_reports_database_cache_and_broker(client):
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert (body["healthy"], body["degraded"]) == (True, [])
    assert (body["database"], body["cache"]) == ("ok", "ok")
    expected_broker = "ok" if settings.CELERY_BROKER_URL else "eager (no broker configured)"
    assert body["broker"] == expected_broker
    assert body["outbox"] == {"waiting": 0, "oldest_seconds": 0}


@pytest.mark.django_db
def test_unreachable_broker_and_cache_degrade_health_but_it_still_answers_200(client):
    with redis_down():
        response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["healthy"] is False
    assert body["degraded"] == ["cache", "broker"]
    assert body["broker"].startswith("failed:")
    assert body["cache"].startswith("failed:")
    assert body["database"] == "ok"


@pytest.mark.django_db
def test_tasks_waiting_in_the_outbox_are_reported_with_the_oldest_age(client):
    OutboxTask.objects.create(task="kobling.ping", args=[])
    OutboxTask.objects.filter().update(created_at=timezone.now() - timedelta(minutes=5))
    OutboxTask.objects.create(task="kobling.ping", args=[], sent_at=timezone.now())

    body = client.get("/health/").json()

    assert body["outbox"]["waiting"] == 1
    assert 299 <= body["outbox"]["oldest_seconds"] <= 330
    assert "outbox" in body["degraded"]
    assert body["healthy"] is False


@pytest.mark.django_db
def test_health_answers_503_only_when_the_database_is_down(client, monkeypatch):
    working = connections["default"]
    if settings.DATABASE_IS_POSTGRES:
        broken_settings = {**working.settings_dict, "PORT": "1"}
    else:
        broken_settings = {**working.settings_dict, "NAME": "/nonexistent/dir/kobling.sqlite3"}
    broken = type(working)(broken_settings, "default")
    monkeypatch.setattr("config.health.connection", broken)

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["database"].startswith("failed:")
    assert "database" in response.json()["degraded"]


@pytest.fixture
def celery_worker_queue():
    """A real worker on a queue of its own, so nothing else it might find there interferes."""
    queue = f"kobling-test-{uuid.uuid4().hex[:8]}"
    with celery_worker(queues=queue):
        yield queue


@pytest.mark.broker
def test_task_sent_through_the_broker_is_run_by_a_real_worker(celery_worker_queue):
    if not settings.CELERY_RESULT_BACKEND:
        pytest.skip("needs CELERY_RESULT_BACKEND to read the answer (CI=true sets it)")
    result = ping.apply_async(queue=celery_worker_queue)
    assert result.get(timeout=60) == "pong"
    assert result.status == "SUCCESS"


def test_eager_mode_runs_tasks_in_process_when_no_broker_is_configured():
    if settings.CELERY_BROKER_URL:
        pytest.skip("a broker is configured, so tasks are not eager")
    assert settings.CELERY_TASK_ALWAYS_EAGER
    assert ping.delay().get() == "pong"
