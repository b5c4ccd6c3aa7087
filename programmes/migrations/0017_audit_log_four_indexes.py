# The access log takes a row per referral shown, and each index costs every row: twelve indexes
# become four (programmes.models.AuditLogEntry says which and why). The database side is done
# by hand: letting Django alter each field would rebuild the table on SQLite, dropping its
# append-only trigger (0006), and drop and re-check both foreign keys on PostgreSQL.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "programmes_auditlogentry"
# Django's names for the library's single-column indexes; PostgreSQL also has a "_like"
# index (varchar_pattern_ops) for each text column.
DROPPED = {
    "programmes_auditlogentry_object_pk_6022530c": ("object_pk", True),
    "programmes_auditlogentry_object_id_674959db": ("object_id", False),
    "programmes_auditlogentry_action_2a664244": ("action", False),
    "programmes_auditlogentry_cid_5ff59948": ("cid", True),
    "programmes_auditlogentry_channel_cefaa83d": ("channel", True),
    "programmes_auditlogentry_actor_id_c34889d9": ("actor_id", False),
    "programmes_auditlogentry_content_type_id_5d1f11b3": ("content_type_id", False),
}
CREATED = {
    "auditlog_object": ("object_id", "content_type_id"),
    "auditlog_actor_timestamp": ("actor_id", "timestamp"),
}


def _like(schema_editor, text: bool) -> bool:
    return text and schema_editor.connection.vendor == "postgresql"


def four_indexes(apps, schema_editor):
    for name, (_column, text) in DROPPED.items():
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        if _like(schema_editor, text):
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}_like"')
    for name, columns in CREATED.items():
        quoted = ", ".join(f'"{c}"' for c in columns)
        schema_editor.execute(f'CREATE INDEX "{name}" ON "{TABLE}" ({quoted})')


def twelve_indexes(apps, schema_editor):
    for name in CREATED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    for name, (column, text) in DROPPED.items():
        schema_editor.execute(f'CREATE INDEX "{name}" ON "{TABLE}" ("{column}")')
        if _like(schema_editor, text):
            schema_editor.execute(
                f'CREATE INDEX "{name}_like" ON "{TABLE}" ("{column}" varchar_pattern_ops)'
            )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0016_activities_child_ages_language_level"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="action",
                    field=models.PositiveSmallIntegerField(
                        choices=[(0, "create"), (1, "update"), (2, "delete"), (3, "access")],
                        verbose_name="action",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="actor",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="channel",
                    field=models.CharField(
                        choices=[
                            ("portal", "Portal"),
                            ("api", "API"),
                            ("admin", "Admin"),
                            ("export", "Export"),
                            ("task", "Background task"),
                        ],
                        default="task",
                        max_length=10,
                        verbose_name="channel",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="cid",
                    field=models.CharField(
                        blank=True, max_length=255, null=True, verbose_name="Correlation ID"
                    ),
                ),
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="content_type",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="content type",
                    ),
                ),
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="object_id",
                    field=models.BigIntegerField(blank=True, null=True, verbose_name="object id"),
                ),
                migrations.AlterField(
                    model_name="auditlogentry",
                    name="object_pk",
                    field=models.CharField(max_length=255, verbose_name="object pk"),
                ),
                migrations.AddIndex(
                    model_name="auditlogentry",
                    index=models.Index(
                        fields=["object_id", "content_type"], name="auditlog_object"
                    ),
                ),
                migrations.AddIndex(
                    model_name="auditlogentry",
                    index=models.Index(
                        fields=["actor", "timestamp"], name="auditlog_actor_timestamp"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(four_indexes, twelve_indexes)],
        ),
    ]
