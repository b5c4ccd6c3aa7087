"""The API tests' small world (two centres, their staff and coordinators, a matched volunteer and
an admin) serves here too: it has a row behind every kind of URL."""

import pytest
from django.core.cache import cache
from django.test import Client

PASSWORD = "kobling-test"


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def english_client() -> Client:
    """A client that asks for English pages, so assertions can read the text."""
    return Client(headers={"accept-language": "en"})


def log_in(client: Client, username: str, password: str = PASSWORD, **data):
    return client.post("/accounts/login/", {"username": username, "password": password, **data})
