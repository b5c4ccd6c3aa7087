"""Least privilege in PostgreSQL: the service's role owns nothing, may only SELECT and INSERT the
access log, and so cannot empty it or switch off its triggers (config/database_roles.py). The
tests connect as that role (tests/app_role.py), so what is refused here is refused to anyone
holding the service's credentials."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from core import database_roles
from programmes.audit import referrals_log_read
from programmes.models import AuditLogEntry, Referral

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LOG = AuditLogEntry._meta.db_table
INSUFFICIENT_PRIVILEGE = "42501"


@pytest.fixture
def app_role():
    if not settings.DATABASE_APP_ROLE:
        pytest.skip("needs a restricted role: set DATABASE_APP_ROLE (CI=true does)")
    return settings.DATABASE_APP_ROLE


@pytest.fixture
def row(world, app_role):
    referrals_log_read(world.users["coord_x"], [world.referral_x], "portal")
    return AuditLogEntry.objects.get(action=AuditLogEntry.Action.ACCESS)


def scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_the_tests_connect_as_the_restricted_role_which_is_no_superuser(app_role):
    assert scalar("SELECT current_user") == app_role
    assert scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") is False


def test_the_restricted_role_owns_nothing_and_may_act_as_no_owner(app_role):
    owned = scalar(
        "SELECT count(*) FROM pg_class c WHERE pg_has_role(current_user, c.relowner, 'MEMBER')"
        " AND c.relnamespace = current_schema()::regnamespace"
    )
    tables = scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        " AND pg_has_role(current_user, tableowner, 'MEMBER')"
    )
    owns_schema = scalar(
        "SELECT pg_has_role(current_user, nspowner, 'MEMBER') FROM pg_namespace"
        " WHERE nspname = current_schema()"
    )

    assert (owned, tables, owns_schema) == (0, 0, False)


REFUSED = {
    "update": f"UPDATE {LOG} SET object_id = 0",
    "delete": f"DELETE FROM {LOG}",
    "truncate": f"TRUNCATE {LOG}",
    "truncate cascade from users": "TRUNCATE auth_user CASCADE",
    "disable the row trigger": (
        f"ALTER TABLE {LOG} DISABLE TRIGGER programmes_auditlogentry_append_only"
    ),
    "disable the truncate trigger": (
        f"ALTER TABLE {LOG} DISABLE TRIGGER programmes_auditlogentry_no_truncate"
    ),
    "disable every trigger": f"ALTER TABLE {LOG} DISABLE TRIGGER ALL",
    "drop the row trigger": f"DROP TRIGGER programmes_auditlogentry_append_only ON {LOG}",
    "drop the truncate trigger": f"DROP TRIGGER programmes_auditlogentry_no_truncate ON {LOG}",
    "drop the trigger function": "DROP FUNCTION programmes_auditlogentry_forbid_change() CASCADE",
    "replace the trigger function": (
        "CREATE OR REPLACE FUNCTION programmes_auditlogentry_forbid_change() RETURNS trigger"
        " AS $$ BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql"
    ),
    "rename the table": f"ALTER TABLE {LOG} RENAME TO old_log",
    "drop the table": f"DROP TABLE {LOG} CASCADE",
    "take over the table": f"ALTER TABLE {LOG} OWNER TO CURRENT_USER",
    "forge a migration record": (
        "INSERT INTO django_migrations (app, name, applied) VALUES ('programmes', 'x', now())"
    ),
}


@pytest.mark.parametrize("sql", REFUSED.values(), ids=REFUSED.keys())
def test_the_restricted_role_cannot_change_empty_or_unguard_the_access_log(row, sql):
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as c:
        # Checked now, so that no deferred foreign-key check stands in the way of an ALTER.
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        c.execute(sql)

    assert refused.value.__cause__.sqlstate == INSUFFICIENT_PRIVILEGE, refused.value

    assert AuditLogEntry.objects.filter(pk=row.pk, channel="portal").exists()
    assert (
        scalar(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgenabled = 'O'"
            " AND NOT tgisinternal",
            [LOG],
        )
        == 2
    )


def test_the_restricted_role_may_insert_and_read_the_log_and_only_that(row, world):
    referrals_log_read(world.users["coord_x"], [world.referral_x], "api")  # INSERT
    privileges = {
        privilege: scalar("SELECT has_table_privilege(%s, %s)", [LOG, privilege])
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
    }

    reads = AuditLogEntry.objects.filter(action=AuditLogEntry.Action.ACCESS)  # SELECT
    assert sorted(reads.values_list("channel", flat=True)) == ["api", "portal"]
    assert privileges == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
        "TRIGGER": False,
    }


def test_the_restricted_role_may_read_and_write_the_other_tables_but_not_truncate_them(app_role):
    found = {
        table: (
            scalar("SELECT has_table_privilege(%s, 'SELECT, INSERT, UPDATE, DELETE')", [table]),
            scalar("SELECT has_table_privilege(%s, 'TRUNCATE, TRIGGER, REFERENCES')", [table]),
        )
        for table in connection.introspection.table_names()
        if table not in (LOG, "django_migrations")
    }
    sequences = scalar(
        "SELECT bool_and(has_sequence_privilege(c.oid, 'USAGE')) FROM pg_class c"
        " WHERE c.relkind = 'S' AND c.relnamespace = current_schema()::regnamespace"
    )

    assert Referral._meta.db_table in found
    assert {table: rights for table, rights in found.items() if rights != (True, False)} == {}
    assert sequences is True


def test_migrate_refuses_a_service_role_that_could_undo_the_grants(app_role, settings):
    owner = scalar("SELECT tableowner FROM pg_tables WHERE tablename = %s", [LOG])
    messages = {}
    for role in (app_role, owner, "kobling_nobody"):
        settings.DATABASE_APP_ROLE = role
        messages[role] = [e.msg for e in database_roles.check_app_role(databases=["default"])]

    assert any("is the role migrate connects as" in m for m in messages[app_role])
    assert any("owns" in m for m in messages[owner])
    assert messages["kobling_nobody"] == ["DATABASE_APP_ROLE=kobling_nobody: no such role."]


def test_production_refuses_to_migrate_postgres_without_a_service_role(settings):
    settings.KOBLING_ENV = "production"
    settings.DATABASE_APP_ROLE = None

    errors = database_roles.check_app_role(databases=["default"])

    assert [e.id for e in errors] == ["kobling.E001"]
