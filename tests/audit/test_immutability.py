"""The access log is append-only: the database refuses to change or remove a row, so neither a
bug nor someone with the application's credentials can rewrite who saw what. On PostgreSQL the
service's role has no right to (tests/audit/test_database_roles.py), and the triggers refuse it
even to the role that owns the table."""

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from programmes.audit import referrals_log_read
from programmes.models import AuditLogEntry
from tests import app_role

pytestmark = pytest.mark.django_db

TABLE = AuditLogEntry._meta.db_table


@pytest.fixture
def row(world):
    referrals_log_read(world.users["coord_x"], [world.referral_x], "portal")
    return AuditLogEntry.objects.get(action=AuditLogEntry.Action.ACCESS)


def refused(change) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        change()


def assert_unchanged(row: AuditLogEntry) -> None:
    stored = AuditLogEntry.objects.get(pk=row.pk)
    assert (stored.actor_id, stored.object_id, stored.channel) == (
        row.actor_id,
        row.object_id,
        row.channel,
    )


def raw_sql(sql: str, row: AuditLogEntry):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql % TABLE, [row.pk])

    return run


def test_update_is_refused(row):
    refused(lambda: AuditLogEntry.objects.filter(pk=row.pk).update(channel="api"))
    refused(raw_sql("UPDATE %s SET object_id = 0 WHERE id = %%s", row))

    assert_unchanged(row)


@pytest.mark.postgres
def test_delete_is_refused_on_postgres(row):
    refused(lambda: AuditLogEntry.objects.filter(pk=row.pk).delete())
    refused(lambda: AuditLogEntry.objects.get(pk=row.pk).delete())
    refused(raw_sql("DELETE FROM %s WHERE id = %%s", row))

    assert_unchanged(row)


@pytest.mark.postgres
def test_saving_a_row_again_is_refused_on_postgres(row):
    row.channel = "admin"

    refused(row.save)

    assert AuditLogEntry.objects.get(pk=row.pk).channel == "portal"


def test_a_user_with_audit_rows_cannot_be_deleted(row, world):
    # Setting the actor to null would rewrite the log; users are anonymised instead.
    with pytest.raises(ProtectedError):
        world.users["coord_x"].delete()


OWNER_REFUSED = {
    "update": f"UPDATE {TABLE} SET object_id = 0 WHERE id = %s",
    "delete": f"DELETE FROM {TABLE} WHERE id = %s",
    "truncate": f"TRUNCATE {TABLE}",
    "truncate through a cascade": "TRUNCATE auth_user, django_content_type CASCADE",
}


@pytest.mark.postgres
@pytest.mark.parametrize("sql", OWNER_REFUSED.values(), ids=OWNER_REFUSED.keys())
def test_even_the_owner_of_the_table_cannot_change_or_empty_the_log_on_postgres(sql):
    with app_role.owner_connection() as owner:
        try:
            row_id = owner.execute(
                f"INSERT INTO {TABLE} (object_pk, object_repr, action, changes_text, timestamp,"
                " channel, content_type_id) SELECT '1', 'Referral #1', 3, '', now(), 'portal', id"
                " FROM django_content_type LIMIT 1 RETURNING id"
            ).fetchone()[0]
            owner.execute("SET CONSTRAINTS ALL IMMEDIATE")  # a TRUNCATE waits for no FK check

            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                owner.execute(sql, [row_id] if "%s" in sql else None)
        finally:
            owner.rollback()
