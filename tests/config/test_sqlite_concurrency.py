"""The demo runs on SQLite with several people at once (scripts/demo, the load test): two who
save at the same moment must both succeed, the second waiting for the first, never getting
"database is locked" (an error page). Checked with the settings' own connection options on a
database file, as the demo uses."""

import threading

import pytest
from django.conf import settings
from django.db.backends.sqlite3.base import DatabaseWrapper

WRITERS = 4
WRITES_EACH = 20


def connection_to(path) -> DatabaseWrapper:
    options = dict(settings.DATABASES["default"].get("OPTIONS", {}))
    return DatabaseWrapper(
        {**settings.DATABASES["default"], "NAME": str(path), "OPTIONS": options, "TEST": {}},
        alias=f"sqlite-{threading.get_ident()}",
    )


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the demo's SQLite settings only")
def test_writers_at_the_same_moment_wait_for_each_other_instead_of_failing(
    tmp_path, django_db_blocker
):
    with django_db_blocker.unblock():  # a database file of its own, not the test database
        writers_at_once(tmp_path / "demo.sqlite3")


def writers_at_once(path) -> None:
    setup = connection_to(path)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE visit (id INTEGER PRIMARY KEY, who TEXT)")
    setup.close()
    errors: list[Exception] = []
    start = threading.Barrier(WRITERS)

    def write(who: int) -> None:
        connection = connection_to(path)
        start.wait()
        try:
            for _ in range(WRITES_EACH):
                # As transaction.atomic() begins one on SQLite: then a read, then a write, the
                # pattern that fails with "database is locked" when the lock comes only at
                # the write.
                connection.ensure_connection()
                connection._start_transaction_under_autocommit()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT COUNT(*) FROM visit")
                    cursor.execute("INSERT INTO visit (who) VALUES (%s)", [str(who)])
                connection.connection.commit()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    check = connection_to(path)
    with check.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM visit")
        assert cursor.fetchone()[0] == WRITERS * WRITES_EACH
    check.close()
