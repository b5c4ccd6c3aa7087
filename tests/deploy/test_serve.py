"""``scripts/serve web|worker|beat|release``, run as docs/deploy.md runs them: each refuses
to start, in one line naming the setting, when something it needs is missing; the release step
migrates and collects hashed, compressed static files; gunicorn serves them with far-future
caching, answers liveness without its dependencies and logs JSON lines with the request id."""

import contextlib
import json
import secrets
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.deploy.serving import HOST, INHERITED, SERVE, free_port, serve


def production(tmp: Path, **overrides: str) -> dict[str, str]:
    """Everything a production web server needs, on SQLite in ``tmp``; a broker and cache
    where nothing listens (the pages tested here use neither)."""
    return {
        "KOBLING_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}",
        "DATABASE_URL": f"sqlite:///{tmp / 'kobling.sqlite3'}",
        "STATIC_ROOT": str(tmp / "static"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CACHE_URL": "redis://127.0.0.1:1/1",
        "EMAIL_URL": f"filemail://{tmp / 'mail'}",
        **overrides,
    }


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def without(env: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != name}


@pytest.mark.parametrize("process", ["web", "worker"])
def test_nothing_starts_without_kobling_env(process, tmp_path):
    line = refusal(serve(process, env=without(production(tmp_path), "KOBLING_ENV")))
    assert line.startswith(f"scripts/serve {process}: Kobling will not start: KOBLING_ENV")


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"]
)
def test_the_web_server_names_the_missing_production_setting(missing, tmp_path):
    line = refusal(serve("web", env=without(production(tmp_path), missing)))
    assert f"Kobling will not start: {missing} must be set" in line


def test_the_web_server_in_production_wants_the_release_step_first(tmp_path):
    line = refusal(serve("web", env=production(tmp_path)))
    assert "STATIC_ROOT" in line and "scripts/serve release" in line


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_workers_and_beat_need_a_broker_even_outside_production(process):
    line = refusal(serve(process, env={"KOBLING_ENV": "demo"}))
    assert "CELERY_BROKER_URL must be set" in line


def test_a_worker_in_production_needs_somewhere_to_send_e_mail(tmp_path):
    line = refusal(serve("worker", "email", env=without(production(tmp_path), "EMAIL_URL")))
    assert "EMAIL_URL must be set" in line


def test_a_worker_refuses_a_queue_that_nothing_is_routed_to(tmp_path):
    line = refusal(serve("worker", "emails", env=production(tmp_path)))
    assert "there is no queue 'emails'; the queues are matching, email, default." in line


def test_an_unknown_process_is_a_usage_error():
    result = serve("webserver", env={"KOBLING_ENV": "demo"})
    assert result.returncode == 64
    assert "usage: scripts/serve web|worker|beat|release" in result.stderr


def get(url: str, **headers: str):
    """As the reverse proxy forwards a request: the public host name, HTTPS said in a header."""
    request = urllib.request.Request(
        url, headers={"Host": HOST, "X-Forwarded-Proto": "https", **headers}
    )
    try:
        return urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as answer:
        return answer


@contextlib.contextmanager
def web_server(env: dict[str, str], log_path: Path):
    port = free_port()
    env = {**INHERITED, **env, "WEB_BIND": f"127.0.0.1:{port}", "WEB_WORKERS": "1"}
    with log_path.open("w") as log:
        process = subprocess.Popen([SERVE, "web"], env=env, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while not _answers(f"{base}/health/live/"):
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "gunicorn did not answer within 2 minutes"
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return get(url).status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_release_then_web_serves_static_files_health_and_json_logs(tmp_path):
    """One test, as the release step is what takes the time (collectstatic compresses every
    file): release on a new SQLite database, then gunicorn as in production."""
    env = production(tmp_path)
    result = serve("release", env=env, timeout=800)
    assert result.returncode == 0, result.stderr

    with sqlite3.connect(tmp_path / "kobling.sqlite3") as db:
        applied = {app for (app,) in db.execute("SELECT DISTINCT app FROM django_migrations")}
        analyzed = {table for (table,) in db.execute("SELECT DISTINCT tbl FROM sqlite_stat1")}
    assert {"programmes", "matching", "volunteers", "accounts"} <= applied
    assert "django_migrations" in analyzed  # the planner's statistics (analyze_database)
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["kobling/kobling.css"]
    assert hashed != "kobling/kobling.css"
    assert (tmp_path / "static" / f"{hashed}.gz").exists()

    log = tmp_path / "web.log"
    with web_server(env, log) as base:
        static = get(f"{base}/static/{hashed}", **{"Accept-Encoding": "gzip"})
        assert static.status == 200
        assert static.headers["Content-Encoding"] == "gzip"
        assert "max-age=315360000" in static.headers["Cache-Control"]
        assert "immutable" in static.headers["Cache-Control"]

        live = get(f"{base}/health/live/", **{"X-Request-ID": "probe-from-caddy-1"})
        assert live.status == 200
        assert live.headers["X-Request-ID"] == "probe-from-caddy-1"

        ready = get(f"{base}/health/ready/")
        body = json.loads(ready.read())
        # The database answers; this test's broker and cache are nowhere.
        assert ready.status == 200
        assert (body["database"], body["healthy"]) == ("ok", False)

        page = get(f"{base}/accounts/login/")
        assert page.status == 200
        assert f"/static/{hashed}" in page.read().decode()
        time.sleep(0.5)

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(
        line["logger"] == "kobling.request"
        and line["request_id"] == "probe-from-caddy-1"
        and line["message"].startswith("GET health/live/ 200")
        for line in lines
    )
    assert any(line["logger"] == "gunicorn.error" for line in lines)


@pytest.mark.broker
@pytest.mark.slow
def test_a_worker_started_as_the_units_start_it_comes_up_logging_json(tmp_path):
    """`scripts/serve worker matching --concurrency 1`, as kobling-worker-matching.service."""
    env = {
        "KOBLING_ENV": "test",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kobling.sqlite3'}",
        "LOG_FORMAT": "json",
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [SERVE, "worker", "matching", "--concurrency", "1"],
            env={**INHERITED, **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 120
            while " ready." not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=60)
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(line["message"] == "matching@" + socket.gethostname() + " ready." for line in lines)
