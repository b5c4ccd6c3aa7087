"""Kobling as it runs in production (issue 19, docs/deploy.md), smoke-tested end to end:
KOBLING_ENV=production on a new PostgreSQL database that `scripts/serve release` migrated,
with gunicorn (2 processes), one Celery worker per queue (matching, email, default) and beat,
each a real process started by `scripts/serve`; once with Redis as the broker and once with
RabbitMQ (the cache is Redis both times). Everything a person does goes over HTTP to gunicorn,
as the reverse proxy forwards it:

- the matching worker is killed (SIGKILL, with its pool) in the middle of a match run; a new
  one starts. Kobling does not pick the run up again: only a queued run is taken, and this one
  is "running" (matching/runs.py). After MATCH_RUN_STALE_MINUTES of silence (1 here) the run
  page shows the coordinator, in words, that it failed and nothing was saved; started again,
  the run finishes on the new worker;
- meanwhile the whole journey: a crisis centre's system submits a referral through the API with
  a token; the coordinator logs in with password and authenticator code, accepts it into the
  queue, runs a match and approves the proposal; the volunteer accepts the agreement, the
  centre's staff member (logged in with two factors) records consent and the coordinator
  countersigns: the match is active;
- a daily task fires: beat's schedule file says the long-wait check last ran yesterday, as
  after a night beat was down, so beat sends it at once; the default worker flags the referral
  that has waited 60 days and the e-mail worker sends the coordinator the e-mail;
- static files come compressed with far-future caching, and /health/ says healthy.

To kill the worker at a known point on any machine, the test holds a row lock on the killed
run's referral (as every lifecycle step on a referral does for a moment), so the run waits in
the middle of saving, inside its transaction, when its worker dies. The rows are set up by
tests/deploy/smoke_world.py; the test reads the database only to know when to act and to see
what the workers did.
"""

import contextlib
import dataclasses
import datetime
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
import redis
from celery import Celery
from celery.beat import PersistentScheduler
from django.conf import settings
from django.utils import translation
from django.utils.html import escape
from kombu import Connection
from psycopg import sql

from core.celery_app import app as kobling_celery
from matching.models import MatchRun
from tests.deploy.serving import (
    BASE_DIR,
    HOST,
    INHERITED,
    Processes,
    free_port,
    serve,
    wait_until,
)
from tests.deploy.visitor import Page, Visitor
from tests.parallel import shared_redis_database
from tests.rabbitmq import rabbitmq_or_skip
from tests.worker import mails

pytestmark = [pytest.mark.postgres, pytest.mark.broker, pytest.mark.slow]

QUEUES = ("matching", "email", "default")
DAILY_TASK = "referrals_flag_long_waits"
STALE_MINUTES = 1


# The PostgreSQL server, and the database the release step makes once for both brokers


@dataclasses.dataclass(frozen=True)
class Postgres:
    """The server of DATABASE_URL, as its role (the owner); the service's role ``app_role``."""

    url: str
    app_role: str

    def database_url(self, database: str, role: str | None = None) -> str:
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if role is not None:
            netloc = quote(role, safe="") + "@" + netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=netloc, path="/" + database, query=""))

    def connect(self, database: str = "postgres", autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.database_url(database), autocommit=autocommit)

    def create(self, database: str, template: str | None = None) -> None:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)

    def drop(self, database: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )

    def value(self, database: str, query: str, *args):
        with self.connect(database) as conn:
            row = conn.execute(query, args).fetchone()
        return row[0] if row else None


@pytest.fixture(scope="module")
def postgres() -> Postgres:
    if not settings.DATABASE_APP_ROLE:
        pytest.skip("needs the service's restricted role: set DATABASE_APP_ROLE (CI=true does)")
    if not str(settings.CACHE_URL or "").startswith("redis://"):
        pytest.skip("needs Redis for the cache: set CACHE_URL=redis://… (CI=true does)")
    return Postgres(str(settings.DATABASE_URL), settings.DATABASE_APP_ROLE)


@dataclasses.dataclass(frozen=True)
class Release:
    """A database after the release step, the geodata and the smoke test's rows: each broker's
    run starts from a copy of it. Static files collected into ``static_root``."""

    database: str
    static_root: Path
    secret_key: str
    world: dict


def production_env(tmp: Path, secret_key: str, database_url: str, **extra: str) -> dict[str, str]:
    return {
        "KOBLING_ENV": "production",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(tmp / "static"),
        "EMAIL_URL": f"filemail://{tmp / 'mail'}",
        # Required everywhere in production; the release step uses neither.
        "CACHE_URL": "redis://127.0.0.1:1/0",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        **extra,
    }


def run(args: list[str], env: dict[str, str], timeout: int = 600) -> str:
    done = subprocess.run(
        args,
        env={**INHERITED, **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def release(postgres: Postgres, tmp_path_factory) -> Iterator[Release]:
    tmp = tmp_path_factory.mktemp("release")
    database = f"kobling_smoke_{secrets.token_hex(4)}"
    secret_key = secrets.token_urlsafe(50)
    postgres.create(database)
    try:
        env = production_env(
            tmp,
            secret_key,
            postgres.database_url(database),
            DATABASE_APP_ROLE=postgres.app_role,
        )
        result = serve("release", env=env, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        world = json.loads(run([sys.executable, "-m", "tests.deploy.smoke_world"], env))
        yield Release(database, tmp / "static", secret_key, world)
    finally:
        postgres.drop(database)


# Brokers


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request) -> Iterator[str]:
    """The broker's URL, with no message left in Kobling's queues before or after. Redis is
    the database no pytest-xdist worker owns, which other test processes leave alone meanwhile
    (tests/parallel.py)."""
    if request.param == "redis":
        lent = shared_redis_database(str(settings.CACHE_URL))
    else:
        lent = contextlib.nullcontext(rabbitmq_or_skip())
    with lent as url:
        queues_empty(url)
        yield url
        queues_empty(url)


def queues_empty(url: str) -> None:
    if url.startswith("redis"):
        redis.Redis.from_url(url).flushdb()
        return
    with Connection(url) as conn:
        for queue in settings.CELERY_TASK_QUEUES:
            bound = queue(conn.default_channel)
            bound.declare()
            bound.purge()


# Beat and the workers


def beat_schedule_with_overdue(path: Path, task: str) -> None:
    """Beat's own schedule file, saying ``task`` last ran 25 hours ago and everything else
    now: as after a night beat was down, the next start sends ``task`` at once."""
    scheduler = PersistentScheduler(app=kobling_celery, schedule_filename=str(path))
    try:
        entry = scheduler.schedule[task]
        entry.last_run_at = kobling_celery.now() - datetime.timedelta(hours=25)
        scheduler.sync()
    finally:
        scheduler.close()


def worker_names(url: str) -> list[str]:
    """The workers that answer a ping through the broker (their pidbox queues)."""
    # Celery prefers CELERY_BROKER_URL in the environment (this test's own) to the one given;
    # and an app of its own, not made current: Kobling's tasks would be sent through it.
    with mock.patch.dict(os.environ, {"CELERY_BROKER_URL": url}):
        control = Celery(broker=url, set_as_current=False)
        try:
            replies = control.control.ping(timeout=2.0)
        finally:
            control.close()
    return sorted(name for reply in replies for name in reply)


def one(pattern: str, text: str) -> str:
    found = sorted(set(re.findall(pattern, text)))
    assert len(found) == 1, f"{pattern}: {found}"
    return found[0]


def in_bokmal(text) -> str:
    with translation.override("nb"):
        return escape(str(text))


# The test


@dataclasses.dataclass
class Smoke:
    postgres: Postgres
    database: str
    broker: str
    base: str
    world: dict
    processes: Processes
    mail: Path

    def value(self, query: str, *args):
        return self.postgres.value(self.database, query, *args)


@pytest.fixture
def smoke(postgres: Postgres, release: Release, broker: str, tmp_path: Path) -> Iterator[Smoke]:
    """A copy of the released database and every process of the service on it, stopped and
    dropped afterwards whatever happened."""
    database = f"{release.database}_{secrets.token_hex(3)}"
    postgres.create(database, template=release.database)
    port = free_port()
    cache_prefix = f"smoke-{secrets.token_hex(4)}"
    env = production_env(
        tmp_path,
        release.secret_key,
        postgres.database_url(database, postgres.app_role),
        STATIC_ROOT=str(release.static_root),
        CACHE_URL=f"{settings.CACHE_URL}?key_prefix={cache_prefix}",
        CELERY_BROKER_URL=broker,
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="2",
        MATCH_RUN_STALE_MINUTES=str(STALE_MINUTES),
    )
    schedule = tmp_path / "celerybeat-schedule"
    beat_schedule_with_overdue(schedule, DAILY_TASK)
    processes = Processes(env, tmp_path)
    try:
        processes.start("web", "web")
        for queue in QUEUES:
            processes.start(queue, "worker", queue, "--concurrency", "1")
        processes.start("beat", "beat", "--schedule", str(schedule))
        for queue in QUEUES:
            processes.wait_for_line(queue, " ready.")
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(base), 60, "gunicorn answers /health/live/")
        yield Smoke(
            postgres,
            database,
            broker,
            base,
            release.world,
            processes,
            tmp_path / "mail",
        )
    finally:
        names = list(processes.running)
        processes.stop_all()
        for name in names:
            print(f"--- {name} ---\n{processes.tail(name)}")
        postgres.drop(database)
        cache = redis.Redis.from_url(str(settings.CACHE_URL))
        for key in cache.scan_iter(f"{cache_prefix}:*"):
            cache.delete(key)


@pytest.mark.timeout(900)
def test_production_smoke(smoke: Smoke):
    world, host = smoke.world, socket.gethostname()
    assert worker_names(smoke.broker) == sorted(f"{queue}@{host}" for queue in QUEUES)

    coordinator = Visitor(smoke.base)
    coordinator.log_in(
        world["coordinator"]["username"], world["password"], world["coordinator"]["totp_key"]
    )
    dashboard = coordinator.get("/coordinator/")
    killed_at, killed_run = kill_the_matching_worker_mid_run(smoke, coordinator, dashboard)

    journey(smoke, coordinator, Visitor(smoke.base, token=world["token"]))
    a_daily_task_fired(smoke)
    static_files_and_health(smoke)

    # Nothing picks the killed run up again (only a queued run is taken); once silent for
    # MATCH_RUN_STALE_MINUTES the coordinator reads on its page that it failed.
    failed = in_bokmal(MatchRun(error=MatchRun.STALE).failure_text)
    remaining = killed_at + 60 * STALE_MINUTES + 45 - time.monotonic()
    run_page = wait_until(
        lambda: (
            failed in (page := coordinator.get(f"/coordinator/runs/{killed_run}/")).text and page
        ),
        max(remaining, 5),
        "the killed run's page says it failed",
        every=3,
    )
    assert smoke.value("SELECT count(*) FROM matching_proposal WHERE run_id = %s", killed_run) == 0
    # Started again, the new matching worker finishes it.
    coordinator.submit(run_page, f"/coordinator/runs/{killed_run}/restart/")
    finished = run_finished(coordinator, killed_run)
    assert (finished["status"], finished["proposals_made"]) == ("succeeded", 1), finished
    assert worker_names(smoke.broker) == sorted(f"{queue}@{host}" for queue in QUEUES)
    assert smoke.processes.errors() == []


def answers(base: str) -> bool:
    try:
        return Visitor(base).request("GET", "/health/live/").status == 200
    except OSError:
        return False


def kill_the_matching_worker_mid_run(smoke: Smoke, coordinator: Visitor, dashboard: Page):
    """Start a run at the ``killed`` site and SIGKILL the matching worker (with its pool) while
    the run saves its proposal; a new matching worker starts. Returns when it was killed (the
    monotonic clock) and the run's id."""
    world = smoke.world
    with smoke.postgres.connect(smoke.database, autocommit=False) as lock:
        lock.execute(
            "SELECT id FROM programmes_referral WHERE id = %s FOR UPDATE",
            [world["referrals"]["killed"]],
        )
        run_page = coordinator.submit(
            dashboard, "/coordinator/runs/", {"site": world["sites"]["killed"]}
        )
        run_id = int(one(r"^/coordinator/runs/(\d+)/$", run_page.path))
        wait_until(
            lambda: smoke.value(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                lock.info.backend_pid,
            ),
            60,
            "the matching worker waits on the referral, in the middle of saving",
        )
        where = "SELECT status, phase FROM matching_matchrun WHERE id = %s"
        with smoke.postgres.connect(smoke.database) as conn:
            assert conn.execute(where, [run_id]).fetchone() == ("running", "saving")
        smoke.processes.kill("matching")
        killed_at = time.monotonic()
        lock.rollback()
    smoke.processes.start("matching", "worker", "matching", "--concurrency", "1")
    smoke.processes.wait_for_line("matching", " ready.")
    if smoke.broker.startswith("amqp"):
        # RabbitMQ hands the unacknowledged task to the new worker at once, which finds the run
        # "running" and leaves it. Redis would after its visibility timeout (3 x stale).
        smoke.processes.wait_for_line("matching", "'running'", timeout=30)
    status = "SELECT status FROM matching_matchrun WHERE id = %s"
    assert smoke.value(status, run_id) == "running"
    return killed_at, run_id


def run_finished(coordinator: Visitor, run_id: int) -> dict:
    return wait_until(
        lambda: (
            (run := coordinator.api("GET", f"/api/v1/match-runs/{run_id}/").json())["status"]
            not in ("queued", "running")
            and run
        ),
        60,
        f"match run {run_id} finishes",
    )


def journey(smoke: Smoke, coordinator: Visitor, integration: Visitor) -> None:
    world = smoke.world
    submitted = integration.api(
        "POST",
        "/api/v1/referrals/",
        {
            "site": world["sites"]["journey"],
            "languages": ["ar"],
            "postal_code": "0150",
            "availability": [{"day": 2, "start": "17:00", "end": "20:00"}],
            "consent_given_on": datetime.date.today().isoformat(),
        },
    )
    assert submitted.status == 201, submitted.text
    referral, alias = submitted.json()["id"], submitted.json()["alias"]

    dashboard = coordinator.get("/coordinator/")
    assert alias in dashboard.text
    dashboard = coordinator.submit(dashboard, f"/coordinator/referrals/{referral}/accept/")
    run_page = coordinator.submit(
        dashboard, "/coordinator/runs/", {"site": world["sites"]["journey"]}
    )
    run_id = int(one(r"^/coordinator/runs/(\d+)/$", run_page.path))
    assert run_finished(coordinator, run_id)["proposals_made"] == 1
    run_page = coordinator.get(f"/coordinator/runs/{run_id}/")
    assert alias in run_page.text
    proposal = one(r'action="/coordinator/proposals/(\d+)/approve/', run_page.text)
    coordinator.submit(run_page, f"/coordinator/proposals/{proposal}/approve/")

    volunteer = Visitor(smoke.base)
    home = volunteer.log_in(world["volunteer"]["username"], world["password"])
    agreement = one(r'href="/agreements/(\d+)/"', home.text)
    page = volunteer.get(f"/agreements/{agreement}/")
    volunteer.submit(page, f"/agreements/{agreement}/accept/")

    staff = Visitor(smoke.base)
    staff.log_in(world["staff"]["username"], world["password"], world["staff"]["totp_key"])
    page = staff.get(f"/agreements/{agreement}/")
    staff.submit(page, f"/agreements/{agreement}/consent/")

    page = coordinator.get(f"/agreements/{agreement}/")
    coordinator.submit(page, f"/agreements/{agreement}/countersign/")

    # The centre's system reads where its referral stands.
    assert integration.api("GET", f"/api/v1/referrals/{referral}/").json()["status"] == "active"
    matches = integration.api("GET", "/api/v1/matches/").json()["results"]
    assert [(m["referral_alias"], m["status"]) for m in matches] == [(alias, "active")]


def a_daily_task_fired(smoke: Smoke) -> None:
    """Beat sent the long-wait check at its start (its schedule file says it last ran
    yesterday); the default worker flagged the referral and the e-mail worker sent the
    coordinator the list."""
    long_wait = smoke.world["referrals"]["long_wait"]
    flagged = wait_until(
        lambda: smoke.value(
            "SELECT long_wait_flagged_on FROM programmes_referral WHERE id = %s", long_wait["id"]
        ),
        60,
        "the long-wait check flags the referral",
    )
    today = smoke.value("SELECT (now() AT TIME ZONE 'Europe/Oslo')::date")
    assert flagged == today
    assert "Sending due task referrals_flag_long_waits" in smoke.processes.log("beat").read_text()
    sent = wait_until(
        lambda: (
            [m for m in mails(smoke.mail) if long_wait["alias"] in m] if smoke.mail.exists() else []
        ),
        60,
        "the coordinator's e-mail about the long wait",
    )
    assert len(sent) == 1 and "To: koordinator@smoke.invalid" in sent[0], sent


def static_files_and_health(smoke: Smoke) -> None:
    visitor = Visitor(smoke.base)
    login = visitor.get("/accounts/login/")
    stylesheet = one(r'href="(/static/kobling/kobling\.[0-9a-f]{12}\.css)"', login.text)
    static = visitor.request("GET", stylesheet, headers={"Accept-Encoding": "gzip"})
    assert static.status == 200
    assert static.headers["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in static.headers["Cache-Control"]
    assert "immutable" in static.headers["Cache-Control"]

    health = visitor.request("GET", "/health/")
    assert health.status == 200, health.text
    body = health.json()
    assert body["healthy"] is True, body
    assert (body["database"], body["cache"], body["broker"]) == ("ok", "ok", "ok")
