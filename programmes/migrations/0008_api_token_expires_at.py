# API tokens expire (issue 12). A token made before this migration gets the whole period from the
# day the migration runs, so no integration stops working at the moment of the upgrade.

from django.db import migrations, models

import programmes.models


class Migration(migrations.Migration):
    dependencies = [("programmes", "0007_lifecycle")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                default=programmes.models.api_token_expiry, verbose_name="expires at"
            ),
        ),
    ]
