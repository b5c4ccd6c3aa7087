"""The outbox: a task the broker cannot take waits in the database, and a flush hands each
waiting task to the broker exactly once, also with two flushers at the same time."""

import datetime
import threading
import time

import psycopg
import pytest
import redis
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from core.celery_app import ping
from matching.models import MatchRun
from matching.runs import match_runs_fail_stale
from matching.services import match_run_start
from outbox.models import OutboxTask
from outbox.services import outbox_flush, task_send_after_commit
from programmes.notifications import email_after_commit
from tests.matching.factories import site_with_people
from tests.parallel import shared_redis_database
from tests.programmes.factories import UserFactory
from tests.resilience.faults import broker_unreachable, connect_celery

EMAIL = ("kari@example.no", "Subject", "Body")


def waiting_tasks(count: int) -> list[OutboxTask]:
    return OutboxTask.objects.bulk_create(
        OutboxTask(task="kobling.ping", args=[], last_error="OperationalError")
        for _ in range(count)
    )


@pytest.fixture
def private_broker():
    """The configured broker, on the Redis database no pytest-xdist worker owns, emptied:
    counting its messages counts what was handed over. Other test processes wait for it
    meanwhile (tests/parallel.py): one emptying it while another counted lost that one's
    messages."""
    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs a Celery broker: set CELERY_BROKER_URL=redis://… (CI=true does)")
    from core.celery_app import app

    with shared_redis_database(settings.CELERY_BROKER_URL) as url:
        queue = redis.Redis.from_url(url)
        queue.flushdb()
        was = app.conf.get("broker_write_url"), app.conf.task_always_eager
        connect_celery(url, eager=False)
        names = [declared.name for declared in settings.CELERY_TASK_QUEUES]
        # Messages waiting in every queue the tasks are routed to (settings: CELERY_TASK_ROUTES).
        yield lambda: sum(queue.llen(name) for name in names)
        connect_celery(*was)
        queue.flushdb()


@pytest.mark.django_db
def test_an_email_the_broker_cannot_take_waits_in_the_outbox(django_capture_on_commit_callbacks):
    user = UserFactory(email="kari@example.no")
    with broker_unreachable():
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            email_after_commit([user], "Subject", "Body")
        took = time.monotonic() - started

    kept = OutboxTask.objects.get()
    assert (kept.task, kept.args) == ("kobling.send_email", [["kari@example.no"], *EMAIL[1:]])
    assert (kept.attempts, kept.sent_at) == (1, None)
    assert "OperationalError" in kept.last_error
    assert took < 2, f"a broker that is down held the request up for {took:.1f} s"


@pytest.mark.django_db
def test_a_flush_while_the_broker_is_still_down_keeps_the_task_and_counts_the_attempt():
    [task] = waiting_tasks(1)
    with broker_unreachable():
        assert outbox_flush() == 0

    task.refresh_from_db()
    assert (task.attempts, task.sent_at) == (2, None)
    assert task.last_attempt_at > task.created_at


@pytest.mark.django_db
def test_in_eager_mode_tasks_run_in_process_and_nothing_is_kept(
    eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email_after_commit([UserFactory(email="kari@example.no")], "Subject", "Body")

    assert [message.to for message in mail.outbox] == [["kari@example.no"]]
    assert not OutboxTask.objects.exists()


@pytest.mark.django_db
def test_a_run_waiting_in_the_outbox_is_not_failed_as_stale(django_capture_on_commit_callbacks):
    site, _staff, coordinator = site_with_people()
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        run = match_run_start(
            programme=site.programme, started_by=coordinator, scope="site", site=site
        )
    assert OutboxTask.objects.get().args == [run.pk]
    stale_minutes = datetime.timedelta(minutes=settings.MATCH_RUN_STALE_MINUTES + 1)
    later = timezone.now() + stale_minutes

    assert match_runs_fail_stale(later) == 0
    # Handed to the broker just now: the worker gets its time to take it.
    OutboxTask.objects.update(sent_at=later - datetime.timedelta(minutes=1))
    assert match_runs_fail_stale(later) == 0
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.QUEUED
    # Handed over long ago and still silent: dead, as any other run.
    OutboxTask.objects.update(sent_at=later - stale_minutes)
    assert match_runs_fail_stale(later) == 1
    assert MatchRun.objects.get(pk=run.pk).status == MatchRun.Status.FAILED


@pytest.mark.broker
@pytest.mark.django_db
def test_a_flush_hands_each_waiting_task_over_once_and_marks_it_sent(private_broker):
    waiting_tasks(3)
    OutboxTask.objects.create(task="kobling.ping", args=[], sent_at=timezone.now())

    assert outbox_flush() == 3
    assert outbox_flush() == 0

    assert private_broker() == 3
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.broker
@pytest.mark.django_db
def test_a_task_that_gets_through_takes_the_waiting_ones_along(
    private_broker, django_capture_on_commit_callbacks
):
    waiting_tasks(2)

    with django_capture_on_commit_callbacks(execute=True):
        task_send_after_commit(ping)

    assert private_broker() == 3
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.broker
@pytest.mark.django_db
def test_the_management_command_flushes_and_says_what_is_left(private_broker, capsys):
    waiting_tasks(2)

    call_command("outbox_flush")

    assert "Sent 2 waiting tasks; 0 still waiting." in capsys.readouterr().out
    assert private_broker() == 2


@pytest.mark.django_db
def test_sent_tasks_are_forgotten_after_a_day():
    OutboxTask.objects.create(task="kobling.send_email", args=list(EMAIL), sent_at=timezone.now())
    old = OutboxTask.objects.create(task="kobling.send_email", args=list(EMAIL))
    OutboxTask.objects.filter(pk=old.pk).update(sent_at=timezone.now() - datetime.timedelta(days=2))

    outbox_flush()

    assert list(OutboxTask.objects.exclude(pk=old.pk).values_list("task", flat=True)) == [
        "kobling.send_email"
    ]
    assert not OutboxTask.objects.filter(pk=old.pk).exists()


def _flush_in_a_thread(results: list, start: threading.Barrier) -> None:
    try:
        start.wait()
        results.append(outbox_flush())
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_two_flushers_at_once_hand_each_task_over_exactly_once(private_broker):
    waiting_tasks(400)
    results: list[int] = []
    start = threading.Barrier(2)
    threads = [threading.Thread(target=_flush_in_a_thread, args=(results, start)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(results) == 400, results
    assert private_broker() == 400
    assert not OutboxTask.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_flusher_skips_the_tasks_another_is_sending_instead_of_waiting(private_broker):
    tasks = waiting_tasks(10)
    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=False,
    )
    try:
        locked = [task.pk for task in tasks[:4]]
        other.execute("SELECT id FROM outbox_outboxtask WHERE id = ANY(%s) FOR UPDATE", [locked])
        assert outbox_flush() == 6
        assert private_broker() == 6
    finally:
        other.rollback()
        other.close()

    assert outbox_flush() == 4
    assert private_broker() == 10
