from django.db import migrations, models

import programmes.validators


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0003_privacy"),
    ]

    operations = [
        migrations.AlterField(
            model_name="volunteer",
            name="interests",
            field=models.CharField(
                blank=True,
                help_text="Comma-separated.",
                max_length=300,
                validators=[programmes.validators.validate_no_identifying_data],
                verbose_name="interests and activities",
            ),
        ),
    ]
