"""Redis gone, without stopping anyone's Redis: the broker and the cache are pointed at a port
where nothing listens, then back."""

import contextlib

from django.test import override_settings

from core.celery_app import app

# Nothing listens on port 1: every connection is refused at once.
CLOSED_BROKER = "redis://127.0.0.1:1/0"
CLOSED_CACHE = {
    "default": {
        "BACKEND": "core.cache.FallbackRedisCache",
        "LOCATION": "redis://127.0.0.1:1/1",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
}


def connect_celery(url: str | None, eager: bool) -> None:
    # The write URL, because Celery prefers the CELERY_BROKER_URL variable to broker_url.
    app.conf.broker_write_url, app.conf.task_always_eager = url, eager
    # The producer pools are made once per app; new ones connect to the new address.
    app.amqp._producer_pool = None
    app._pool = None


@contextlib.contextmanager
def broker_unreachable():
    was = app.conf.get("broker_write_url"), app.conf.task_always_eager
    connect_celery(CLOSED_BROKER, eager=False)
    try:
        with override_settings(CELERY_BROKER_URL=CLOSED_BROKER, CELERY_TASK_ALWAYS_EAGER=False):
            yield
    finally:
        connect_celery(*was)


@contextlib.contextmanager
def cache_unreachable():
    with override_settings(CACHES=CLOSED_CACHE):
        yield


@contextlib.contextmanager
def redis_down():
    with broker_unreachable(), cache_unreachable():
        yield
