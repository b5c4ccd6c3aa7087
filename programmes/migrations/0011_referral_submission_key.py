from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("programmes", "0010_free_text_screening")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="submission_key",
            field=models.CharField(
                blank=True, editable=False, max_length=100, verbose_name="submission key"
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="submission_fingerprint",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                verbose_name="keyed hash of what was submitted",
            ),
        ),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.UniqueConstraint(
                condition=models.Q(("submission_key", ""), _negated=True),
                fields=("consent_recorded_by", "submission_key"),
                name="referral_submitted_once_per_key",
            ),
        ),
    ]
