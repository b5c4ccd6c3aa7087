"""The small world (tests/world.py), signed-in clients for it, and a look at
the access log's rows."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from programmes.models import AuditLogEntry
from tests.auth import login_verified

ACCESS = AuditLogEntry.Action.ACCESS


@pytest.fixture
def portal_as(world):
    def make(role: str) -> Client:
        client = Client()
        login_verified(client, world.users[role])
        return client

    return make


@pytest.fixture
def api_as(world):
    def make(role: str) -> APIClient:
        client = APIClient()
        login_verified(client, world.users[role])
        return client

    return make


@pytest.fixture
def reads_since():
    """The read rows written after this fixture was set up, as (actor id, referral id, channel)."""
    before = AuditLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def rows() -> list[tuple]:
        new = AuditLogEntry.objects.filter(pk__gt=before, action=ACCESS).order_by("object_id")
        return list(new.values_list("actor_id", "object_id", "channel"))

    return rows
