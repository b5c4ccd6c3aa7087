"""Admin history written before ids were used loses its aliases and names on upgrade
(programmes/migrations/0012_admin_history_by_id)."""

import importlib
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from programmes.models import Referral
from tests.programmes.factories import ReferralFactory, UserFactory

pytestmark = pytest.mark.django_db
migration = importlib.import_module("programmes.migrations.0012_admin_history_by_id")


def test_old_history_names_objects_by_id_only():
    referral = ReferralFactory(alias="Kari Nordmann")
    message = [{"added": {"name": "vetting record", "object": "Politiattest for Kari"}}]
    entry = LogEntry.objects.create(
        user=UserFactory(is_staff=True),
        content_type=ContentType.objects.get_for_model(Referral),
        object_id=str(referral.pk),
        object_repr="Kari Nordmann",
        action_flag=CHANGE,
        change_message=json.dumps(message),
    )

    migration.history_by_id(apps, None)

    entry.refresh_from_db()
    assert entry.object_repr == f"Referral #{referral.pk}"
    assert "Kari" not in entry.change_message
    assert "vetting record" in entry.get_change_message()
