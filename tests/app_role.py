"""The suite runs as the service does (docs/deployment.md, "Database roles").

The test database is created and migrated by the owner role that DATABASE_URL names; the
post_migrate grants (config/database_roles.py) then give the restricted role DATABASE_APP_ROLE
(under CI=true, kobling_app) what the service gets, and every test connects as that role. Two
things still need the owner: destroying the test database at the end, and the flush that
empties every table after a transactional test with TRUNCATE, which the restricted role may not
run. The access log's statement trigger refuses TRUNCATE even to the owner, so the flush runs
with that one trigger disabled inside the flush's own transaction: no other session ever sees
the log without it. Tests only; nothing in the application can do this.

``python -m tests.app_role`` creates the two roles for CI (scripts/test runs it), connecting as
the superuser DATABASE_SUPERUSER_URL (default: user postgres on DATABASE_URL's server).
"""

import contextlib
import os
import re
import sys
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg import sql

CI_APP_ROLE = "kobling_app"
ACCESS_LOG = "programmes_auditlogentry"
TRUNCATE_TRIGGER = "programmes_auditlogentry_no_truncate"


@dataclass(frozen=True)
class Login:
    user: str
    password: str


def role_for_tests() -> str | None:
    """The role the tests connect as: DATABASE_APP_ROLE, or kobling_app under CI=true."""
    from django.conf import settings

    if not settings.DATABASE_IS_POSTGRES:
        return None
    return settings.DATABASE_APP_ROLE or (CI_APP_ROLE if settings.CI else None)


def _current() -> Login:
    from django.db import connections

    db = connections["default"].settings_dict
    return Login(db["USER"], db["PASSWORD"])


def _connect_as(login: Login) -> None:
    """Later queries open a new connection as ``login`` (the settings dict is shared by every
    thread's connection, so a live server's too)."""
    from django.db import connections

    connections.close_all()
    db = connections["default"].settings_dict
    db["USER"], db["PASSWORD"] = login.user, login.password


_owner: Login | None = None


def owner_connection() -> psycopg.Connection:
    """A separate connection to the test database as the owner, for tests that prove the
    triggers hold even for the role that owns the tables."""
    from django.db import connections

    db = connections["default"].settings_dict
    login = _owner or _current()
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=login.user,
        password=login.password or None,
        dbname=db["NAME"],
        options="-c lock_timeout=10s",
    )


@contextlib.contextmanager
def tests_run_as(role: str | None):
    """For the whole session: the flush after transactional tests runs as the owner, and with a
    role, every test connects as it."""
    global _owner
    from django.test import TransactionTestCase

    _owner = _current()
    original_teardown = TransactionTestCase._fixture_teardown
    TransactionTestCase._fixture_teardown = _flush_as_owner(original_teardown)
    if role:
        _connect_as(Login(role, ""))
    try:
        yield
    finally:
        _connect_as(_owner)
        TransactionTestCase._fixture_teardown = original_teardown
        _owner = None


def _flush_as_owner(flush):
    def fixture_teardown(self) -> None:
        from django.db import connection, transaction

        tests_login = _current()
        _connect_as(_owner)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"ALTER TABLE {ACCESS_LOG} DISABLE TRIGGER {TRUNCATE_TRIGGER}")
                flush(self)
                with connection.cursor() as cursor:
                    cursor.execute(f"ALTER TABLE {ACCESS_LOG} ENABLE TRIGGER {TRUNCATE_TRIGGER}")
        finally:
            _connect_as(tests_login)

    return fixture_teardown


def database_url_for(login_user: str, password: str = "") -> str:
    """DATABASE_URL for a subprocess (a Celery worker) on the test database as ``login_user``."""
    from django.db import connections

    db = connections["default"].settings_dict
    credentials = quote(login_user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{quote(db['NAME'], safe='')}"


# Creating the roles (CI)


def roles_create(superuser_url: str, owner: str, app: str, test_database: str) -> None:
    """Create the owner (LOGIN CREATEDB) and the restricted role (LOGIN) if missing; refuse an
    existing restricted role that could bypass its grants. Changes no role that exists, beyond
    letting the owner create the test database, and hands the owner a test database left over
    by an earlier run as another user (one per pytest-xdist worker), so that it can drop it."""
    with psycopg.connect(superuser_url, autocommit=True, connect_timeout=5) as conn:
        for name, attributes in ((owner, "LOGIN CREATEDB"), (app, "LOGIN")):
            if _role(conn, name) is None:
                with contextlib.suppress(psycopg.errors.DuplicateObject):
                    conn.execute(
                        sql.SQL("CREATE ROLE {} " + attributes).format(sql.Identifier(name))
                    )
        superuser, createdb = _role(conn, owner)
        if not (superuser or createdb):
            conn.execute(sql.SQL("ALTER ROLE {} CREATEDB").format(sql.Identifier(owner)))
        if _role(conn, app)[0]:
            raise SystemExit(f"{app} is a superuser; the tests must run as a restricted role.")
        for database in _test_databases(conn, test_database):
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    sql.Identifier(database), sql.Identifier(owner)
                )
            )


def _test_databases(conn: psycopg.Connection, test_database: str) -> list[str]:
    """The serial run's test database and pytest-xdist's, one per worker (``…_gw0``)."""
    per_worker = re.compile(re.escape(test_database) + r"(_gw\d+)?")
    names = [name for (name,) in conn.execute("SELECT datname FROM pg_database")]
    return [name for name in names if per_worker.fullmatch(name)]


def _role(conn: psycopg.Connection, name: str) -> tuple[bool, bool] | None:
    return conn.execute(
        "SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = %s", [name]
    ).fetchone()


def main() -> None:
    url = urlsplit(os.environ["DATABASE_URL"])
    server = f"{url.hostname or '127.0.0.1'}:{url.port or 5432}"
    superuser_url = (
        os.environ.get("DATABASE_SUPERUSER_URL") or f"postgres://postgres@{server}/postgres"
    )
    owner = unquote(url.username or "")
    app = os.environ.get("DATABASE_APP_ROLE") or CI_APP_ROLE
    try:
        roles_create(superuser_url, owner, app, "test_" + unquote(url.path.lstrip("/")))
    except psycopg.Error as error:
        sys.exit(f"Could not set up the database roles {owner} and {app} at {server}: {error}")
    print(f"Database roles: {owner} owns and migrates the test database, the tests run as {app}.")


if __name__ == "__main__":
    main()
