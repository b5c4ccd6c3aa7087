"""Backups we have restored (docs/backup.md): scripts/backup dumps a seeded database, encrypted
to the operator's key; scripts/restore puts it into a new database, where every table has the
same rows, the access log is as protected as before (its triggers, and the service's role may
only read it and add to it) and the service starts and serves pages from it.

Runs on the PostgreSQL server that DATABASE_URL names, as its role (the owner, under CI=true
kobling_owner), with the service's role DATABASE_APP_ROLE (kobling_app), in scratch databases
made for the test and dropped after it, whatever happened.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from django.utils.html import escape
from psycopg import sql

from programmes.models import Organisation
from tests.environment import without_configuration
from tests.rabbitmq import rabbitmq_or_skip
from volunteers.selectors import organisation_slug

# The scripts need PostgreSQL's client tools and gpg, which CI=true checks for
# (tests/services_check.py).
pytestmark = pytest.mark.postgres

BASE_DIR = Path(settings.BASE_DIR)
LOG = "programmes_auditlogentry"
HOST = "kobling.example.no"
INHERITED = without_configuration()


@dataclass(frozen=True)
class Server:
    """The PostgreSQL server of DATABASE_URL, as its role (the owner)."""

    url: str
    app_role: str

    @property
    def owner(self) -> str:
        return unquote(urlsplit(self.url).username or "")

    def database_url(self, database: str, role: str | None = None) -> str:
        parts = urlsplit(self.url)
        netloc = parts.netloc
        if role is not None:
            netloc = role + "@" + netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=netloc, path="/" + database, query=""))

    def connect(self, database: str, role: str | None = None) -> psycopg.Connection:
        return psycopg.connect(self.database_url(database, role), autocommit=True)


@pytest.fixture
def server() -> Server:
    if not settings.DATABASE_APP_ROLE:
        pytest.skip("needs the service's restricted role: set DATABASE_APP_ROLE (CI=true does)")
    return Server(str(settings.DATABASE_URL), settings.DATABASE_APP_ROLE)


@pytest.fixture
def scratch(server: Server) -> Iterator[str]:
    """A prefix for databases of this test's own; every database with it is dropped after."""
    prefix = f"kobling_backup_test_{secrets.token_hex(4)}"
    yield prefix
    with server.connect("postgres") as conn:
        names = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"]
        ).fetchall()
        for (name,) in names:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def gpg_key(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A throwaway operator's key: (the public key's file, the GNUPGHOME holding its private
    key). The backups only ever see the public key."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    environment = {**INHERITED, "GNUPGHOME": str(home)}
    gpg = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    subprocess.run(
        [*gpg, "--quick-gen-key", "Kobling backup test", "future-default", "default", "never"],
        env=environment,
        check=True,
        capture_output=True,
    )
    public = tmp_path / "operator.asc"
    exported = subprocess.run(
        ["gpg", "--armor", "--export", "Kobling backup test"],
        env=environment,
        check=True,
        capture_output=True,
    )
    public.write_bytes(exported.stdout)
    yield public, home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=environment, capture_output=True)


def run(args: list, env: Mapping[str, object], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(arg) for arg in args],
        env={**INHERITED, **{name: str(value) for name, value in env.items()}},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ran(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def seed(server: Server, database: str) -> None:
    """What the release step does (migrate as the owner, granting the service's role), then
    the geodata and the demo."""
    with server.connect("postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    script = (
        "import django; django.setup(); from django.core.management import call_command as c; "
        "c('migrate', interactive=False, verbosity=0); c('load_geodata', verbosity=0); "
        "c('seed_demo', '--seed', '7', verbosity=0)"
    )
    environment = {
        "KOBLING_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": server.database_url(database),
        "DATABASE_APP_ROLE": server.app_role,
    }
    ran(run([sys.executable, "-c", script], environment, timeout=180))


def snapshot(server: Server, database: str) -> dict[str, dict]:
    """Everything a restore must bring back: each table's rows (a count and a digest of their
    text), each sequence's position, the triggers and functions, the grants to every role and
    who owns what."""
    with server.connect(database) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        rows = {
            table: conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    " FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()
            for table in tables
        }

        def query(text: str) -> dict:
            return {row[0]: row[1:] for row in conn.execute(text)}

        return {
            "rows": rows,
            "sequences": query(
                "SELECT sequencename, last_value FROM pg_sequences"
                " WHERE schemaname = current_schema()"
            ),
            "triggers": query(
                "SELECT tgrelid::regclass::text || '.' || tgname, tgenabled,"
                " pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
            ),
            "functions": query(
                "SELECT p.proname, pg_get_functiondef(p.oid), pg_get_userbyid(p.proowner)"
                " FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace"
            ),
            # Each relation (with its owner): every role's privileges on it, and who gave them.
            "grants": query(
                "SELECT c.relname || ' ' || pg_get_userbyid(c.relowner), array("
                " SELECT (CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)"
                " END) || ':' || a.privilege_type || ' from ' || pg_get_userbyid(a.grantor)"
                " FROM aclexplode(c.relacl) a ORDER BY 1)"
                " FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
            ),
            "default privileges": query(
                "SELECT defaclobjtype, defaclacl::text FROM pg_default_acl"
            ),
            "schema": query(
                "SELECT nspname, pg_get_userbyid(nspowner), nspacl::text FROM pg_namespace"
                " WHERE nspname = current_schema()"
            ),
        }


def refused_to(conn: psycopg.Connection, statement: str) -> str:
    """The SQLSTATE of the error ``statement`` fails with; changes nothing."""
    try:
        with conn.transaction():
            conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            conn.execute(statement)
    except psycopg.Error as error:
        return error.sqlstate or ""
    raise AssertionError(f"{statement!r} was allowed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "KOBLING_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}",
        "DATABASE_URL": database_url,
        "EMAIL_URL": "consolemail://",
        # Required in production; /health/ says whether they answer, pages work without them.
        "CACHE_URL": os.environ.get("CACHE_URL") or "redis://127.0.0.1:1/0",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:1/0",
        **extra,
    }


def get(port: int, path: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers={"Host": HOST, "X-Forwarded-Proto": "https", "Accept-Language": "nb"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def assert_access_log_protected(server: Server, database: str) -> None:
    """The service's role may only read the access log and add to it; even the owner cannot
    change or empty it."""
    with server.connect(database, server.app_role) as app:
        for statement in (
            f"UPDATE {LOG} SET object_repr = ''",
            f"DELETE FROM {LOG}",
            f"TRUNCATE {LOG}",
            f"ALTER TABLE {LOG} DISABLE TRIGGER ALL",
            f"DROP TABLE {LOG}",
        ):
            assert refused_to(app, statement) == "42501", statement
        with app.transaction(force_rollback=True):
            app.execute(
                f"INSERT INTO {LOG} (object_pk, object_repr, action, changes_text, timestamp,"
                " channel, content_type_id) SELECT '1', 'Referral #1', 3, '', now(), 'portal', id"
                " FROM django_content_type LIMIT 1"
            )
    with server.connect(database) as owner:
        for statement in (f"UPDATE {LOG} SET object_repr = ''", f"DELETE FROM {LOG}"):
            assert refused_to(owner, statement) == "P0001", statement  # the trigger's exception
        assert refused_to(owner, f"TRUNCATE {LOG} CASCADE") == "P0001"


def assert_service_starts_on(
    server: Server, database: str, static_root: Path, broker: str | None = None
) -> None:
    """Its migrations are all there, and after the release step's collectstatic the web server
    (scripts/serve web) answers, reading the database as the service's role; with `broker`,
    /health/ finds that broker answering too."""
    owner_env = production_env(
        server.database_url(database),
        DATABASE_APP_ROLE=server.app_role,
        STATIC_ROOT=str(static_root),
    )
    ran(run([sys.executable, "manage.py", "migrate", "--check"], owner_env))
    ran(run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], owner_env))
    with server.connect(database) as conn:
        programme, organisation = conn.execute(
            "SELECT p.slug, o.name FROM programmes_programmesite s"
            " JOIN programmes_programme p ON p.id = s.programme_id"
            " JOIN programmes_organisation o ON o.id = s.organisation_id ORDER BY s.id LIMIT 1"
        ).fetchone()
    port = free_port()
    web_env = production_env(
        server.database_url(database, server.app_role),
        STATIC_ROOT=str(static_root),
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="1",
        WEB_THREADS="2",
        **({"CELERY_BROKER_URL": broker} if broker else {}),
    )
    log = static_root.parent / "web.log"
    with log.open("w") as output:
        web = subprocess.Popen(
            ["scripts/serve", "web"],
            env={**INHERITED, **web_env},
            cwd=BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = get(port, "/health/")
                break
            except OSError:
                assert web.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the web server did not answer in 60 s"
                time.sleep(0.2)
        assert (status, json.loads(body)["database"]) == (200, "ok"), body
        if broker:
            assert json.loads(body)["broker"] == "ok", body
        slug = organisation_slug(Organisation(name=organisation))
        status, page = get(port, f"/apply/{programme}/{slug}/")
        assert status == 200, page
        assert escape(organisation) in page
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(timeout=20)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()


@pytest.mark.slow
def test_a_backup_of_a_seeded_database_restores_whole_protected_and_serving(
    server, scratch, gpg_key, tmp_path
):
    public_key, gnupg_home = gpg_key
    source, restored = f"{scratch}_source", f"{scratch}_restored"
    seed(server, source)
    backups = tmp_path / "backups"

    made = ran(
        run(
            ["scripts/backup"],
            {
                "DATABASE_URL": server.database_url(source),
                "BACKUP_DIR": backups,
                "BACKUP_PUBLIC_KEY": public_key,
            },
        )
    )

    [backup] = backups.iterdir()
    assert re.fullmatch(rf"kobling-{source}-\d{{4}}-\d\d-\d\dT\d{{6}}Z\.dump\.gpg", backup.name)
    assert made.startswith(f"Backup: {backup} (")
    assert backup.stat().st_mode & 0o077 == 0, "readable by others"
    # Encrypted: nothing of the dump is readable without the operator's private key.
    assert not backup.read_bytes().startswith(b"PGDMP")
    assert b"programmes_auditlogentry" not in backup.read_bytes()
    assert run(["pg_restore", "--list", backup], {}).returncode != 0

    restoring = {"GNUPGHOME": gnupg_home, "DATABASE_APP_ROLE": server.app_role}
    said = ran(run(["scripts/restore", backup, server.database_url(restored)], restoring))

    assert said.startswith(f"Restored {backup.name} into {restored}: ")
    before, after = snapshot(server, source), snapshot(server, restored)
    assert before["rows"][LOG][0] > 0 and before["rows"]["auth_user"][0] > 0
    assert len(before["rows"]) == len(after["rows"]) > 50
    for part in before:
        assert after[part] == before[part], part
    assert len([name for name in after["triggers"] if name.startswith(LOG + ".")]) == 2

    assert_access_log_protected(server, restored)

    # A restore never writes over a database with tables in it.
    again = run(["scripts/restore", backup, server.database_url(restored)], restoring)
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        == f"restore: the database {restored} is not empty: restore into a new one."
    )
    assert snapshot(server, restored)["rows"] == before["rows"]

    assert_service_starts_on(
        server, restored, tmp_path / "static", os.environ.get("CELERY_BROKER_URL")
    )
    # Once with RabbitMQ as the broker (CI machines have it; skipped elsewhere with the reason).
    assert_service_starts_on(server, restored, tmp_path / "static", rabbitmq_or_skip())


def test_backup_refuses_to_run_without_what_it_needs(tmp_path):
    environment = {
        "DATABASE_URL": "postgres://kobling_owner@127.0.0.1:5432/kobling",
        "BACKUP_DIR": str(tmp_path / "backups"),
    }

    missing_key = run(["scripts/backup"], environment)
    not_a_key = run(["scripts/backup"], {**environment, "BACKUP_PUBLIC_KEY": "/etc/hostname"})
    no_dir = run(["scripts/backup"], {**environment, "BACKUP_DIR": ""})

    assert missing_key.returncode == not_a_key.returncode == no_dir.returncode == 1
    assert "BACKUP_PUBLIC_KEY is not set" in missing_key.stderr
    assert "backups are always encrypted" in missing_key.stderr
    assert not_a_key.stderr == "backup: BACKUP_PUBLIC_KEY=/etc/hostname is not an OpenPGP key.\n"
    assert no_dir.stderr.startswith("backup: BACKUP_DIR is not set")
    assert not (tmp_path / "backups").exists()


def test_backup_refuses_a_private_key_and_keeps_the_days_asked_for(
    server, scratch, gpg_key, tmp_path
):
    public_key, gnupg_home = gpg_key
    database = f"{scratch}_small"
    with server.connect("postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    private_key = tmp_path / "private.asc"
    private_key.write_text(
        ran(
            run(
                [
                    "gpg",
                    "--batch",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    "",
                    "--armor",
                    "--export-secret-keys",
                ],
                {"GNUPGHOME": gnupg_home},
            )
        )
    )
    backups = tmp_path / "backups"
    backups.mkdir()
    now = time.time()
    ages = {
        f"kobling-{database}-2026-01-01T000000Z.dump.gpg": 31,
        f"kobling-{database}-2026-01-03T000000Z.dump.gpg": 29,
        "kobling-another-2026-01-01T000000Z.dump.gpg": 40,
        "notes.txt": 400,
    }
    for name, days in ages.items():
        (backups / name).write_text("")
        os.utime(backups / name, (now - days * 86400, now - days * 86400))
    environment = {
        "DATABASE_URL": server.database_url(database),
        "BACKUP_DIR": str(backups),
        "BACKUP_KEEP_DAYS": "30",
    }

    refused = run(["scripts/backup"], {**environment, "BACKUP_PUBLIC_KEY": private_key})
    left_after_refusal = sorted(p.name for p in backups.iterdir())
    made = ran(run(["scripts/backup"], {**environment, "BACKUP_PUBLIC_KEY": public_key}))

    assert refused.returncode == 1
    assert "holds a private key: keep it off this machine" in refused.stderr
    assert left_after_refusal == sorted(ages)
    assert made.endswith("deleted 1 older than 30 days.\n")
    kept = sorted(p.name for p in backups.iterdir())
    assert f"kobling-{database}-2026-01-01T000000Z.dump.gpg" not in kept
    assert len(kept) == 4
    assert {f"kobling-{database}-2026-01-03T000000Z.dump.gpg", "notes.txt"} < set(kept)
