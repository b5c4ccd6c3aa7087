import django.db.models
from django.db import migrations

import programmes.models
import programmes.validators


class Migration(migrations.Migration):
    dependencies = [
        ("programmes", "0009_audit_log_refuses_truncate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="referral",
            name="alias",
            field=django.db.models.CharField(
                default=programmes.models.new_alias,
                help_text="Made by Kobling: it says nothing about the person.",
                max_length=30,
                unique=True,
                validators=[programmes.models.validate_alias],
                verbose_name="participant alias",
            ),
        ),
        migrations.AlterField(
            model_name="referral",
            name="notes",
            field=django.db.models.CharField(
                blank=True,
                help_text=(
                    "Optional. Never names, addresses or ID numbers. Not sent by e-mail or kept "
                    "in the access log, and deleted with the rest of the referral."
                ),
                max_length=280,
                validators=[programmes.validators.validate_no_identifying_data],
                verbose_name="short note for the coordinator",
            ),
        ),
        migrations.AlterField(
            model_name="referral",
            name="withdrawal_note",
            field=django.db.models.CharField(
                blank=True,
                help_text="Optional. Never names, addresses or ID numbers.",
                max_length=280,
                validators=[programmes.validators.validate_no_identifying_data],
                verbose_name="note on the withdrawal",
            ),
        ),
    ]
