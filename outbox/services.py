"""Every task the application queues goes through ``task_send_after_commit``: after the
transaction commits it is handed to the broker, and when the broker cannot take it (down,
unreachable, timing out) it is kept in the database, as an OutboxTask, instead of failing a
request whose data is already saved. ``outbox_flush`` hands the waiting tasks over, each
exactly once, oldest first: every minute from beat, after any task that did get through, and
from ``manage.py outbox_flush``.

In eager mode (no broker) tasks run in-process as before, and nothing is ever kept.
"""

import datetime
import logging

from django.db import DatabaseError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.celery_app import app
from outbox.models import OutboxTask

log = logging.getLogger("kobling.outbox")

# What a broker that is down, unreachable or hanging raises on publish (kombu wraps most).
BROKER_DOWN = (KombuOperationalError, RedisConnectionError, RedisTimeoutError, OSError)
BATCH = 100
# After a task got through, this many waiting ones go along in the same request; beat takes
# the rest, so a long backlog never holds up a person's request.
ALONG_WITH_A_REQUEST = 20
SENT_KEPT = datetime.timedelta(days=1)


def task_send_after_commit(task, *args) -> None:
    """Queue ``task(*args)`` once the current transaction commits (at once outside one). The
    arguments must be JSON: they may wait in the database."""
    transaction.on_commit(lambda: task_send(task, *args))


def task_send(task, *args) -> bool:
    """Hand the task to the broker now; True if it got there, False if it waits in the
    outbox. Errors other than the broker's are raised as always."""
    if task.app.conf.task_always_eager:
        task.apply_async(args)
        return True
    try:
        # Nobody reads these tasks' results; asking for one would also wait on the result
        # backend, which is down whenever the broker's Redis is.
        task.apply_async(args, ignore_result=True)
    except BROKER_DOWN as error:
        _keep(task.name, list(args), error)
        return False
    if OutboxTask.objects.filter(sent_at__isnull=True).exists():
        outbox_flush(limit=ALONG_WITH_A_REQUEST)
    return True


def _keep(name: str, args: list, error: Exception) -> None:
    try:
        OutboxTask.objects.create(task=name, args=args, last_error=_describe(error))
    except DatabaseError:
        # The change that queued the task is saved; failing the request now would only invite
        # the person to do it twice. Losing the task is logged loudly instead.
        log.exception("Task %s could not be queued nor kept in the outbox; it is lost", name)
        return
    log.warning("Broker unreachable (%s): task %s kept in the outbox", _describe(error), name)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def outbox_flush(*, limit: int | None = None) -> int:
    """Hand waiting tasks to the broker, oldest first, and mark each sent in the same
    transaction that locked it: flushers running at once skip each other's rows, so each task
    is sent once. Stops at the first the broker refuses (it is down again), counting the
    attempt on that row. Returns how many were sent."""
    sent = 0
    while limit is None or sent < limit:
        size = BATCH if limit is None else min(BATCH, limit - sent)
        with transaction.atomic():
            waiting = OutboxTask.objects.select_for_update(skip_locked=True)
            rows = list(waiting.filter(sent_at__isnull=True).order_by("pk")[:size])
            for row in rows:
                if not _hand_over(row):
                    return sent
                sent += 1
        if len(rows) < size:
            break
    if limit is None:
        OutboxTask.objects.filter(sent_at__lt=timezone.now() - SENT_KEPT).delete()
    return sent


def _hand_over(row: OutboxTask) -> bool:
    now = timezone.now()
    try:
        app.send_task(row.task, args=row.args, ignore_result=True)
    except BROKER_DOWN as error:
        row.attempts, row.last_attempt_at, row.last_error = row.attempts + 1, now, _describe(error)
        row.save(update_fields=["attempts", "last_attempt_at", "last_error"])
        return False
    row.sent_at = now
    row.save(update_fields=["sent_at"])
    return True


def outbox_backlog() -> dict:
    """For /health/: how many tasks wait, and for how long the oldest has."""
    waiting = OutboxTask.objects.filter(sent_at__isnull=True)
    oldest = waiting.order_by("pk").values_list("created_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest else 0
    return {"waiting": waiting.count(), "oldest_seconds": round(age)}


def outbox_waiting_args(task_name: str, *, sent_since: datetime.datetime) -> list[list]:
    """The arguments of ``task_name`` tasks still waiting, or sent from the outbox since the
    given time (the worker may not have taken them yet)."""
    rows = OutboxTask.objects.filter(task=task_name).exclude(sent_at__lt=sent_since)
    return list(rows.values_list("args", flat=True))
