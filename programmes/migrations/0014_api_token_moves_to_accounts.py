# ApiToken belongs to accounts (accounts/models.py); its table stays where it is.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("programmes", "0013_casework")]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel("ApiToken")])
    ]
