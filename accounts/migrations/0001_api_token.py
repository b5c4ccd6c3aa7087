# ApiToken moves here from programmes (programmes 0014) with its table, programmes_apitoken:
# only Django's idea of which app owns it changes, and the content type that the access log
# and permissions point at follows.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import accounts.models


def content_type_to_accounts(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects
    content_types.filter(app_label="programmes", model="apitoken").update(app_label="accounts")


def content_type_to_programmes(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects
    content_types.filter(app_label="accounts", model="apitoken").update(app_label="programmes")


API_TOKEN = migrations.CreateModel(
    name="ApiToken",
    fields=[
        (
            "id",
            models.BigAutoField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
        ("name", models.CharField(max_length=100, verbose_name="name")),
        (
            "scope",
            models.CharField(
                choices=[("read", "Read only"), ("write", "Read and write")],
                max_length=10,
                verbose_name="scope",
            ),
        ),
        (
            "key_hash",
            models.CharField(max_length=64, unique=True, verbose_name="SHA-256 of the token"),
        ),
        ("prefix", models.CharField(max_length=12, verbose_name="first characters")),
        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
        ("last_used_at", models.DateTimeField(blank=True, null=True, verbose_name="last used at")),
        ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked at")),
        (
            "expires_at",
            models.DateTimeField(
                default=accounts.models.api_token_expiry, verbose_name="expires at"
            ),
        ),
        (
            "crisis_centre",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_tokens",
                to="programmes.crisiscentre",
            ),
        ),
        (
            "user",
            models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="api_tokens",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ],
    options={
        "verbose_name": "API token",
        "verbose_name_plural": "API tokens",
        "db_table": "programmes_apitoken",
        "ordering": ["-created_at"],
    },
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0014_api_token_moves_to_accounts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[API_TOKEN]),
        migrations.RunPython(content_type_to_accounts, content_type_to_programmes),
    ]
