"""Fixtures for the API tests, on the small world of tests/world.py (the ``world`` fixture)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.auth import login_verified


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttle counts live in the cache (Redis under CI); each test starts from zero."""
    cache.clear()


@pytest.fixture
def client_for(world):
    def make(role: str) -> APIClient:
        client = APIClient()
        if role == "volunteer":
            # Volunteers need no second factor unless they turned it on.
            client.force_login(world.users[role])
        elif role != "anonymous":
            login_verified(client, world.users[role])
        return client

    return make
