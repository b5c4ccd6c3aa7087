"""RabbitMQ for the tests that run once with it as the broker (issue 19): CI machines have it
at 127.0.0.1:5672, so under CI=true a missing RabbitMQ fails; elsewhere it is skipped with the
reason."""

import pytest
from django.conf import settings
from kombu import Connection

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def rabbitmq_problem() -> str | None:
    try:
        with Connection(RABBITMQ_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as error:  # any failure to connect is the reason to give
        return f"{type(error).__name__}: {error}"
    return None


def rabbitmq_or_skip() -> str:
    """The RabbitMQ URL; skips the test (fails it under CI=true) when RabbitMQ cannot be reached."""
    problem = rabbitmq_problem()
    if problem and settings.CI:
        pytest.fail(f"CI=true, but RabbitMQ at {RABBITMQ_URL} cannot be reached: {problem}")
    if problem:
        pytest.skip(f"needs RabbitMQ at {RABBITMQ_URL} ({problem}); CI machines have it")
    return RABBITMQ_URL
