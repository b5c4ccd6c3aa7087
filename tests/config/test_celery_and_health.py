import uuid

import pytest
from django.conf import settings

from config.celery_app import ping
from tests.worker import celery_worker


@pytest.mark.django_db
def test_health_reports_database_cache_and_broker(client):
    response = client.get("/health/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["healthy"] is True
    assert (body["database"], body["cache"]) == ("ok", "ok")
    expected_broker = "ok" if settings.CELERY_BROKER_URL else "eager (no broker configured)"
    assert body["broker"] == expected_broker


@pytest.mark.django_db
def test_unreachable_broker_makes_health_fail(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    body = client.get("/health/")
    assert body.status_code == 503
    assert body.json()["broker"].startswith("failed:")


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
