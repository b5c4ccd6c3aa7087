"""Logs, error pages and error reports tie together by one request id, and carry no personal
data: the request's line names the route, never the path or query string; an error report
leaves out what was sent, the cookies and who was signed in."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
import sentry_sdk
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path
from sentry_sdk.transport import Transport

from config import urls as real_urls
from core import observability
from core.celery_app import app, ping
from core.observability import JsonFormatter, error_report_options, error_report_scrub

# Built, not written out: the report's source lines around the failing view must not match.
SECRET = "@".join(("kari.nordmann", "example.no"))


def failing_page(request):
    logging.getLogger("kobling.test").warning("about to fail")
    raise RuntimeError("boom")


def forbidden_page(request):
    raise PermissionDenied


urlpatterns = [
    path("broken/", failing_page),
    path("forbidden/", forbidden_page),
    *real_urls.urlpatterns,
]
handler403 = real_urls.handler403
handler404 = real_urls.handler404
handler500 = real_urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")


@contextmanager
def json_log_lines():
    """What the configured console handler writes, in the production (JSON) format."""
    handler = next(h for h in logging.getLogger("kobling").handlers if h.name == "console")
    stream, formatter = io.StringIO(), handler.formatter
    previous = handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    lines: list[dict] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        handler.setFormatter(formatter)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def test_each_response_carries_a_new_request_id(anonymous):
    first = anonymous.get("/health/live/").headers["X-Request-ID"]
    second = anonymous.get("/health/live/").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert first != second


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("3f2b9c1e-8a4d-4c5e-9f10-2b3c4d5e6f70", True),
        ("caddy.0123456789", True),
        ("short", False),
        ("has spaces in it", False),
        ("<script>alert(1)</script>", False),
        ("x" * 65, False),
    ],
)
def test_a_well_formed_incoming_request_id_is_kept_and_anything_else_replaced(
    anonymous, given, kept
):
    answered = anonymous.get("/health/live/", HTTP_X_REQUEST_ID=given).headers["X-Request-ID"]
    assert (answered == given) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{16}", answered)


def test_every_log_line_of_a_request_carries_its_id_as_json(anonymous):
    with json_log_lines() as lines:
        response = anonymous.get("/broken/", HTTP_X_REQUEST_ID="support-case-0042")
    assert response.status_code == 500
    by_logger = {line["logger"]: line for line in lines}
    assert by_logger["kobling.test"]["message"] == "about to fail"
    assert by_logger["django.request"]["level"] == "ERROR"
    assert by_logger["django.request"]["exception"] == "RuntimeError"
    assert "kobling.request" in by_logger
    assert {line["request_id"] for line in lines} == {"support-case-0042"}


def test_the_request_line_names_the_route_not_the_path_or_query(anonymous):
    with json_log_lines() as lines:
        anonymous.get(f"/health/live/?email={SECRET}")
        anonymous.get(f"/no-such-page/{SECRET}/")
    request_lines = [line["message"] for line in lines if line["logger"] == "kobling.request"]
    assert request_lines[0].startswith("GET health/live/ 200 ")
    assert request_lines[1].startswith("GET - 404 ")
    assert not any(SECRET in line for line in request_lines)


@pytest.mark.parametrize(("url", "status"), [("/broken/", 500), ("/forbidden/", 403)])
def test_error_pages_show_the_request_id_for_support(anonymous, url, status):
    response = anonymous.get(url, HTTP_X_REQUEST_ID="support-case-0042")
    assert response.status_code == status
    page = response.content.decode()
    assert "give them this code:" in page
    assert "<code>support-case-0042</code>" in page


def test_the_not_found_page_shows_the_request_id_in_bokmål():
    response = Client(HTTP_ACCEPT_LANGUAGE="nb").get("/no-such-page/")
    assert response.status_code == 404
    assert f"<code>{response.headers['X-Request-ID']}</code>" in response.content.decode()


class Captured(Transport):
    events: list[dict] = []

    def capture_envelope(self, envelope):
        for item in envelope.items:
            if item.type == "event":
                Captured.events.append(item.payload.json)


@pytest.fixture
def error_reports():
    """Sentry as SENTRY_DSN starts it (the same options), sending to a list instead."""
    Captured.events = []
    sentry_sdk.init(
        **error_report_options("https://public@errors.example.no/1", "test"), transport=Captured
    )
    try:
        yield Captured.events
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def test_an_error_report_leaves_out_body_cookies_query_and_user(anonymous, error_reports):
    anonymous.cookies["sessionid"] = "session-secret"
    response = anonymous.post(
        f"/broken/?email={SECRET}",
        {"note": f"Ring {SECRET}"},
        HTTP_AUTHORIZATION="Token token-secret",
        HTTP_X_REQUEST_ID="support-case-0042",
    )
    assert response.status_code == 500
    sentry_sdk.flush()
    [event] = error_reports
    report = json.dumps(event)
    for secret in (SECRET, "session-secret", "token-secret", "Ring"):
        assert secret not in report
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["transaction"] == "/broken/"
    assert not {"data", "cookies", "query_string"} & set(event["request"])
    assert event["tags"]["request_id"] == "support-case-0042"
    assert "user" not in event


def test_scrubbing_keeps_what_names_the_failure():
    """As the WSGI server's request reaches the hook (the test client's lacks URL and headers)."""
    event = {
        "request": {
            "url": "https://kobling.example.no/referrals/?q=Kari",
            "method": "POST",
            "data": {"note": "Kari"},
            "cookies": {"sessionid": "x"},
            "query_string": "q=Kari",
            "headers": {"Cookie": "sessionid=x", "Authorization": "Token y", "Accept": "*/*"},
        },
        "user": {"id": 7, "email": SECRET},
        "exception": {"values": [{"type": "RuntimeError"}]},
    }
    scrubbed = error_report_scrub(event)
    assert scrubbed["request"] == {
        "url": "https://kobling.example.no/referrals/",
        "method": "POST",
        "headers": {"Accept": "*/*"},
    }
    assert "user" not in scrubbed
    assert scrubbed["exception"] == {"values": [{"type": "RuntimeError"}]}


def test_sentry_starts_only_when_a_dsn_is_set():
    script = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client(); "
        "print(c.is_active(), bool(c.options.get('send_default_pii')), "
        "c.options.get('include_local_variables'), "
        "getattr(c.options.get('before_send'), '__name__', None))"
    )
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"}
    env |= {"KOBLING_ENV": "test", "DJANGO_SETTINGS_MODULE": "config.settings"}

    def run(extra: dict) -> str:
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={**env, **extra},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run({}).startswith("False")
    assert run({"SENTRY_DSN": "https://public@errors.example.no/1"}) == (
        "True False False error_report_scrub"
    )


def test_a_task_run_eagerly_inside_a_request_logs_with_that_request_id(anonymous):
    """Eager mode (demo, tests): the task's signals must not take the request's id away."""
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("a broker is configured, so tasks are not eager")
    token = observability._request_id.set("request-0123456789")
    try:
        assert ping.delay().get() == "pong"
        assert observability.request_id_current() == "request-0123456789"
    finally:
        observability._request_id.reset(token)
    assert observability.request_id_current() == "-"


@pytest.mark.broker
def test_a_task_queued_during_a_request_carries_its_id_to_the_worker():
    queue = f"kobling-test-{uuid.uuid4().hex[:8]}"
    token = observability._request_id.set("request-0123456789")
    try:
        ping.apply_async(queue=queue)
    finally:
        observability._request_id.reset(token)
    with app.connection_for_write() as connection:
        message = connection.SimpleQueue(queue).get(timeout=10)
        message.ack()
    assert message.headers["request_id"] == "request-0123456789"
