from django.db import migrations

# The row trigger of 0006 refuses UPDATE and DELETE; row triggers do not fire on TRUNCATE, so a
# statement trigger refuses that too, for every role including the owner (also when another
# table's TRUNCATE ... CASCADE reaches the log). The service's role may not TRUNCATE anyway
# (config/database_roles.py); the test runner's flush disables this trigger inside its own
# transaction (tests/app_role.py). SQLite has no TRUNCATE.
POSTGRES_FORBID_TRUNCATE = """
CREATE TRIGGER programmes_auditlogentry_no_truncate
    BEFORE TRUNCATE ON programmes_auditlogentry
    FOR EACH STATEMENT EXECUTE FUNCTION programmes_auditlogentry_forbid_change();
"""
POSTGRES_ALLOW_TRUNCATE = (
    "DROP TRIGGER programmes_auditlogentry_no_truncate ON programmes_auditlogentry;"
)


def forbid_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORBID_TRUNCATE, params=None)


def allow_truncate(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_ALLOW_TRUNCATE, params=None)


class Migration(migrations.Migration):
    dependencies = [("programmes", "0008_api_token_expires_at")]

    operations = [migrations.RunPython(forbid_truncate, allow_truncate)]
