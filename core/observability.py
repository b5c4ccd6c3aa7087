"""What operators see of a running Kobling: log lines (JSON in production), one id per request
that ties them together and is shown on error pages, and optional error reports.

Nothing here logs personal data. A request's line names the route it matched
(``referrals/<int:pk>/``), never the path or query string, which may hold a search term or a
signed token; no address, user agent or user. Error reports (Sentry, only when SENTRY_DSN is set)
leave out request bodies, cookies, headers that carry credentials, query strings, the user and
the variables of each stack frame.
"""

import contextvars
import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us (Caddy's and nginx's ids, UUIDs): anything else is replaced, so a
# client cannot write line breaks or markup into the logs or the error page.
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,63}")
NO_REQUEST = "-"

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_REQUEST)
log = logging.getLogger("kobling.request")


def request_id_current() -> str:
    return _request_id.get()


def request_id_new() -> str:
    """16 hex digits: short enough to read out on the phone, unique enough to find in the log."""
    return secrets.token_hex(8)


def request_id_from(header: str | None) -> str:
    return header if header and WELL_FORMED_ID.fullmatch(header) else request_id_new()


class RequestIdMiddleware:
    """First in MIDDLEWARE: every log line of the request carries its id, the response returns
    it in ``X-Request-ID``, and error pages show it (core/errors.py). One line per request goes
    to ``kobling.request`` with the route, status and time taken."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = _request_id.set(request.request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            if _is_static(request.path):
                return response
            match = getattr(request, "resolver_match", None)
            log.info(
                "%s %s %s %.0f ms",
                request.method,
                match.route if match else NO_REQUEST,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            return response
        finally:
            _request_id.reset(token)


def _is_static(path: str) -> bool:
    return path.startswith("/" + settings.STATIC_URL.lstrip("/"))


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id``: the request's (or task's) id, or ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, and the
    exception's type and traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", _request_id.get()),
            "process": record.process,
        }
        if record.exc_info:
            line["exception"] = record.exc_info[0].__name__ if record.exc_info[0] else None
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def task_request_id_bind(task_id: str | None, given: object) -> contextvars.Token[str] | None:
    """In a Celery worker, before a task: its log lines carry the id of the request that queued
    it (a message header), else ``task-`` and the task's id. A task run eagerly inside a
    request keeps that request's id."""
    if _request_id.get() != NO_REQUEST:
        return None
    if not (isinstance(given, str) and WELL_FORMED_ID.fullmatch(given)):
        given = f"task-{task_id or NO_REQUEST}"
    return _request_id.set(str(given))


def task_request_id_unbind(token: contextvars.Token[str] | None) -> None:
    if token is not None:
        _request_id.reset(token)


# Error reports ------------------------------------------------------------------------------

SECRET_HEADERS = {"cookie", "authorization", "x-csrftoken", "proxy-authorization", "set-cookie"}


def error_report_scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's ``before_send``: what leaves the machine names the failure and where it
    happened, and nothing a person wrote or who they are."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() not in SECRET_HEADERS
            }
        url = request.get("url")
        if isinstance(url, str):
            request["url"] = url.split("?", 1)[0]
    event.pop("user", None)
    event.setdefault("tags", {})["request_id"] = _request_id.get()
    return event


def error_report_options(dsn: str, environment: str) -> dict[str, Any]:
    return {
        "dsn": dsn,
        "environment": environment,
        "max_request_body_size": "never",
        "include_local_variables": False,
        "before_send": error_report_scrub,
        # Error reports only: no performance traces.
        "traces_sample_rate": 0.0,
    }


def error_reports_start(dsn: str, environment: str) -> None:
    """Called from settings when SENTRY_DSN is set. sentry-sdk is optional
    (``pip install 'kobling[observability]'``); without it the setting is refused."""
    try:
        import sentry_sdk
    except ImportError:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: "
            "pip install 'kobling[observability]'."
        ) from None
    sentry_sdk.init(**error_report_options(dsn, environment))
