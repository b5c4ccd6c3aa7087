import contextvars
import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from core import observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("kobling")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="kobling.ping")
def ping() -> str:
    """Answers from whichever worker takes it; the health check and CI use it."""
    return "pong"


# The request id travels with the task (core/observability.py): the worker's log lines for it
# carry the id of the request that queued it.
_bound: dict[str, contextvars.Token[str]] = {}


@before_task_publish.connect
def _request_id_send(headers=None, **kwargs) -> None:
    request_id = observability.request_id_current()
    if headers is not None and request_id != observability.NO_REQUEST:
        headers.setdefault("request_id", request_id)


@task_prerun.connect
def _request_id_take(task_id=None, task=None, **kwargs) -> None:
    given = getattr(task.request, "request_id", None) if task is not None else None
    token = observability.task_request_id_bind(task_id, given)
    if token is not None and task_id:
        _bound[task_id] = token


@task_postrun.connect
def _request_id_drop(task_id=None, **kwargs) -> None:
    observability.task_request_id_unbind(_bound.pop(task_id, None) if task_id else None)
