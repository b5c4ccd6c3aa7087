# API tokens expire (issue 12). A token made before this migration gets the whole period from the
# day the migration runs, so no integration stops working at the moment of the upgrade.

import datetime

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def api_token_expiry():
    """The model's default when this ran; the model has since moved to accounts."""
    return timezone.now() + datetime.timedelta(days=settings.API_TOKEN_DAYS)


class Migration(migrations.Migration):
    dependencies = [("programmes", "0007_lifecycle")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                default=api_token_expiry, verbose_name="expires at"
            ),
        ),
    ]
