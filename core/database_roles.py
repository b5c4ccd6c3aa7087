"""Least privilege in PostgreSQL (docs/deployment.md, "Database roles").

Two roles. The owner owns every table; only ``manage.py migrate`` connects as it. The service
(web, worker, beat) connects as DATABASE_APP_ROLE, which owns nothing: it cannot TRUNCATE,
ALTER or drop a table, nor disable or drop a trigger. After every migrate run as the owner with
DATABASE_APP_ROLE set, the grants below are made again from scratch (so they are idempotent and
cover new tables): SELECT, INSERT, UPDATE and DELETE on every table and use of every sequence,
but only SELECT and INSERT on the access log and only SELECT on django_migrations.

No ALTER DEFAULT PRIVILEGES: a table a migration creates is granted by the post_migrate handler
of the same run, after someone decided what the role may do with it, never before.

Before migrating, a database check (run by ``migrate``) refuses a DATABASE_APP_ROLE that could
undo this: missing, the role migrate connects as, a superuser, or one that owns (or may act as
the owner of) a table or the schema. Production refuses to migrate PostgreSQL without it.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

ACCESS_LOG = "programmes_auditlogentry"
MIGRATIONS_TABLE = "django_migrations"
DOCS = "See docs/deployment.md, 'Database roles'."


def app_role_grant(connection: BaseDatabaseWrapper, role: str) -> None:
    """Grant ``role`` exactly what the service needs; run as the owner of the tables."""
    problems = app_role_problems(connection, role)
    if problems:
        raise ImproperlyConfigured(" ".join(problems) + " " + DOCS)
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema, to = quote(cursor.fetchone()[0]), quote(role)
        for statement in (
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {to}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {to}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {to}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {to}",
            f"REVOKE UPDATE, DELETE ON {quote(ACCESS_LOG)} FROM {to}",
            f"REVOKE INSERT, UPDATE, DELETE ON {quote(MIGRATIONS_TABLE)} FROM {to}",
        ):
            cursor.execute(statement)


def app_role_problems(connection: BaseDatabaseWrapper, role: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.rolname = current_user, r.rolsuper,
                   (SELECT count(*) FROM pg_class c
                    WHERE c.relnamespace = current_schema()::regnamespace
                      AND pg_has_role(r.oid, c.relowner, 'MEMBER')),
                   pg_has_role(r.oid, (SELECT nspowner FROM pg_namespace
                                       WHERE nspname = current_schema()), 'MEMBER')
            FROM pg_roles r WHERE r.rolname = %s
            """,
            [role],
        )
        found = cursor.fetchone()
    if found is None:
        return [f"DATABASE_APP_ROLE={role}: no such role."]
    is_migrator, superuser, owned, owns_schema = found
    problems = []
    if is_migrator:
        problems.append(
            f"DATABASE_APP_ROLE={role} is the role migrate connects as; "
            "migrate as the owner, run the service as the restricted role."
        )
    if superuser:
        problems.append(f"DATABASE_APP_ROLE={role} is a superuser.")
    if owned:
        problems.append(
            f"DATABASE_APP_ROLE={role} owns {owned} tables or sequences, or may act as their "
            "owner; reassign them to the owner role (REASSIGN OWNED)."
        )
    if owns_schema:
        problems.append(f"DATABASE_APP_ROLE={role} owns the schema, so it could drop tables.")
    return problems


def grant_after_migrate(
    sender, using: str, plan=None, verbosity: int = 1, stdout=None, **kwargs
) -> None:
    role = settings.DATABASE_APP_ROLE
    connection = connections[using]
    # `flush` sends post_migrate too, without a plan: it empties tables, their grants stay.
    if not role or connection.vendor != "postgresql" or plan is None:
        return
    app_role_grant(connection, role)
    if verbosity >= 1 and stdout is not None:
        stdout.write(f"  Granted {role} the service's privileges (access log: SELECT, INSERT).")


def check_app_role(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """Run by migrate (a database check), before anything is migrated."""
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return []
    role = settings.DATABASE_APP_ROLE
    if role:
        problems = app_role_problems(connection, role)
        return [checks.Error(problem, hint=DOCS, id="kobling.E002") for problem in problems]
    if settings.KOBLING_ENV == "production":
        return [
            checks.Error(
                "DATABASE_APP_ROLE is not set: in production, migrate as the owner role with "
                "DATABASE_APP_ROLE naming the service's restricted role.",
                hint=DOCS,
                id="kobling.E001",
            )
        ]
    return []


def register(app_config) -> None:
    """From ProgrammesConfig.ready(): once per migrate, after every app's tables exist."""
    from django.db.models.signals import post_migrate

    post_migrate.connect(grant_after_migrate, sender=app_config, dispatch_uid="kobling_app_role")
    checks.register(check_app_role, checks.Tags.database)
